"""What the plan asked for: stretches where black, still or silent is intended, not a defect.

A fade to or from black (or white) passes through black frames and often
silence; a title or end card holds a still picture. With the film's plan the
checks leave these stretches alone; without one, every black or frozen run
counts.

A shot is a *planned still* when the plan gives it nothing that could move:
a static camera, nobody in it (no cast, no lines), and weather that does not
fall, neither at the camera nor beyond the windows (clear or cloudy). Such a
shot may legitimately render as one repeated frame (an empty office), so its
frozen frames are what was asked for. Any one of those moving parts (a pan, a
character, snow) makes a frozen stretch a defect again: that is how a backend
that stopped drawing is still caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sora_cli.plan.beds import CHANGE_CROSSFADE, bed_for
from sora_cli.plan.model import Plan, PlannedShot

CARD_WORDS = ("end card", "title card", "title", "card", "super")
SLACK = 0.1  # s around a planned stretch (frame rounding, encoder lag)
STILL_WEATHER = ("clear", "cloudy", "")  # nothing falls or drifts through the frame


@dataclass(frozen=True)
class Intended:
    fades: list[tuple[float, float]] = field(default_factory=list)
    stills: list[tuple[float, float]] = field(default_factory=list)
    #: where the plan puts sound, when it has no bed or music under everything (None: no plan, or sound throughout)
    sounding: list[tuple[float, float]] | None = None
    #: the plan has no sound at all: a silent film is what it asked for
    silent: bool = False

    def quiet_ok(self, start: float, end: float) -> bool:
        """Silence over ``[start, end]`` was asked for: inside a fade, or where the plan places no sound."""
        if self.faded(start) and self.faded(end):
            return True
        if self.sounding is None:
            return False
        return not any(a < end - SLACK and b > start + SLACK for a, b in self.sounding)

    def faded(self, t: float) -> bool:
        return any(a - SLACK <= t <= b + SLACK for a, b in self.fades)

    def still(self, t: float) -> bool:
        return self.faded(t) or any(a - SLACK <= t <= b + SLACK for a, b in self.stills)


def _is_card(action: str) -> bool:
    head, sep, _ = action.partition(":")
    return bool(sep) and head.strip().lower() in CARD_WORDS


def planned_still(shot: PlannedShot) -> bool:
    """Nothing in the shot's plan moves: static camera, nobody in frame, no falling weather (see module doc)."""
    facts = shot.world.facts
    return (
        shot.camera.move == "static"
        and not shot.cast
        and not shot.dialogue
        and facts.weather_at_camera in STILL_WEATHER
        and facts.weather_beyond_windows in STILL_WEATHER
    )


def intended(plan: Plan | None) -> Intended:
    if plan is None:
        return Intended()
    fades = [
        (shot.start, shot.start + shot.transition.duration)
        for shot in plan.shots
        if shot.transition.type in ("fade_black", "fade_white") and shot.transition.frames
    ]
    stills = [(shot.start, shot.end) for shot in plan.shots if _is_card(shot.action) or planned_still(shot)]
    sounding = None
    silent = False
    if plan.audio.ambience in ("none", "auto") and plan.audio.music is None:
        sounding = [(line.start, line.end) for shot in plan.shots for line in shot.dialogue]
        sounding += [(sfx.start, sfx.start + 0.2) for shot in plan.shots for sfx in shot.sfx]
        if plan.audio.ambience == "auto":  # a place with no sound of its own (no bed) asks for quiet there
            # a bed fades in and out across its shot's edges (crossfades, transitions): its middle surely sounds
            edge = max([CHANGE_CROSSFADE, *(shot.transition.duration for shot in plan.shots)])
            sounding += [(shot.start + edge, shot.end - edge) for shot in plan.shots if bed_for(shot)]
        silent = not sounding
    return Intended(fades, stills, sounding, silent)
