"""Ambience: a continuous bed derived from each shot's world.

A bed is a few components (wind, rain, waves, room tone, ...) chosen from the
weather and the kind of place. Each component is stationary noise built from
overlapping one-second grains (sine windows at 50% overlap keep the power
constant), each grain seeded by the component and its index in the film, so:

* any time range of the film can be rendered on its own (the mixer works in
  blocks and memory stays flat), and
* a component that carries on from one shot to the next is literally the same
  signal: across a ``continue`` boundary the bed does not even crossfade.

Shots crossfade their beds where they meet (amplitude-complementary raised
cosines), over the transition's overlap or a short window at a cut.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sora_cli.plan.beds import CHANGE_CROSSFADE, CUT_CROSSFADE, bed_for
from sora_cli.plan.model import Plan
from sora_cli.sound.synth import RATE, band_noise, seconds, sine, tone

GRAIN = RATE  # one-second grains
HOP = GRAIN // 2
_WINDOW = np.sin(np.pi * (np.arange(GRAIN) + 0.5) / GRAIN).astype(np.float32)
_HANNING = np.hanning(GRAIN).astype(np.float32)

Grain = Callable[[np.random.Generator, int], np.ndarray]  # (rng, grain index) -> (GRAIN,) mono


def _wind(lo: float, hi: float, gusty: float) -> Grain:
    def grain(rng: np.random.Generator, k: int) -> np.ndarray:
        gust = 1 + gusty * sine(GRAIN, 0.23, k * HOP, 1.3) * sine(GRAIN, 0.07, k * HOP)
        return band_noise(rng, GRAIN, lo, hi, tilt=-3) * gust

    return grain


def _blizzard(rng: np.random.Generator, k: int) -> np.ndarray:
    whistle = sine(GRAIN, rng.uniform(560, 820)) * np.float32(0.07)
    return _wind(100, 3200, 0.6)(rng, k) + whistle


def _rain(rng: np.random.Generator, k: int) -> np.ndarray:
    out = band_noise(rng, GRAIN, 900, 12000) * np.float32(0.6)
    drops = np.flatnonzero(rng.random(GRAIN) < 60 / RATE)
    out[drops] += rng.uniform(0.3, 0.9, len(drops)).astype(np.float32)
    return out


def _thunder(rng: np.random.Generator, hi: float, level: float) -> np.ndarray:
    """A distant roll of thunder over one grain."""
    return band_noise(rng, GRAIN, 25, hi, tilt=-4) * (np.float32(level) * _HANNING)


def _storm(rng: np.random.Generator, k: int) -> np.ndarray:
    out = _rain(rng, k) + np.float32(0.6) * _wind(80, 1500, 0.8)(rng, k)
    if rng.random() < 0.18:  # a distant roll of thunder in some grains
        out += _thunder(rng, 160, 1.5)
    return out


def _waves(rng: np.random.Generator, k: int) -> np.ndarray:
    swell = 0.35 + 0.65 * sine(GRAIN, 1 / 13, k * HOP) ** 2  # film-time phase: continuous across grains
    return band_noise(rng, GRAIN, 120, 4000, tilt=-2) * swell


def _crowd(rng: np.random.Generator, k: int) -> np.ndarray:
    out = np.zeros(GRAIN, np.float32)
    for _ in range(6):
        voices = band_noise(rng, GRAIN, 250, 2600)
        out += voices * (0.5 + 0.5 * sine(GRAIN, rng.uniform(3, 6), 0, rng.uniform(0, 6)))
    return out


def _forest(rng: np.random.Generator, k: int) -> np.ndarray:
    out = band_noise(rng, GRAIN, 1500, 9000) * np.float32(0.5)
    if rng.random() < 0.3:  # a bird now and then
        n = seconds(0.12)
        at = int(rng.integers(0, GRAIN - n))
        tt = np.arange(n) / RATE
        out[at : at + n] += 1.5 * tone(n, 3000 + 2500 * tt / 0.12) * np.sin(np.pi * tt / 0.12)
    return out


def _room(rng: np.random.Generator, k: int) -> np.ndarray:
    hum = np.float32(0.25) * sine(GRAIN, 50, k * HOP) + np.float32(0.12) * sine(GRAIN, 100, k * HOP)
    return band_noise(rng, GRAIN, 30, 500, tilt=-3) + hum


def _traffic(rng: np.random.Generator, k: int) -> np.ndarray:
    swell = 0.6 + 0.4 * sine(GRAIN, 0.09, k * HOP) ** 2
    return band_noise(rng, GRAIN, 40, 1200, tilt=-3) * swell


def _muffled_rain(rng: np.random.Generator, k: int) -> np.ndarray:
    """Rain on the other side of a wall and a window: a low, soft patter."""
    return band_noise(rng, GRAIN, 60, 700, tilt=-2)


def _muffled_storm(rng: np.random.Generator, k: int) -> np.ndarray:
    out = _muffled_rain(rng, k)
    if rng.random() < 0.18:  # thunder carries through walls
        out += _thunder(rng, 140, 2.0)
    return out


#: component -> (grain recipe, level in dB)
COMPONENTS: dict[str, tuple[Grain, float]] = {
    "breeze": (_wind(80, 1200, 0.4), -34),
    "wind": (_wind(90, 2000, 0.6), -28),
    "blizzard": (_blizzard, -20),
    "rain": (_rain, -24),
    "storm": (_storm, -20),
    "snow_hush": (_wind(150, 1800, 0.2), -40),
    "fog": (_wind(30, 300, 0.2), -36),
    "waves": (_waves, -26),
    "crowd": (_crowd, -28),
    "forest": (_forest, -32),
    "room_tone": (_room, -40),
    "traffic": (_traffic, -30),
    "desert_wind": (_wind(100, 1600, 0.5), -34),
    "rain_muffled": (_muffled_rain, -36),
    "storm_muffled": (_muffled_storm, -32),
    "wind_muffled": (_wind(40, 420, 0.6), -36),
}


@functools.lru_cache(maxsize=256)
def _grain(component: str, k: int, channel: int) -> np.ndarray:
    recipe, level = COMPONENTS[component]
    seed = int.from_bytes(hashlib.sha256(f"{component}/{channel}".encode()).digest()[:4], "big")
    rng = np.random.default_rng([seed, k])
    g = np.asarray(recipe(rng, k), np.float32)
    g *= np.float32(10 ** (level / 20) / max(float(np.sqrt(np.dot(g, g) / len(g))), 1e-9) * 0.35)
    return g * _WINDOW


def component_range(component: str, start: int, n: int) -> np.ndarray:
    """Samples ``[start, start + n)`` of a component, stereo (n, 2)."""
    out = np.zeros((n, 2), np.float32)
    first = max(0, (start - GRAIN) // HOP + 1)
    last = (start + n - 1) // HOP
    for k in range(first, last + 1):
        g0 = k * HOP
        lo, hi = max(start, g0), min(start + n, g0 + GRAIN)
        if hi <= lo:
            continue
        for ch in (0, 1):
            out[lo - start : hi - start, ch] += _grain(component, k, ch)[lo - g0 : hi - g0]
    return out


@dataclass(frozen=True)
class BedSegment:
    """A component sounding from ``start`` to ``end`` (samples), faded over the given lengths."""

    component: str
    start: int
    end: int
    fade_in: int
    fade_out: int

    def gain(self, start: int, n: int) -> np.ndarray:
        """Gain for samples ``[start, start + n)``: 0 outside, raised-cosine fades at the edges."""
        g = np.zeros(n, np.float32)
        lo, hi = max(start, self.start), min(start + n, self.end)
        if hi <= lo:
            return g
        g[lo - start : hi - start] = 1.0
        if self.fade_in:
            a, b = lo, min(hi, self.start + self.fade_in)
            if b > a:
                u = (np.arange(a, b) - self.start) / self.fade_in
                g[a - start : b - start] *= (0.5 - 0.5 * np.cos(np.pi * u)).astype(np.float32)
        if self.fade_out:
            a, b = max(lo, self.end - self.fade_out), hi
            if b > a:
                u = (self.end - np.arange(a, b)) / self.fade_out
                g[a - start : b - start] *= (0.5 - 0.5 * np.cos(np.pi * u)).astype(np.float32)
        return g


def bed_segments(plan: Plan) -> list[BedSegment]:
    """Every shot's bed, with crossfades where shots meet (none where the bed carries on)."""
    total = seconds(plan.duration)
    shots = plan.shots
    beds = [bed_for(s) for s in shots]
    segments: list[BedSegment] = []
    for i in range(len(shots)):
        for component in beds[i]:
            start, fade_in = _edge(plan, i, component, beds, entering=True)
            end, fade_out = _edge(plan, i + 1, component, beds, entering=False) if i + 1 < len(shots) else (total, 0)
            segments.append(BedSegment(component, start, end, fade_in, fade_out))
    return segments


def _edge(plan: Plan, i: int, component: str, beds: list[tuple[str, ...]], entering: bool) -> tuple[int, int]:
    """Where a bed component starts (entering shot ``i``) or stops (leaving before shot ``i``), and its fade."""
    if i == 0:
        return 0, 0
    shot = plan.shots[i]
    boundary = seconds(shot.start)
    carries_on = component in beds[i] and component in beds[i - 1]
    if carries_on:  # same signal on both sides: the two halves sum back to it
        length = seconds(CUT_CROSSFADE)
    elif shot.transition.frames:
        length = seconds(shot.transition.duration)
    else:
        length = seconds(CHANGE_CROSSFADE if shot.continuity == "continue" else CUT_CROSSFADE)
    if shot.transition.frames and not carries_on:  # crossfade across the picture's overlap
        return (boundary, length) if entering else (boundary + length, length)
    return (boundary - length // 2, length) if entering else (boundary + length - length // 2, length)
