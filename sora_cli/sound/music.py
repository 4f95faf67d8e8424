"""Music: a file looped or trimmed to the film, faded out at the end, ducked under dialogue.

Ducking is an envelope computed from the plan's dialogue times, the way a
sidechain compressor keyed on the dialogue would move, but exact and
repeatable: it eases down :data:`DUCK_ATTACK` before each line, holds
:data:`DUCK_DB` under it and eases back up :data:`DUCK_RELEASE` after it
(raised-cosine ramps, no hard cuts).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from sora_cli.audio_files import AudioFileError, decode_audio
from sora_cli.digests import path_version
from sora_cli.errors import SoraError
from sora_cli.plan.model import Plan
from sora_cli.sound.synth import RATE, seconds

DUCK_DB = -12.0
DUCK_ATTACK = 0.25
DUCK_RELEASE = 0.6
LOOP_CROSSFADE = 0.08
FADE_OUT = 2.0


@dataclass(frozen=True)
class Music:
    """A sound file laid under the whole film (the music, or an ambience file).

    Its samples are decoded when first played, not when the mix is described: a render whose
    soundtrack is in the cache only computes the mix's keys, which need the file's digest, not
    its sound (decoding the bench film's music cost a picture edit ~40 ms before its first frame).
    The file is the one described: saved anew or removed since, the mix stops (it would have mixed the
    new sound into blocks kept under the old file's digest).
    """

    path: str  # the file (its digest goes into the mix blocks' keys: a file saved anew is heard)
    gain: float  # linear
    loop: bool
    total: int  # film length in samples
    lines: tuple[tuple[float, float], ...] = ()  # dialogue (start, end) in seconds, when ducking
    version: tuple[int, ...] | None = field(default=None, init=False, compare=False)  # the file as described

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", path_version(self.path))

    @functools.cached_property
    def samples(self) -> np.ndarray:
        """(n, 2) float32 at 48 kHz, of the file as it was when described."""
        try:
            data, failed = decode_audio(self.path), None
        except AudioFileError as exc:
            data, failed = None, exc
        if path_version(self.path) != self.version:
            raise SoraError(f"{self.path} changed while the film was being made: render again to hear the new file")
        if data is None:
            raise SoraError(f"cannot read {self.path}: {failed}")
        return data

    @classmethod
    def from_plan(cls, plan: Plan) -> Music | None:
        if not plan.audio.music:
            return None
        lines = (
            tuple((line.start, line.end) for shot in plan.shots for line in shot.dialogue)
            if plan.audio.music_duck
            else ()
        )
        return cls(plan.audio.music, 10 ** (plan.audio.music_gain / 20), plan.audio.music_loop, seconds(plan.duration), lines)

    def render(self, start: int, n: int) -> np.ndarray:
        idx = np.arange(start, start + n)
        out = self._looped(idx) * np.float32(self.gain)
        fade = min(seconds(FADE_OUT), self.total // 4)
        fading = max(0, self.total - fade - start)  # before the fade-out, its gain is exactly 1
        if fade and fading < n:
            tail = np.clip((self.total - idx[fading:]) / fade, 0, 1)
            out[fading:] *= (0.5 - 0.5 * np.cos(np.pi * tail)).astype(np.float32)[:, None]
        if self.lines:
            out *= duck_envelope(idx / RATE, self.lines)[:, None]
        out[idx >= self.total] = 0
        return out

    def _looped(self, idx: np.ndarray) -> np.ndarray:
        samples = self.samples
        length = len(samples)
        if length == 0:
            return np.zeros((len(idx), 2), np.float32)
        if not self.loop or length <= 2 * seconds(LOOP_CROSSFADE):
            out = np.zeros((len(idx), 2), np.float32)
            inside = idx < length
            out[inside] = samples[idx[inside]]
            return out
        x = seconds(LOOP_CROSSFADE)
        period = length - x
        m = idx % period
        out = samples[m].copy()
        seam = (m < x) & (idx >= period)  # blend the end of the previous pass into the start of this one
        if seam.any():
            w = (m[seam] / x).astype(np.float32)[:, None]
            out[seam] = samples[m[seam]] * w + samples[period + m[seam]] * (1 - w)
        return out


def duck_envelope(t: np.ndarray, lines: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Linear gain at times ``t``: 1 away from dialogue, ``DUCK_DB`` under it."""
    depth = np.zeros(len(t), np.float32)
    for start, end in lines:
        if end + DUCK_RELEASE < t[0] or start - DUCK_ATTACK > t[-1]:
            continue
        # outside the line's ramps the shape is exactly 0: compute it only over them (``t`` is sorted)
        lo, hi = np.searchsorted(t, [start - DUCK_ATTACK, end + DUCK_RELEASE], side="left")
        near = t[lo : hi + 1]
        rise = np.clip((near - (start - DUCK_ATTACK)) / DUCK_ATTACK, 0, 1)
        fall = np.clip(((end + DUCK_RELEASE) - near) / DUCK_RELEASE, 0, 1)
        shape = (0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))).astype(np.float32)
        np.maximum(depth[lo : hi + 1], shape, out=depth[lo : hi + 1])
    floor = 10 ** (DUCK_DB / 20)
    return (1 - (1 - floor) * depth).astype(np.float32)
