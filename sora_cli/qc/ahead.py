"""What a render's delivery checks will measure, measured while the render is still drawing.

Each shot file is measured as its chain ends and the soundtrack as soon as it
is mixed, by one thread of the render's driver (which only waits for its
workers meanwhile), into the check cache that :func:`sora_cli.qc.run_qc` then
reads: its checks of the written film find the spans and the sound measured
already, by their content, and decode only what nothing measured (the
transitions, and whatever did not match). The report is the same either way.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sora_cli.qc import AUDIO, SPANS
from sora_cli.qc.audio import heard
from sora_cli.qc.spans import measure_range


@dataclass(eq=False)  # (an item is itself: kept in sets by identity)
class _Item:
    work: Callable[..., Any]
    args: tuple[Any, ...]
    early: bool
    done: threading.Event = field(default_factory=threading.Event)


class Ahead:
    """Work handed over runs in threads of the driver, once :meth:`start` is called: early work (what the
    render's assembly waits for) first, then the measures, each in the order given.

    The render calls :meth:`start` once its drawing workers have forked (none may run
    while a process forks), or once the picture is done when the render draws in its
    own process. Working beside the drawing costs the render nothing on a machine the
    workers already fill: what it does not make now waits for a serial tail after the
    picture (a 10-minute film's was 40 s: its 40 transitions made one after the other
    at assembly, and its last shots measured by the checks). :meth:`finish` lets the
    running piece end (a shot being measured stops at its next span) and drops the
    rest: the checks measure those, decoding with threads.
    """

    def __init__(self, cache: Path, ranges: tuple[tuple[int, int], tuple[int, int]] | None):
        """``ranges``: the profile's legal luma and chroma ranges; None: no checks, nothing is measured."""
        self.cache, self.ranges = cache, ranges
        self._ready = threading.Condition()
        self._queue: deque[_Item] = deque()
        self._threads: list[threading.Thread] = []
        self._running: set[_Item] = set()
        self._finished = False

    def shot(self, path: Path, first: int, last: int) -> None:
        """Measure frames ``[first, last)`` of a shot file (those the film copies)."""
        if self.ranges is not None:
            self._submit(_Item(measure_range, (path, first, last, self.ranges, self.cache / SPANS), False))

    def soundtrack(self, path: Path, until: float) -> None:
        """Measure the soundtrack as a film that stops at ``until`` seconds carries it."""
        if self.ranges is not None:
            self._submit(_Item(heard, (path, self.cache / AUDIO, until), False))

    def early(self, work: Callable[..., Any], *args: Any) -> None:
        """Other work of the render that can be done before its turn (the render calls :meth:`settle` before
        its turn comes: work not begun by then is dropped, the render does it itself)."""
        self._submit(_Item(work, args, True))

    def start(self, threads: int = 1) -> None:
        """Work with ``threads`` threads from now on (one while workers still draw or mix; two once the
        driver has nothing else to wait for: a transition and a shot's measures then take both cores)."""
        with self._ready:
            while len(self._threads) < threads and not self._finished:
                thread = threading.Thread(target=self._run, name="sora-ahead", daemon=True)
                self._threads.append(thread)
                thread.start()

    def settle(self) -> None:
        """Wait for the :meth:`early` work under way, and drop what has not begun."""
        with self._ready:
            dropped = [item for item in self._queue if item.early]
            self._queue = deque(item for item in self._queue if not item.early)
            running = [item for item in self._running if item.early]
        for item in dropped:
            item.done.set()
        for item in running:
            item.done.wait()

    def finish(self) -> None:
        """Let the running pieces end, drop the rest, and end the threads."""
        with self._ready:
            self._finished = True
            self._queue.clear()
            threads, self._threads = self._threads, []
            self._ready.notify_all()
        for thread in threads:
            thread.join()

    def _submit(self, item: _Item) -> None:
        with self._ready:
            if not self._finished:
                self._queue.append(item)
                self._ready.notify()

    def _stopped(self) -> bool:
        return self._finished

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._finished:
                    self._ready.wait()
                if self._finished:
                    return
                # early work first: the render waits for it to assemble, while the measures wait for the checks
                item = next((i for i in self._queue if i.early), self._queue[0])
                self._queue.remove(item)
                self._running.add(item)
            try:
                if item.work is measure_range:
                    measure_range(*item.args, stop=self._stopped)
                else:
                    item.work(*item.args)
            except Exception:  # working ahead is an optimisation, never a render's failure: the render does it
                pass
            finally:
                with self._ready:
                    self._running.discard(item)
                item.done.set()
