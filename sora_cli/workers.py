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
import importlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
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
            process.kill()
            process.join()


_warm: dict[str, ProcessPoolExecutor] = {}


def _warm_init(parent: int, modules: tuple[str, ...]) -> None:
    worker_init(parent)
    for name in modules:
        with contextlib.suppress(Exception):  # (a module that fails to load fails again, properly, where it is used)
            importlib.import_module(name)


def warm_up(name: str, modules: tuple[str, ...]) -> None:
    """Fork a one-worker pool now, which loads ``modules`` while this process goes on starting up.

    A render starts on one core: the conductor imports its stages and plans, and
    the second core idles. A worker forked first spends that time loading what its
    task needs (the sound worker's scipy takes about as long as the conductor's
    start-up), so the work it is given later starts at once instead of competing
    with the picture for the cores. :func:`warm` hands the pool over;
    :func:`cool_down` kills whatever nobody took.
    """
    if name in _warm:
        return
    pool = ProcessPoolExecutor(1, mp_context=pool_context(), initializer=_warm_init, initargs=(os.getpid(), modules))
    pool.submit(os.getpid)  # (a pool forks its workers for its first task)
    _warm[name] = pool


def warm(name: str) -> ProcessPoolExecutor | None:
    """The pool :func:`warm_up` forked under ``name``, now the caller's to shut down (None: there is none)."""
    return _warm.pop(name, None)


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """End a pool at once: its workers killed, whatever they were loading (nothing of the render's is lost)."""
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join()


def cool_down() -> None:
    """Kill every warm pool nobody took (a render that failed, or needed no such worker)."""
    while _warm:
        kill_workers(_warm.popitem()[1])


def run_now(environ: dict[str, str], fn: Callable[..., Any], *args: Any) -> Any:
    """:func:`run_busy` in the environment the driver has now (a warm worker was forked before it set, say,
    its scratch folder in ``SORA_SCRATCH``)."""
    if os.environ != environ:
        os.environ.clear()
        os.environ.update(environ)
    return run_busy(fn, *args)
