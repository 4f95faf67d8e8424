"""Render every shot of a plan into the shot cache.

Continuity chains (a shot plus the ``continue`` shots after it) are the unit
of work: shots inside a chain depend on each other's carried state, chains do
not depend on each other. Chains run in worker processes (``jobs``), each of
which opens the backend once; every shot's frames stream straight from the
backend into the encoder, so memory does not grow with the length of a shot.
The output is byte-identical whatever ``jobs`` is: each shot's bytes depend
only on its key.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from sora_cli import faults
from sora_cli.atomic import atomic_path
from sora_cli.fonts import quiet_fontconfig
from sora_cli.plan.model import Plan, PlannedShot
from sora_cli.progress import NullProgress, Progress, QueueProgress, replay
from sora_cli.render import watermark
from sora_cli.render.backend import Carry, Film, backend_class
from sora_cli.render.cache import ShotCache, shot_key
from sora_cli.render.encode import SHOT_ENCODER_NICE, FrameEncoder, VideoSettings
from sora_cli.workers import pool_context, run_busy, stop_workers, worker_init


@dataclass(frozen=True)
class ShotJob:
    """What a worker needs to render one shot."""

    shot: PlannedShot
    key: str
    previous_key: str | None
    marked: bool
    force: bool


@dataclass
class ShotFile:
    shot_id: str
    key: str
    path: Path
    frames: int
    cached: bool
    seconds: float = 0.0
    worker: str = ""
    info: dict[str, Any] = field(default_factory=dict)


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
    plan: Plan, backend_identity: dict[str, Any], generative: bool, video: VideoSettings, only: set[str]
) -> list[list[ShotJob]]:
    """Chains of jobs with their cache keys; ``only`` forces those shots and their continuations."""
    out = []
    for chain in chains(plan):
        jobs: list[ShotJob] = []
        previous: str | None = None
        forced = False
        for shot in chain:
            forced = forced or shot.id in only
            marked = watermarked(plan, shot, generative)
            key = shot_key(shot, backend_identity, video, marked, previous if shot.continuity == "continue" else None)
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


def _open_worker(backend_name: str, film: Film, cache_root: Path, queue: Any, parent: int) -> None:
    worker_init(parent)
    backend = backend_class(backend_name)()
    backend.open(film)
    _worker.update(backend=backend, film=film, cache=ShotCache(cache_root), queue=queue)


def _render_chain_in_worker(jobs: list[ShotJob], video: VideoSettings) -> list[ShotFile]:
    progress = QueueProgress(_worker["queue"]) if _worker.get("queue") is not None else NullProgress()
    return run_busy(render_chain, jobs, _worker["backend"], _worker["cache"], video, progress)


def render_chain(
    jobs: list[ShotJob],
    backend: Any,
    cache: ShotCache,
    video: VideoSettings,
    progress: Progress,
    carry: Carry | None = None,
) -> list[ShotFile]:
    """Render one chain, reusing cached shots; a cached shot's carry feeds the next shot.

    ``carry`` is the state to start from when ``jobs`` begins with a ``continue``
    shot whose predecessor is not in ``cache`` (a farm worker's case).
    """
    first = next((i for i, job in enumerate(jobs) if job.force or not cache.has(job.key)), len(jobs))
    # a continue shot needs the carry of the shot before it: step back until one is stored
    while 0 < first < len(jobs) and cache.load_carry(jobs[first - 1].key) is None:
        first -= 1
    if 0 < first < len(jobs):
        carry = cache.load_carry(jobs[first - 1].key)
    results: list[ShotFile] = []
    for i, job in enumerate(jobs):
        if i < first:
            results.append(ShotFile(job.shot.id, job.key, cache.video(job.key), job.shot.frames, cached=True))
            progress.shot_finished(job.shot.id, True)
            continue
        started = time.perf_counter()
        carry = _render_one(job, backend, cache, video, carry if job.shot.continuity == "continue" else None, progress)
        elapsed = time.perf_counter() - started
        results.append(
            ShotFile(
                job.shot.id,
                job.key,
                cache.video(job.key),
                job.shot.frames,
                False,
                elapsed,
                os.uname().nodename,
                carry.state.get("info", {}),
            )
        )
        progress.shot_finished(job.shot.id, False)
    return results


def _render_one(
    job: ShotJob, backend: Any, cache: ShotCache, video: VideoSettings, carry: Carry | None, progress: Progress
) -> Carry:
    shot = job.shot
    progress.shot_started(shot.id, shot.frames)
    keyframes = [0] + ([shot.transition.frames] if 0 < shot.transition.frames < shot.frames else [])
    if hasattr(backend, "on_step"):  # generative backends report each denoising step
        backend.on_step = lambda step, total: progress.shot_step(shot.id, step, total)
    render = backend.render_shot(shot, carry)
    with atomic_path(cache.video(job.key)) as tmp:
        encoder: FrameEncoder | None = None
        try:
            step = max(1, shot.frames // 50)
            for index, frame in enumerate(render):
                if encoder is None:
                    encoder = FrameEncoder(tmp, video, keyframes, frame.shape[2], SHOT_ENCODER_NICE)
                if job.marked:
                    frame = watermark.mark(frame, index, video.fps)
                encoder.write(frame)
                if (index + 1) % step == 0:
                    progress.shot_advanced(shot.id, step)
            assert encoder is not None and encoder.frames == shot.frames, "backend yielded the wrong number of frames"
            encoder.close()
        except BaseException:
            if encoder is not None:
                encoder.abort()
            raise
    cache.stored(cache.video(job.key))
    assert render.carry is not None
    cache.store_carry(job.key, render.carry)
    faults.checkpoint("shot-stored")
    return render.carry


# --- the driver side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Farm:
    """Where chains render when not in local worker processes (``--executor ray``)."""

    address: str | None = None
    actors: int = 2
    gpus_per_actor: float = 0.0


def render_shots(
    plan: Plan,
    backend_name: str | type,
    film: Film,
    video: VideoSettings,
    cache: ShotCache,
    only: set[str],
    jobs: int,
    progress: Progress,
    on_identity: Callable[[dict[str, Any]], None] | None = None,
    farm: Farm | None = None,
    on_dispatched: Callable[[], None] | None = None,
) -> dict[str, ShotFile]:
    """Render what ``plan`` needs into ``cache``; ``on_dispatched`` runs once the work is handed out.

    Chains go out longest first, so the last chain to finish is a short one and
    both workers stay busy until the picture ends.
    """
    quiet_fontconfig()
    cls = backend_class(backend_name)
    identity = {"name": cls.name, "version": cls.version, "options": film.options, "model": film.model}
    if hasattr(cls, "identity_for"):
        identity = cls.identity_for(film)
    if on_identity:
        on_identity(identity)
    generative = bool(getattr(cls, "generative", False))
    work = plan_jobs(plan, identity, generative, video, only)
    # one pass, linear in the number of shots (a chain is to do when any of its shots is)
    to_do = [any(j.force or not cache.has(j.key) for j in chain) for chain in work]
    todo = [chain for chain, needed in zip(work, to_do, strict=True) if needed]
    todo = longest_first(todo)
    results: dict[str, ShotFile] = {}
    for chain, needed in zip(work, to_do, strict=True):
        for job in chain:
            # chains with nothing to do; on a farm also the cached start of a chain (the farm sends only the rest)
            if not needed or (farm is not None and not job.force and cache.has(job.key)):
                results[job.shot.id] = ShotFile(
                    job.shot.id, job.key, cache.video(job.key), job.shot.frames, cached=True
                )
                progress.shot_finished(job.shot.id, True)
    if not todo:
        if on_dispatched:
            on_dispatched()
        return results
    if farm is not None:
        from sora_cli.render.farm import render_on_ray

        if on_dispatched:
            on_dispatched()
        results.update(
            render_on_ray(
                todo, backend_name, film, video, cache, farm.address, farm.actors, farm.gpus_per_actor, progress
            )
        )
        return results
    workers = max(1, min(jobs, len(todo)))
    if workers == 1:
        backend = cls()
        backend.open(film)  # (no on_dispatched here: this process draws, it does not wait)
        try:
            for chain in todo:
                for shot_file in render_chain(chain, backend, cache, video, progress):
                    results[shot_file.shot_id] = shot_file
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
                    for shot_file in future.result():
                        results[shot_file.shot_id] = shot_file
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
