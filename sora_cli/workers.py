"""Worker processes that die with the render and stop cleanly on Ctrl-C.

Picture chains and the soundtrack are made in pool workers; whatever the pool, a
worker must not outlive a render killed with ``kill -9``, must not print a
traceback when an idle worker sees Ctrl-C, and must be stopped (its temp files
removed) when the render is interrupted. Shared by ``render/`` and the
conductor, so it lives on the ground floor.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from sora_cli.fonts import quiet_fontconfig

STOP_GRACE = 5.0  # seconds a worker gets to clean up after an interrupt


def pool_context() -> BaseContext:
    """Fork where the platform has it (workers start fast and share the loaded modules), else spawn."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


_worker: dict[str, Any] = {"busy": False, "interrupted": False}


def quiet_interrupts() -> None:
    """Pool-worker initializer: Ctrl-C interrupts a running task; an idle worker ignores it.

    (Left alone, an idle worker dies printing a KeyboardInterrupt traceback; the
    driver shuts idle workers down itself.)
    """

    def on_interrupt(signum: int, frame: Any) -> None:
        # once per task: a second interrupt (the terminal's, then the driver's) must
        # not cut short the cleanup the first one started
        if _worker["busy"] and not _worker["interrupted"]:
            _worker["interrupted"] = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)


def _quiet_from_the_start() -> None:
    """Run in every forked child before anything else: idle, and quiet on Ctrl-C.

    A render that fails at once interrupts pool workers that may still be starting,
    before their initializer has run; the interrupt must not print a traceback
    from the pool's start-up code there either. A child forked by a busy worker
    (a matrix master's own pools) starts idle.
    """
    _worker["busy"], _worker["interrupted"] = False, False
    with contextlib.suppress(ValueError):  # (signal handlers only from the main thread)
        quiet_interrupts()


os.register_at_fork(after_in_child=_quiet_from_the_start)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    """Make this worker exit when ``parent`` dies (SIGKILL from the kernel, Linux).

    A render killed with ``kill -9`` cannot stop its workers; without this they
    stay, orphaned and blocked on the pool's pipe, for ever. The check after
    ``prctl`` closes the race where the parent died before it was called.
    Elsewhere the pool's own pipe ends the worker when it reads end-of-file.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def worker_init(parent: int) -> None:
    """Initializer of every local pool worker: dies with the render, quiet on Ctrl-C."""
    quiet_interrupts()  # (a forked worker is quiet already, from the at-fork hook; a spawned one from here)
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # (a forked worker inherits the CLI's handler)
    quiet_fontconfig()


def _children(pid: int) -> list[int]:
    """The processes ``pid``'s main thread started (a worker's encoders), on Linux; else none."""
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_and_wait(pids: list[int], timeout: float = 2.0) -> None:
    """Kill a killed worker's encoders too, and wait until they are gone.

    Left alone, an encoder whose worker was killed reads end-of-file and finishes
    the shot file it was writing, under the worker's temp name, after the render
    has swept its temp files (or creates it only then): a temp file left behind.
    """
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline and _running(pid):
            time.sleep(0.005)


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting for init to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def run_busy(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a task in a pool worker, marked busy so an interrupt stops it rather than the worker."""
    _worker["busy"], _worker["interrupted"] = True, False
    try:
        return fn(*args)
    finally:
        _worker["busy"] = False


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Interrupt a pool's workers, give them a moment to clean up, then kill what is left.

    Work not started is cancelled by the pool; busy workers get SIGINT (as from a
    terminal's Ctrl-C), so their encoders are ended and their temp files removed
    by the normal unwinding; SIGKILL only follows for a worker that does not
    finish within :data:`STOP_GRACE` seconds.
    """
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            encoders = _children(process.pid)  # (read first: once the worker is dead they are init's)
            process.kill()
            process.join()
            _kill_and_wait(encoders)
