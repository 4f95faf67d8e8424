"""Timing: when every line is spoken, how long every shot lasts, where it starts.

Rules (format doc, "Timing" and "Dialogue"):

* a line's ``at`` defaults to :data:`LEAD_IN` for the first line of a shot and
  to the previous line's end plus :data:`PAUSE` after that;
* a shot without ``duration`` lasts until its last line ends plus
  :data:`TAIL`, and at least :data:`MIN_SHOT`; a fixed ``duration`` that a
  line overflows is an error naming the shot, the line and the overflow;
* a transition overlaps the two shots it joins (the film gets shorter by its
  length); lines are placed by film time and mixed whole, so a transition
  never shortens dialogue.

Everything is quantised to frames here, once: a shot's frame count and start
frame are the truth; seconds are derived from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LEAD_IN = 0.3  # seconds before a shot's first line when `at` is not given
PAUSE = 0.35  # seconds between lines when `at` is not given
TAIL = 0.5  # seconds after the last line of a shot without `duration`
MIN_SHOT = 2.0  # shortest automatic shot


@dataclass(frozen=True)
class LineTime:
    at: float
    length: float

    @property
    def end(self) -> float:
        return self.at + self.length


def place_lines(given_at: list[float | None], lengths: list[float]) -> list[LineTime]:
    placed: list[LineTime] = []
    for at, length in zip(given_at, lengths, strict=True):
        if at is None:
            at = placed[-1].end + PAUSE if placed else LEAD_IN
        placed.append(LineTime(at, length))
    return placed


def shot_frames(duration: float | None, lines: list[LineTime], fps: int) -> int:
    """Frames of a shot: its fixed duration, or long enough for its lines."""
    if duration is not None:
        return max(1, round(duration * fps))
    needed = max([MIN_SHOT, *(line.end + TAIL for line in lines)])
    return math.ceil(needed * fps - 1e-6)


def overflow(duration: float, lines: list[LineTime]) -> list[tuple[int, float]]:
    """Index and overflow (seconds) of each line that ends after ``duration``."""
    return [(i, line.end - duration) for i, line in enumerate(lines) if line.end > duration + 1e-6]


def start_frames(frames: list[int], overlaps: list[int]) -> list[int]:
    """Start frame of each shot; shot ``i`` is entered overlapping ``overlaps[i]`` frames."""
    starts = [0]
    for i in range(1, len(frames)):
        starts.append(starts[-1] + frames[i - 1] - overlaps[i])
    return starts
