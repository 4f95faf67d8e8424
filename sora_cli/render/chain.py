"""One continuity chain rendered with an open backend, shot by shot, into the shot cache.

This is the work itself, the same wherever it runs: on the driver, in a local
worker process (``render/shots.py`` schedules those) or in a Ray actor
(``render/ray_executor.py``). Frames stream from the backend into the encoder, so memory
does not grow with the length of a shot; a cached shot's carry feeds the next.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sora_cli import faults
from sora_cli.atomic import atomic_path
from sora_cli.errors import SoraError
from sora_cli.plan.model import PlannedShot
from sora_cli.progress import Progress
from sora_cli.render import watermark
from sora_cli.render.backend import Backend, Carry
from sora_cli.render.cache import ShotCache
from sora_cli.render.encode import SHOT_ENCODER_NICE, FrameEncoder, VideoSettings


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
    reused: bool  # taken from the shot cache, not rendered (the report's word)
    seconds: float = 0.0
    worker: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def render_chain(
    jobs: list[ShotJob],
    backend: Backend,
    cache: ShotCache,
    video: VideoSettings,
    progress: Progress,
    carry: Carry | None = None,
) -> list[ShotFile]:
    """Render one chain, reusing cached shots; a cached shot's carry feeds the next shot.

    ``carry`` is the state to start from when ``jobs`` begins with a ``continue``
    shot whose predecessor is not in ``cache`` (a Ray actor's case).
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
            results.append(ShotFile(job.shot.id, job.key, cache.video(job.key), job.shot.frames, reused=True))
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


def _backend_call(failed: str, call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args)`` of the backend's code; its own bug becomes one line naming the backend and the shot."""
    try:
        return call(*args, **kwargs)
    except SoraError:
        raise
    except Exception as exc:
        raise SoraError(f"{failed}: {type(exc).__name__}: {exc}") from exc


def _check_frame(frame: Any, video: VideoSettings, index: int, failed: str) -> None:
    """A frame is ``height x width x 3 (or 4)`` uint8 at the film's size, else the backend is named."""
    want = (video.height, video.width)
    shape = getattr(frame, "shape", None)
    if (
        shape is None
        or len(shape) != 3
        or tuple(shape[:2]) != want
        or shape[2] not in (3, 4)
        or getattr(frame, "dtype", None) != np.uint8
    ):
        got = f"{type(frame).__name__} {shape} {getattr(frame, 'dtype', '')}".strip()
        raise SoraError(f"{failed}: frame {index} is {got}, not uint8 {want[0]}x{want[1]}x3 (or x4)")


def _render_one(
    job: ShotJob, backend: Backend, cache: ShotCache, video: VideoSettings, carry: Carry | None, progress: Progress
) -> Carry:
    shot = job.shot
    progress.shot_started(shot.id, shot.frames)
    keyframes = [0] + ([shot.transition.frames] if 0 < shot.transition.frames < shot.frames else [])
    failed = f"backend {getattr(backend, 'name', type(backend).__name__)!r} failed on shot {shot.id!r}"
    with atomic_path(cache.video(job.key)) as tmp:

        def encoder_for(channels: int) -> FrameEncoder:
            return FrameEncoder(tmp, video, keyframes, channels, SHOT_ENCODER_NICE, f"shot {shot.id}")

        # started before the backend sets the shot up where its frames' channels are known: ffmpeg loads meanwhile
        channels = getattr(backend, "frame_channels", None)
        encoder: FrameEncoder | None = encoder_for(channels) if channels in (3, 4) else None
        try:
            render = _backend_call(
                failed,
                backend.render_shot,
                shot,
                carry,
                on_step=lambda step, total: progress.shot_step(shot.id, step, total),
            )
            frames = iter(render)
            step = max(1, shot.frames // 50)
            index = 0
            while (frame := _backend_call(failed, next, frames, None)) is not None:
                _check_frame(frame, video, index, failed)
                if encoder is None or (index == 0 and encoder.channels != frame.shape[2]):
                    if encoder is not None:  # (its first frame is not what the backend said: started anew)
                        encoder.abort()
                    encoder = encoder_for(frame.shape[2])
                elif encoder.channels != frame.shape[2]:
                    raise SoraError(f"{failed}: frame {index} has {frame.shape[2]} channels, its first frame {encoder.channels}")
                if job.marked:
                    frame = watermark.mark(frame, index, video.fps)
                encoder.write(frame)
                index += 1
                if index % step == 0:
                    progress.shot_advanced(shot.id, step)
            if index != shot.frames:
                raise SoraError(f"{failed}: it yielded {index} frames, not the shot's {shot.frames}")
            if render.carry is None or encoder is None:
                raise SoraError(f"{failed}: its frames generator returned no Carry")
            encoder.close()
        except BaseException:
            if encoder is not None:
                encoder.abort()
            raise
    cache.stored(cache.video(job.key))
    cache.store_carry(job.key, render.carry)
    faults.checkpoint("shot-stored")
    return render.carry
