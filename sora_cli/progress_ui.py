"""How progress looks on a terminal: rich bars, or plain lines when stderr is not a terminal.

A bar per shot being rendered and one for the film (frames, frames/s, ETA).
``--quiet`` shows nothing; without a terminal, or with ``NO_COLOR`` set, each
finished shot and stage is one plain line, which reads well in CI logs.
"""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from sora_cli.progress import NullProgress


class _FpsColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[no-untyped-def]
        speed = task.finished_speed or task.speed
        return super().render(task) if speed is None else TextColumn(f"{speed:6.1f} fps").render(task)


class RichProgress(NullProgress):
    def __init__(self, console: Console):
        self._progress = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            _FpsColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._film = self._progress.add_task("film", total=None)
        self._shots: dict[str, TaskID] = {}
        self._stage: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stage is not None and exc[0] is None:
            self._progress.update(self._stage, completed=self._task(self._stage).total or 1)
        self._progress.stop()

    def _task(self, task_id: TaskID):  # type: ignore[no-untyped-def]
        return next(t for t in self._progress.tasks if t.id == task_id)

    def stage(self, name: str, total: float | None = None) -> None:
        if name == "picture":
            self._progress.update(self._film, total=total)
            return
        if self._stage is not None:
            self._progress.update(self._stage, completed=self._task(self._stage).total or 1)
        self._stage = self._progress.add_task(name, total=total or 1)

    def stage_advanced(self, amount: float) -> None:
        if self._stage is not None:
            self._progress.advance(self._stage, amount)

    def shot_started(self, shot_id: str, frames: int) -> None:
        self._shots[shot_id] = self._progress.add_task(f"  {shot_id[:16]}", total=frames)

    def shot_advanced(self, shot_id: str, frames: int) -> None:
        if shot_id in self._shots:
            self._progress.advance(self._shots[shot_id], frames)
        self._progress.advance(self._film, frames)

    def shot_step(self, shot_id: str, step: int, total: int) -> None:
        if shot_id in self._shots:
            self._progress.update(self._shots[shot_id], description=f"  {shot_id[:10]} step {step}/{total}")

    def shot_finished(self, shot_id: str, reused: bool) -> None:
        task = self._shots.pop(shot_id, None)
        if task is not None:
            t = self._task(task)
            self._progress.advance(self._film, (t.total or 0) - t.completed)
            self._progress.remove_task(task)
        elif reused:
            self._progress.console.print(f"  [dim]{shot_id}: reused from the cache[/]")


class LineProgress(NullProgress):
    """One plain line per event, for logs."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}

    def _line(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def stage(self, name: str, total: float | None = None) -> None:
        self._line(f"sora: {name}")

    def shot_started(self, shot_id: str, frames: int) -> None:
        self._started[shot_id] = time.perf_counter()

    def shot_finished(self, shot_id: str, reused: bool) -> None:
        if reused:
            self._line(f"sora:   {shot_id}: reused")
        else:
            took = time.perf_counter() - self._started.pop(shot_id, time.perf_counter())
            self._line(f"sora:   {shot_id}: rendered in {took:.1f} s")


def choose(quiet: bool) -> NullProgress:
    if quiet:
        return NullProgress()
    console = Console(stderr=True)
    if console.is_terminal and not os.environ.get("NO_COLOR"):
        return RichProgress(console)
    return LineProgress()
