"""``--executor ray``: continuity chains rendered on a Ray cluster instead of local worker processes.

Chains are the unit of work. Each Ray actor opens the backend once (a
diffusion model is loaded once per GPU, not per shot) and renders whole chains
in order, carrying state between their shots exactly as the local path does.
An actor sends back the shot files' bytes and carries, and the driver stores
them in its content-addressed cache: the cluster needs no shared filesystem,
cache hits are never sent to it, and the film is stitched and mixed locally,
byte-identical to a local render.

An actor killed mid-chain is restarted (``max_restarts``), re-runs its
constructor (re-opening the backend) and its chain is retried
(``max_task_retries``). A cluster that cannot be reached is one clear error.

Ray is imported here only, and this module only for ``--executor ray``.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sora_cli.atomic import atomic_path
from sora_cli.errors import SoraError
from sora_cli.progress import NullProgress, Progress
from sora_cli.render.backend import Carry, FilmSettings
from sora_cli.render.cache import ShotCache
from sora_cli.render.chain import ShotFile, ShotJob, render_chain
from sora_cli.render.encode import VideoSettings
from sora_cli.render.registry import backend_class

ACTOR_RESTARTS = 3


@dataclass(frozen=True)
class RayExecutor:
    """``--executor ray`` and its options: the cluster (``--ray-address``), actors, GPUs per actor."""

    address: str | None = None
    actors: int = 2
    gpus_per_actor: float = 0.0


def _probe(address: str) -> None:
    """Fail fast (one message, exit 1) when the cluster's address does not answer."""
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    host, port = parsed.hostname, parsed.port or (10001 if parsed.scheme == "ray" else 6379)
    if not host:
        raise SoraError(f"{address!r} is not a Ray address (use host:port or ray://host:port)")
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as exc:
        raise SoraError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def connect(address: str | None) -> Any:
    """Join the cluster at ``address``, or start a local one bound to loopback."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not address or address == "local":
        # must be set before Ray is imported: a local cluster then listens on 127.0.0.1 only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise SoraError("--executor ray needs Ray: pip install 'sora-cli[ray]'") from exc
    if ray.is_initialized():
        return ray
    if address and address != "local":
        if address != "auto":
            _probe(address)
        try:
            ray.init(address=address, log_to_driver=False, logging_level="ERROR")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SoraError(f"cannot join the Ray cluster at {address}: {exc}") from None
    else:
        ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    return ray


class ChainRenderer:
    """A Ray actor: one backend, opened once, rendering whole chains into bytes."""

    def __init__(self, backend: str | type, film: FilmSettings):
        cls = backend_class(backend) if isinstance(backend, str) else backend
        self.backend = cls()
        self.backend.open(film)
        self.scratch = Path(tempfile.mkdtemp(prefix="sora-actor-"))

    def where(self) -> dict[str, Any]:
        import ray

        return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid()}

    def render(
        self, jobs: list[ShotJob], carry: Carry | None, video: VideoSettings
    ) -> list[tuple[ShotFile, bytes, bytes]]:
        """Render ``jobs`` (starting from ``carry`` when the first continues a cached shot)."""
        cache = ShotCache(self.scratch)
        files = render_chain(jobs, self.backend, cache, video, NullProgress(), carry)
        where = self.where()
        out = []
        for shot_file in files:
            shot_file.worker = f"{where['host']}/{where['node'][:8]}"
            out.append(
                (shot_file, cache.video(shot_file.key).read_bytes(), cache.carry_path(shot_file.key).read_bytes())
            )
        shutil.rmtree(self.scratch / "shots", ignore_errors=True)  # sent back: nothing stays on the node
        return out


def render_on_ray(
    work: list[list[ShotJob]],
    backend: str | type,
    film: FilmSettings,
    video: VideoSettings,
    cache: ShotCache,
    address: str | None,
    actors: int,
    gpus_per_actor: float,
    progress: Progress,
) -> dict[str, ShotFile]:
    """Render the chains in ``work`` (those with something to render) on the cluster."""
    ray = connect(address)
    actor_cls = ray.remote(max_restarts=ACTOR_RESTARTS, max_task_retries=ACTOR_RESTARTS)(ChainRenderer)
    options: dict[str, Any] = {"num_gpus": gpus_per_actor} if gpus_per_actor else {"num_cpus": 1}
    pool = [actor_cls.options(**options).remote(backend, film) for _ in range(max(1, min(actors, len(work))))]
    pending = {}
    for i, jobs in enumerate(work):
        first = next(k for k, j in enumerate(jobs) if j.force or not cache.has(j.key))
        todo = jobs[first:]
        carry = cache.load_carry(jobs[first - 1].key) if first and todo[0].shot.continuity == "continue" else None
        if first and todo[0].shot.continuity == "continue" and carry is None:
            todo, carry = jobs, None  # the carry is gone: render the chain from its start
        for job in todo:
            progress.shot_started(job.shot.id, job.shot.frames)
        pending[pool[i % len(pool)].render.remote(todo, carry, video)] = todo
    results: dict[str, ShotFile] = {}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                pending.pop(ref)
                for shot_file, video_bytes, carry_bytes in ray.get(ref):
                    with atomic_path(cache.video(shot_file.key)) as tmp:
                        tmp.write_bytes(video_bytes)
                    with atomic_path(cache.carry_path(shot_file.key)) as tmp:
                        tmp.write_bytes(carry_bytes)
                    cache.stored(cache.video(shot_file.key))
                    cache.stored(cache.carry_path(shot_file.key))
                    shot_file.path = cache.video(shot_file.key)
                    results[shot_file.shot_id] = shot_file
                    progress.shot_finished(shot_file.shot_id, False)
    except ray.exceptions.RayError as exc:
        raise SoraError(f"the Ray cluster failed to render a chain: {str(exc).splitlines()[0]}") from None
    finally:
        for actor in pool:
            ray.kill(actor)
    return results


__all__ = ["ChainRenderer", "RayExecutor", "connect", "render_on_ray"]
