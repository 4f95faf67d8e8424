"""Audio checks: loudness (BS.1770-4), true peak, momentary/short-term maxima, loudness range, silence.

Measured with sora's own streaming meter (:mod:`sora_cli.sound.loudness`) on
the decoded audio of any file PyAV opens, resampled to 48 kHz in its own
channel layout and weighted as BS.1770-4 says (:func:`channel_weights`: 5.1
is L, R, C at 1.0, Ls, Rs at 1.41, LFE left out); the true peak is over every
channel, the LFE included. A stream that stops decoding (a truncated or
damaged file) fails ``audio.decode`` at the time it stopped; the other checks
measure what did decode.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import av
import numpy as np

from sora_cli.digests import verified
from sora_cli.profiles import Loudness, Profile
from sora_cli.qc.planned import Intended
from sora_cli.qc.result import Check, runs
from sora_cli.sound.hearing import HEARD, Heard, listen, remember, stream_digest
from sora_cli.sound.hearing import channel_weights as channel_weights
from sora_cli.sound.loudness import ABSOLUTE_GATE, SUB_BLOCK
from sora_cli.sound.synth import RATE

MIN_MEASURABLE = 0.4  # s: one BS.1770 gating block


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else float("-inf")


def heard(path: Path, cache: Path | None = None, until: float | None = None) -> Heard:
    """The first audio stream measured (``until``: as a film stopping there carries it); kept by its digest,
    in this process and, with ``cache``, in that folder."""
    digest = stream_digest(path, until)
    entry = _entry(cache, digest) if digest and cache is not None else None
    found = HEARD.get(digest) if digest else None
    if found is None and entry is not None:
        found = Heard.load(entry)
    if found is None:
        found = listen(path, until).heard
    if entry is not None and not entry.is_file():
        found.save(entry)
    if digest:
        remember(digest, found)
    return found


def heard_stored(path: Path, cache: Path, until: float | None = None) -> bool:
    """Whether ``path``'s measurement is at hand (in this process, or in ``cache``), so that :func:`heard` needs no
    decoding and no meter (whose filters take scipy half a second to load)."""
    digest = stream_digest(path, until)
    return bool(digest) and (digest in HEARD or verified(_entry(cache, digest), keyed=True))


def _entry(cache: Path, digest: str) -> Path:
    """Where ``cache`` keeps the measurement of the audio stream whose digest is ``digest``."""
    return cache / digest[:2] / f"{digest}.npz"


def heard_ahead(path: Path, cache: Path, until: float | None = None) -> None:
    """Measure ``path`` into ``cache`` ahead of the checks (the sound worker's task, once its soundtrack is out).

    An optimisation that never fails a render: what it could not measure, the checks measure.
    """
    with contextlib.suppress(Exception):
        heard(path, cache, until)


def audio_checks(path: Path, profile: Profile, plan: Intended, cache: Path | None = None) -> list[Check]:
    """The loudness checks of ``path``'s first audio stream (``cache``: a folder keeping its measurement)."""
    spec = profile.loudness
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return [Check("audio.present", False, "no audio stream", "an audio stream")]
    return _held_to(heard(path, cache), spec, plan)


def _held_to(heard: Heard, spec: Loudness, plan: Intended) -> list[Check]:
    damage = heard.damage
    step = SUB_BLOCK / RATE
    checks: list[Check] = []
    if damage is not None:
        checks.append(
            Check("audio.decode", False, "damaged", "decodes to the end", (damage,), note="the audio stops decoding")
        )

    integrated = heard.integrated
    silent_by_plan = plan.silent and not math.isfinite(integrated)
    # BS.1770 gates 400 ms blocks: shorter audio has no integrated loudness at all, so there is nothing
    # to hold against the target (the true peak below is still checked)
    too_short = heard.samples < MIN_MEASURABLE * RATE
    note = "the plan has no sound" if silent_by_plan else ""
    if too_short:
        note = f"too short to measure: BS.1770 needs {MIN_MEASURABLE:g} s of audio"
    checks.append(
        Check(
            "audio.loudness",
            silent_by_plan
            or too_short
            or (math.isfinite(integrated) and abs(integrated - spec.target) <= spec.tolerance),
            integrated,
            f"{spec.target:g} +-{spec.tolerance:g}",
            unit="LUFS",
            note=note,
        )
    )
    peaks = heard.peaks
    ceiling = 10 ** (spec.true_peak / 20)
    over = np.flatnonzero(peaks > ceiling)
    checks.append(
        Check("audio.true_peak", len(over) == 0, _db(heard.peak), spec.true_peak, _times(over, step), unit="dBTP")
    )
    for check_id, series, limit in (
        ("audio.max_momentary", heard.momentary, spec.max_momentary),
        ("audio.max_short_term", heard.short_term, spec.max_short_term),
    ):
        top = float(series.max()) if len(series) else float("-inf")
        if top <= ABSOLUTE_GATE:  # (the meter's floor for digital silence is -200.7: no level, not a figure)
            top = float("-inf")
        bad = np.flatnonzero(series > limit) if limit is not None else np.zeros(0, int)
        note = "" if limit or top == float("-inf") else "reported"  # (a null level says why itself)
        checks.append(
            Check(check_id, len(bad) == 0, top, limit, _times(bad, step), unit="LUFS", note=note)
        )
    checks.append(Check("audio.loudness_range", True, heard.loudness_range, None, unit="LU", note="reported"))

    levels = heard.rms
    silent = [bool(v < 10 ** (spec.silence_db / 20)) for v in levels]
    times = [i * step for i in range(len(levels))]
    gaps = [
        (start, length)
        for start, length in runs(silent, times, step)
        if length > spec.silence_max and not plan.quiet_ok(start, start + length)
    ]
    longest = max((length for _, length in gaps), default=0.0)
    checks.append(Check("audio.silence", not gaps, longest, spec.silence_max, tuple(s for s, _ in gaps), unit="s"))
    return checks


def _times(indices: np.ndarray, step: float) -> tuple[float, ...]:
    """Start times of the runs of consecutive indices (one time per violation, not per 100 ms)."""
    out: list[float] = []
    previous = -2
    for i in indices.tolist():
        if i != previous + 1:
            out.append(i * step)
        previous = i
    return tuple(out)
