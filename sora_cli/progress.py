"""Progress events, so long work can be shown without the pipeline knowing how.

The pipeline calls a :class:`Progress`; the CLI passes one that draws rich
bars on stderr, tests and API users pass :class:`NullProgress`. Events from
worker processes travel through a queue and are replayed on the driver's.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str, total: float | None = None) -> None:
        """A new stage of the film (rendering, sound, stitching ...)."""

    def shot_started(self, shot_id: str, frames: int) -> None: ...

    def shot_advanced(self, shot_id: str, frames: int) -> None: ...

    def shot_finished(self, shot_id: str, reused: bool) -> None: ...

    def shot_step(self, shot_id: str, step: int, total: int) -> None:
        """A generative backend finished denoising step ``step`` of ``total``."""

    def stage_advanced(self, amount: float) -> None: ...


class NullProgress:
    def stage(self, name: str, total: float | None = None) -> None:
        pass

    def shot_started(self, shot_id: str, frames: int) -> None:
        pass

    def shot_advanced(self, shot_id: str, frames: int) -> None:
        pass

    def shot_finished(self, shot_id: str, reused: bool) -> None:
        pass

    def shot_step(self, shot_id: str, step: int, total: int) -> None:
        pass

    def stage_advanced(self, amount: float) -> None:
        pass


class QueueProgress(NullProgress):
    """Forwards shot events from a worker process to the driver through a queue."""

    def __init__(self, queue) -> None:
        self.queue = queue

    def shot_started(self, shot_id: str, frames: int) -> None:
        self.queue.put(("shot_started", shot_id, frames))

    def shot_advanced(self, shot_id: str, frames: int) -> None:
        self.queue.put(("shot_advanced", shot_id, frames))

    def shot_finished(self, shot_id: str, reused: bool) -> None:
        self.queue.put(("shot_finished", shot_id, reused))

    def shot_step(self, shot_id: str, step: int, total: int) -> None:
        self.queue.put(("shot_step", shot_id, step, total))


def replay(event: tuple, progress: Progress) -> None:
    name, *args = event
    getattr(progress, name)(*args)
