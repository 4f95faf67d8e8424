"""What a render's delivery checks will measure, measured while the render is still drawing.

Each shot file is measured as its chain ends and the soundtrack as soon as it
is mixed, by one thread of the render's driver (which only waits for its
workers meanwhile), into the check cache that :func:`sora_cli.qc.run_qc` then
reads: its checks of the written film find the spans and the sound measured
already, by their content, and decode only what nothing measured (the
transitions, and whatever did not match). The report is the same either way.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sora_cli.qc import AUDIO, SPANS
from sora_cli.qc.audio import heard
from sora_cli.qc.spans import measure_range

NICENESS = 10  # the thread yields the cores to the workers: it fills the time they leave idle


def _lower_priority() -> None:
    """Thread initializer: this thread runs only where the render's workers leave a core idle (Linux)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _quietly(work: Callable[..., Any], *args: Any) -> None:
    """Run ``work``; a failure only means the checks measure that part themselves."""
    try:
        work(*args)
    except Exception:  # measuring ahead is an optimisation, never a render's failure
        return


class Ahead:
    """Measures handed-over shot files and the soundtrack in a thread, once :meth:`start` is called.

    Work handed over before :meth:`start` waits: no thread may run while the
    render forks its workers. :meth:`finish` lets the running piece end and drops
    the rest (the checks measure those, decoding with threads). The thread runs at a
    lower priority (:data:`NICENESS`), so it takes no time from the workers drawing.
    """

    def __init__(self, cache: Path, ranges: tuple[tuple[int, int], tuple[int, int]] | None):
        """``ranges``: the profile's legal luma and chroma ranges; None: no checks, nothing is measured."""
        self.cache, self.ranges = cache, ranges
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[..., Any], tuple[Any, ...], bool]] = []
        self._early: list[Future[None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()

    def shot(self, path: Path, first: int, last: int) -> None:
        """Measure frames ``[first, last)`` of a shot file (those the film copies)."""
        if self.ranges is not None:
            self._submit(measure_range, path, first, last, self.ranges, self.cache / SPANS, self._stop.is_set)

    def soundtrack(self, path: Path, until: float) -> None:
        """Measure the soundtrack as a film that stops at ``until`` seconds carries it."""
        if self.ranges is not None:
            self._submit(heard, path, self.cache / AUDIO, until)

    def early(self, work: Callable[..., Any], *args: Any) -> None:
        """Other work of the render that can be done before its turn (the render calls :meth:`settle` before
        its turn comes: work not begun by then is dropped, the render does it itself)."""
        self._submit(work, *args, early=True)

    def settle(self) -> None:
        """Wait for the :meth:`early` work under way, and drop what has not begun."""
        with self._lock:
            early, self._early = self._early, []
            self._waiting = [(work, args, e) for work, args, e in self._waiting if not e]
        for future in early:
            if not future.cancel():
                future.exception()  # (waits; a failure means the render does it itself)

    def _submit(self, work: Callable[..., Any], *args: Any, early: bool = False) -> None:
        with self._lock:
            if self._pool is None:
                self._waiting.append((work, args, early))
            else:
                self._queue(work, args, early)

    def _queue(self, work: Callable[..., Any], args: tuple[Any, ...], early: bool) -> None:
        assert self._pool is not None
        future = self._pool.submit(_quietly, work, *args)
        if early:
            self._early.append(future)

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="sora-qc-ahead", initializer=_lower_priority)
                for work, args, early in self._waiting:
                    self._queue(work, args, early)
                self._waiting.clear()

    def finish(self) -> None:
        self._stop.set()  # a shot being measured stops at its next span
        with self._lock:
            pool, self._pool = self._pool, None
            self._waiting.clear()
            self._early.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
