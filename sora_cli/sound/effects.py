"""The built-in sound effects, synthesised procedurally and deterministically.

Each effect is a small recipe over noise, tones and envelopes, seeded by its
name, so ``wind_gust`` is the same bytes on every machine. ``sora sounds``
lists them (names and descriptions live in :mod:`sora_cli.sound_catalog`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

import numpy as np

from sora_cli.sound.synth import RATE, envelope, fade_edges, normalise, place, seconds, shaped_noise, tone
from sora_cli.sound_catalog import EFFECTS

Recipe = Callable[[np.random.Generator], np.ndarray]
_RECIPES: dict[str, Recipe] = {}


def recipe(name: str) -> Callable[[Recipe], Recipe]:
    def register(fn: Recipe) -> Recipe:
        _RECIPES[name] = fn
        return fn

    return register


@functools.lru_cache(maxsize=64)
def effect(name: str) -> np.ndarray:
    """The effect ``name`` as float32 mono at 48 kHz, peak 0.5 (read-only)."""
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    out = normalise(fade_edges(_RECIPES[name](np.random.default_rng(seed)).astype(np.float32)))
    out.setflags(write=False)
    return out


def burst(rng: np.random.Generator, length: float, lo: float, hi: float, attack: float, release: float) -> np.ndarray:
    n = seconds(length)
    return shaped_noise(rng, n, lo, hi) * envelope(n, attack, release)


@recipe("wind_gust")
def _wind_gust(rng):
    n = seconds(2.8)
    t = np.arange(n) / RATE
    swell = np.sin(np.pi * np.clip(t / 2.8, 0, 1)) ** 2
    whistle = tone(n, 520 + 160 * np.sin(2 * np.pi * 0.6 * t)) * 0.08
    return (shaped_noise(rng, n, 150, 1800, tilt=-3) + whistle) * swell


@recipe("thunder")
def _thunder(rng):
    n = seconds(4.0)
    crack = burst(rng, 0.25, 800, 9000, 0.002, 0.06)
    rumble = shaped_noise(rng, n, 20, 220, tilt=-4) * envelope(n, 0.08, 1.4)
    out = rumble * 0.9
    place(out, crack, 0.0, 0.7)
    return out


def _steps(rng, count, gap, make):
    out = np.zeros(seconds(gap * count + 0.3), np.float32)
    for k in range(count):
        place(out, make(rng), k * gap + rng.uniform(-0.03, 0.03))
    return out


@recipe("footsteps_snow")
def _footsteps_snow(rng):
    def crunch(r):
        grains = burst(r, 0.16, 600, 6000, 0.01, 0.05)
        return grains * (r.random(len(grains)) > 0.6)

    return _steps(rng, 4, 0.5, crunch)


@recipe("footsteps_hard")
def _footsteps_hard(rng):
    def heel(r):
        n = seconds(0.12)
        return (tone(n, 190) * 0.6 + shaped_noise(r, n, 1500, 7000) * 0.4) * envelope(n, 0.001, 0.025)

    return _steps(rng, 4, 0.48, heel)


@recipe("door_knock")
def _door_knock(rng):
    def knock(r):
        n = seconds(0.15)
        return (tone(n, 140) + 0.6 * tone(n, 410) + 0.3 * shaped_noise(r, n, 200, 3000)) * envelope(n, 0.001, 0.03)

    return _steps(rng, 3, 0.22, knock)


@recipe("door_slam")
def _door_slam(rng):
    n = seconds(1.0)
    out = (tone(n, 70) + 0.5 * tone(n, 115)) * envelope(n, 0.002, 0.18)
    place(out, burst(rng, 0.3, 300, 5000, 0.001, 0.05), 0.0, 0.8)
    place(out, burst(rng, 0.4, 2000, 6000, 0.01, 0.1), 0.05, 0.15)
    return out


@recipe("splash")
def _splash(rng):
    n = seconds(0.9)
    t = np.arange(n) / RATE
    body = shaped_noise(rng, n, 300, 8000) * envelope(n, 0.005, 0.25)
    plops = tone(n, 900 - 500 * t) * envelope(n, 0.001, 0.05)
    return body + 0.4 * plops


@recipe("glass_break")
def _glass_break(rng):
    n = seconds(1.3)
    out = shaped_noise(rng, n, 2000, 12000) * envelope(n, 0.001, 0.08) * 0.6
    for _ in range(24):
        f = rng.uniform(2500, 9000)
        m = seconds(rng.uniform(0.1, 0.6))
        place(
            out, tone(m, f) * envelope(m, 0.0005, rng.uniform(0.03, 0.15)), rng.uniform(0.0, 0.5), rng.uniform(0.1, 0.3)
        )
    return out


@recipe("car_pass")
def _car_pass(rng):
    n = seconds(3.2)
    t = np.arange(n) / RATE
    closeness = 1 / (1 + ((t - 1.6) / 0.45) ** 2)
    doppler = 1 + 0.06 * np.tanh(-(t - 1.6) / 0.3)
    engine = sum(tone(n, 85 * k * doppler) / k for k in range(1, 6))
    road = shaped_noise(rng, n, 200, 4000, tilt=-2)
    return (0.6 * engine + road) * closeness


@recipe("engine_start")
def _engine_start(rng):
    n = seconds(2.6)
    t = np.arange(n) / RATE
    crank = shaped_noise(rng, n, 100, 2500) * (0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 9 * t))) * (t < 1.0)
    idle = sum(tone(n, 32 * k) / k for k in range(1, 7)) * np.clip((t - 0.9) / 0.2, 0, 1)
    return 0.6 * crank + 0.5 * idle * (1 + 0.2 * np.sin(2 * np.pi * 4 * t))


@recipe("bird_chirp")
def _bird_chirp(rng):
    out = np.zeros(seconds(1.4), np.float32)
    for k in range(3):
        m = seconds(0.09)
        tt = np.arange(m) / RATE
        place(
            out,
            tone(m, 3200 + 1800 * tt / 0.09 + 400 * np.sin(2 * np.pi * 40 * tt)) * np.sin(np.pi * tt / 0.09),
            0.1 + 0.35 * k + rng.uniform(0, 0.05),
        )
    return out


@recipe("dog_bark")
def _dog_bark(rng):
    def bark(r):
        m = seconds(0.22)
        tt = np.arange(m) / RATE
        voice = sum(tone(m, 320 * k * (1 - 0.5 * tt)) / k for k in range(1, 8))
        return (voice + 0.5 * shaped_noise(r, m, 500, 3000)) * envelope(m, 0.01, 0.07)

    out = np.zeros(seconds(0.9), np.float32)
    place(out, bark(rng), 0.0)
    place(out, bark(rng), 0.38)
    return out


@recipe("phone_ring")
def _phone_ring(rng):
    out = np.zeros(seconds(3.0), np.float32)
    m = seconds(1.0)
    tt = np.arange(m) / RATE
    ring = (tone(m, 440) + tone(m, 480)) * (np.sin(2 * np.pi * 20 * tt) > 0) * 0.5
    place(out, ring, 0.0)
    place(out, ring, 1.6)
    return out


@recipe("click")
def _click(rng):
    n = seconds(0.03)
    return (shaped_noise(rng, n, 1000, 9000) + tone(n, 2400)) * envelope(n, 0.0003, 0.004)


@recipe("whoosh")
def _whoosh(rng):
    n = seconds(0.7)
    t = np.arange(n) / RATE
    noise = shaped_noise(rng, n, 300, 6000)
    bright = shaped_noise(rng, n, 2000, 9000)
    return (noise + bright * (t / 0.7)) * np.sin(np.pi * t / 0.7) ** 2


@recipe("impact")
def _impact(rng):
    n = seconds(0.7)
    t = np.arange(n) / RATE
    return tone(n, 55 + 60 * np.exp(-t * 20)) * envelope(n, 0.001, 0.15) + 0.4 * burst(rng, 0.7, 100, 2500, 0.001, 0.05)


@recipe("crowd_murmur")
def _crowd(rng):
    n = seconds(3.0)
    t = np.arange(n) / RATE
    out = np.zeros(n, np.float32)
    for _ in range(12):
        syllables = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6))
        out += shaped_noise(rng, n, rng.uniform(250, 400), rng.uniform(1800, 2800)) * syllables
    return out


@recipe("applause")
def _applause(rng):
    n = seconds(3.0)
    out = np.zeros(n, np.float32)
    clap = burst(rng, 0.03, 800, 8000, 0.0005, 0.008)
    for at in np.sort(rng.uniform(0, 2.8, 260)):
        place(out, clap, float(at), float(rng.uniform(0.3, 1.0)))
    t = np.arange(n) / RATE
    return out * np.clip(t / 0.3, 0, 1) * np.clip((3.0 - t) / 0.8, 0, 1)


@recipe("heartbeat")
def _heartbeat(rng):
    out = np.zeros(seconds(2.2), np.float32)
    m = seconds(0.14)
    thump = tone(m, 55) * envelope(m, 0.005, 0.04)
    for beat in (0.1, 1.1):
        place(out, thump, beat)
        place(out, thump, beat + 0.22, 0.7)
    return out


@recipe("sled_scrape")
def _sled_scrape(rng):
    n = seconds(2.0)
    t = np.arange(n) / RATE
    rough = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 7 * t + 3 * np.sin(2 * np.pi * 1.3 * t)))
    return shaped_noise(rng, n, 900, 7000) * rough * np.sin(np.pi * t / 2.0) ** 0.5


@recipe("camera_shutter")
def _shutter(rng):
    out = np.zeros(seconds(0.3), np.float32)
    place(out, burst(rng, 0.03, 1500, 9000, 0.0005, 0.006), 0.0)
    place(out, burst(rng, 0.04, 800, 6000, 0.0005, 0.01), 0.11, 0.8)
    return out


@recipe("typing")
def _typing(rng):
    out = np.zeros(seconds(2.2), np.float32)
    key = burst(rng, 0.025, 1200, 8000, 0.0005, 0.005)
    for at in np.cumsum(rng.uniform(0.07, 0.22, 14)):
        if at < 2.1:
            place(out, key, float(at), float(rng.uniform(0.5, 1.0)))
    return out


@recipe("pop")
def _pop(rng):
    n = seconds(0.12)
    t = np.arange(n) / RATE
    return tone(n, 700 * np.exp(-t * 25) + 150) * envelope(n, 0.0005, 0.02) + 0.3 * burst(
        rng, 0.12, 1000, 6000, 0.0005, 0.005
    )


@recipe("chime")
def _chime(rng):
    n = seconds(1.4)
    return sum(
        a * tone(n, f) * envelope(n, 0.002, d)
        for f, a, d in ((1318.5, 0.6, 0.5), (1975.5, 0.3, 0.35), (2637.0, 0.15, 0.2))
    )


@recipe("rain_burst")
def _rain_burst(rng):
    n = seconds(2.2)
    t = np.arange(n) / RATE
    out = shaped_noise(rng, n, 1500, 11000) * 0.5
    drop = burst(rng, 0.01, 2000, 9000, 0.0002, 0.002)
    for at in rng.uniform(0, 2.1, 220):
        place(out, drop, float(at), float(rng.uniform(0.2, 0.8)))
    return out * np.sin(np.pi * t / 2.2) ** 0.5


@recipe("fire_crackle")
def _fire(rng):
    n = seconds(3.0)
    out = shaped_noise(rng, n, 60, 600, tilt=-3) * 0.35
    crack = burst(rng, 0.015, 1500, 9000, 0.0002, 0.003)
    for at in rng.uniform(0, 2.9, 45):
        place(out, crack, float(at), float(rng.uniform(0.3, 1.0)))
    return out


@recipe("water_drip")
def _drip(rng):
    out = np.zeros(seconds(2.4), np.float32)
    m = seconds(0.08)
    tt = np.arange(m) / RATE
    plip = tone(m, 900 + 9000 * tt) * envelope(m, 0.001, 0.02)
    for at in (0.1, 0.9, 1.7):
        place(out, plip, at + float(rng.uniform(0, 0.08)))
    return out


@recipe("swoosh_logo")
def _swoosh_logo(rng):
    n = seconds(1.4)
    t = np.arange(n) / RATE
    sweep = shaped_noise(rng, n, 400, 9000) * (t / 1.4) ** 2
    shimmer = (
        sum(tone(n, f) for f in (1046.5, 1568.0, 2093.0))
        * np.clip((t - 1.0) / 0.1, 0, 1)
        * np.exp(-np.maximum(t - 1.1, 0) * 6)
    )
    return sweep + 0.25 * shimmer


missing = set(EFFECTS) - set(_RECIPES)
assert not missing, f"effects without a recipe: {missing}"
