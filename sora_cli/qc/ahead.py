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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sora_cli.qc import AUDIO, SPANS
from sora_cli.qc.audio import heard
from sora_cli.qc.spans import measure_range


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
    the rest (the checks measure those, decoding with threads).
    """

    def __init__(self, cache: Path, ranges: tuple[tuple[int, int], tuple[int, int]]):
        self.cache, self.ranges = cache, ranges
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._pool: ThreadPoolExecutor | None = None

    def shot(self, path: Path, first: int, last: int) -> None:
        """Measure frames ``[first, last)`` of a shot file (those the film copies)."""
        self._submit(measure_range, path, first, last, self.ranges, self.cache / SPANS)

    def soundtrack(self, path: Path, until: float) -> None:
        """Measure the soundtrack as a film that stops at ``until`` seconds carries it."""
        self._submit(heard, path, self.cache / AUDIO, until)

    def _submit(self, work: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if self._pool is None:
                self._waiting.append((work, args))
            else:
                self._pool.submit(_quietly, work, *args)

    def start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="sora-qc-ahead")
                for work, args in self._waiting:
                    self._pool.submit(_quietly, work, *args)
                self._waiting.clear()

    def finish(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._waiting.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
