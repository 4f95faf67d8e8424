"""Render every shot of a plan into the shot cache.

Continuity chains (a shot plus the ``continue`` shots after it) are the unit
of work: shots inside a chain depend on each other's carried state, chains do
not depend on each other. Chains run in worker processes (``jobs``), each of
which opens the backend once, or on a Ray cluster (``render/ray_executor.py``); the work
of one chain is :mod:`sora_cli.render.chain`, the same wherever it runs.
The output is byte-identical whatever ``jobs`` is: each shot's bytes depend
only on its key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from queue import Empty
from typing import Any

from sora_cli import faults
from sora_cli.fonts import quiet_fontconfig
from sora_cli.plan.model import Plan, PlannedShot
from sora_cli.progress import NullProgress, Progress, QueueProgress, replay
from sora_cli.render.backend import FilmSettings
from sora_cli.render.cache import ShotCache, shot_key
from sora_cli.render.chain import ShotFile, ShotJob, render_chain
from sora_cli.render.encode import VideoSettings
from sora_cli.render.ray_executor import RayExecutor, render_on_ray
from sora_cli.render.registry import backend_class
from sora_cli.workers import pool_context, run_busy, stop_workers, worker_init


def chains(plan: Plan) -> list[list[PlannedShot]]:
    out: list[list[PlannedShot]] = []
    for shot in plan.shots:
        if shot.continuity == "continue" and out:
            out[-1].append(shot)
        else:
            out.append([shot])
    return out


def watermarked(plan: Plan, shot: PlannedShot, generative: bool) -> bool:
    if plan.watermark == "on":
        return True
    if plan.watermark == "off":
        return False
    return generative or shot.shows_cameo


def plan_jobs(
    plan: Plan,
    backend_identity: dict[str, Any],
    generative: bool,
    video: VideoSettings,
    only: set[str],
    hears_takes: bool = False,
) -> list[list[ShotJob]]:
    """Chains of jobs with their cache keys; ``only`` forces those shots and their continuations.

    ``generative``, ``hears_takes``: the backend's (see :class:`~sora_cli.render.backend.Backend`)."""
    out = []
    for chain in chains(plan):
        jobs: list[ShotJob] = []
        previous: str | None = None
        forced = False
        for shot in chain:
            forced = forced or shot.id in only
            marked = watermarked(plan, shot, generative)
            continues = previous if shot.continuity == "continue" else None
            key = shot_key(shot, backend_identity, video, marked, continues, hears_takes)
            jobs.append(ShotJob(shot, key, previous, marked, forced))
            previous = key
        out.append(jobs)
    return out


def longest_first(work: list[list[ShotJob]]) -> list[list[ShotJob]]:
    """Chains in the order they are handed out: most frames first (ties in film order).

    Two workers fed in film order can end with one long chain running alone;
    longest first, the last to start are the short ones, so both stay busy
    until the picture is done. Which worker renders a chain never changes its bytes.
    """
    return sorted(work, key=lambda chain: -sum(job.shot.frames for job in chain))


# --- the worker side ------------------------------------------------------------------------------

_worker: dict[str, Any] = {}  # the open backend, its film, the cache and the progress queue of this worker


def _open_worker(backend_name: str, film: FilmSettings, cache_root: Path, queue: Any, parent: int) -> None:
    worker_init(parent)
    backend = backend_class(backend_name)()
    backend.open(film)
    _worker.update(backend=backend, film=film, cache=ShotCache(cache_root), queue=queue)


def _render_chain_in_worker(jobs: list[ShotJob], video: VideoSettings) -> list[ShotFile]:
    progress = QueueProgress(_worker["queue"]) if _worker.get("queue") is not None else NullProgress()
    return run_busy(render_chain, jobs, _worker["backend"], _worker["cache"], video, progress)


# --- the driver side ------------------------------------------------------------------------------


def render_shots(
    plan: Plan,
    backend_name: str | type,
    film: FilmSettings,
    video: VideoSettings,
    cache: ShotCache,
    only: set[str],
    jobs: int,
    progress: Progress,
    on_identity: Callable[[dict[str, Any]], None] | None = None,
    ray: RayExecutor | None = None,
    on_dispatched: Callable[[], None] | None = None,
    on_done: Callable[[list[ShotFile]], None] | None = None,
) -> dict[str, ShotFile]:
    """Render what ``plan`` needs into ``cache``; ``on_dispatched`` runs once the work is handed out (once no
    process is forked any more: the workers have forked, or this process is about to draw).

    ``on_done`` is given the shot files as they are ready (the reused ones first, then each chain's
    as it ends), so the driver can work on them while the rest is drawn.

    Chains go out longest first, so the last chain to finish is a short one and
    both workers stay busy until the picture ends.
    """
    quiet_fontconfig()
    cls = backend_class(backend_name)
    identity = cls.identity_for(film)
    if on_identity:
        on_identity(identity)
    work = plan_jobs(plan, identity, cls.generative, video, only, cls.hears_takes)
    # one pass, linear in the number of shots (a chain is to do when any of its shots is)
    to_do = [any(j.force or not cache.has(j.key) for j in chain) for chain in work]
    todo = [chain for chain, needed in zip(work, to_do, strict=True) if needed]
    todo = longest_first(todo)
    results: dict[str, ShotFile] = {}
    for chain, needed in zip(work, to_do, strict=True):
        for job in chain:
            # chains with nothing to do; on Ray also the reused start of a chain (only the rest is sent)
            if not needed or (ray is not None and not job.force and cache.has(job.key)):
                results[job.shot.id] = ShotFile(
                    job.shot.id, job.key, cache.video(job.key), job.shot.frames, reused=True
                )
                progress.shot_finished(job.shot.id, True)
    if on_done and results:
        on_done(list(results.values()))
    if not todo:
        if on_dispatched:
            on_dispatched()
        return results
    if ray is not None:
        results.update(
            render_on_ray(todo, backend_name, film, video, cache, ray.address, ray.actors, ray.gpus_per_actor, progress)
        )
        return results
    workers = max(1, min(jobs, len(todo)))
    if workers == 1:
        backend = cls()
        backend.open(film)
        if on_dispatched:  # (no process forks from here on: threads may work beside the drawing)
            on_dispatched()
        try:
            for chain in todo:
                files = render_chain(chain, backend, cache, video, progress)
                results.update((f.shot_id, f) for f in files)
                if on_done:
                    on_done(files)
        finally:
            backend.close()
        return results
    context = pool_context()
    queue = context.Queue()
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_open_worker,
        initargs=(backend_name, film, cache.root, queue, os.getpid()),
    ) as pool:
        pending: set[Future] = {pool.submit(_render_chain_in_worker, chain, video) for chain in todo}
        if on_dispatched:  # every worker has forked by now (a fork pool starts them all at the first submit)
            on_dispatched()
        try:
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                _drain(queue, progress)
                for future in done:
                    files = future.result()
                    results.update((f.shot_id, f) for f in files)
                    if on_done:
                        on_done(files)
                    faults.checkpoint("chain-done")
        except BaseException:
            stop_workers(pool)
            raise
        _drain(queue, progress)
    return results


def _drain(queue: Any, progress: Progress) -> None:
    while True:
        try:
            replay(queue.get_nowait(), progress)
        except Empty:
            return
