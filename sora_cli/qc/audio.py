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
import hashlib
import io
import itertools
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from sora_cli import npz
from sora_cli.atomic import atomic_path
from sora_cli.digests import discard, seal, verified
from sora_cli.profiles import Loudness, Profile
from sora_cli.qc.planned import Intended
from sora_cli.qc.result import Check, runs
from sora_cli.sound.loudness import ABSOLUTE_GATE, SUB_BLOCK, LoudnessMeter
from sora_cli.sound.synth import RATE

BLOCK = RATE * 8
MIN_MEASURABLE = 0.4  # s: one BS.1770 gating block


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 0 else float("-inf")


#: BS.1770-4 channel weights by PyAV channel name: front and centre 1.0, LFE left out; every other
#: channel (side and back surrounds) 1.41, the weight BS.1770 gives Ls and Rs
WEIGHTS = {"FL": 1.0, "FR": 1.0, "FC": 1.0, "LFE": 0.0, "LFE2": 0.0, "LOW_FREQUENCY": 0.0}
SURROUND_WEIGHT = 1.41


def channel_weights(names: list[str]) -> list[float]:
    """BS.1770 weight of each channel; a lone channel (mono) is weighted 1.0."""
    if len(names) == 1:
        return [1.0]
    return [WEIGHTS.get(name.upper(), SURROUND_WEIGHT) for name in names]


@dataclass(frozen=True)
class _Heard:
    """What the meter heard in a film's first audio stream (the checks then hold it against a profile)."""

    integrated: float
    samples: int
    peak: float
    peaks: np.ndarray  #: true peak per 100 ms
    momentary: np.ndarray  #: loudness over 0.4 s windows
    short_term: np.ndarray  #: loudness over 3 s windows
    loudness_range: float
    rms: np.ndarray  #: level per 100 ms (for silence)
    damage: float | None

    @classmethod
    def of(cls, meter: LoudnessMeter, rms: list[np.ndarray], damage: float | None) -> _Heard:
        levels = np.concatenate(rms) if rms else np.zeros(0)
        return cls(
            meter.integrated(), meter.samples, meter.peak, meter.peaks(), meter.windowed(0.4), meter.windowed(3.0),
            meter.loudness_range(), levels, damage,
        )  # fmt: skip

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        scalars = [
            self.integrated,
            self.samples,
            self.peak,
            self.loudness_range,
            np.nan if self.damage is None else self.damage,
        ]
        np.savez(buffer, scalars=np.asarray(scalars, np.float64), peaks=self.peaks, momentary=self.momentary,
                 short_term=self.short_term, rms=self.rms)  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
        seal(path, keyed=True)

    @classmethod
    def load(cls, path: Path) -> _Heard | None:
        """A stored measurement; None (a miss) unless sealed by this user and whole."""
        if not verified(path, keyed=True):
            return None
        try:
            with npz.opened(path) as data:
                integrated, samples, peak, lra, damage = data["scalars"].tolist()
                series = [np.asarray(data[k], np.float64) for k in ("peaks", "momentary", "short_term", "rms")]
                if samples < 0 or not math.isfinite(peak) or peak < 0 or any(s.ndim != 1 for s in series):
                    raise ValueError("its measures do not fit together")
                return cls(integrated, int(samples), peak, series[0], series[1], series[2], lra, series[3],
                           None if math.isnan(damage) else damage)  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, MemoryError, zipfile.BadZipFile) as exc:
            discard(path, f"cannot be read ({exc})")
            return None


#: measurements by the digest of the audio stream's parameters and packets: masters of a matrix that
#: carry the same soundtrack (every aspect of one language) are decoded and metered once per process
_HEARD: dict[str, _Heard] = {}


def _stream_digest(path: Path, until: float | None = None) -> str | None:
    """sha256 of everything the first audio stream's decoding depends on; None when it cannot be read whole.

    The codec, its parameters and time base, then every packet: timing, bytes and side data (the
    priming samples a decoder skips). ``until``: only the packets a film that stops there carries
    (as :mod:`sora_cli.assemble.mux` copies them), so a soundtrack and the film that carries it
    have the same digest exactly when the film's audio is the soundtrack's.
    """
    h = hashlib.sha256()
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            h.update(f"{ctx.name}|{ctx.sample_rate}|{ctx.channels}|{ctx.layout.name}|{stream.time_base}|".encode())
            h.update(bytes(ctx.extradata or b""))
            for packet in _carried(container.demux(stream), stream, until):
                h.update(f"{packet.pts}|{packet.dts}|{packet.duration}|{packet.size}|".encode())
                h.update(bytes(packet))
                for side in packet.iter_sidedata():
                    h.update(f"|{side.data_type}|{side.data_size}|".encode())
                    h.update(bytes(side))
    except (av.FFmpegError, OSError):
        return None
    return h.hexdigest()


def _carried(
    packets: Iterable[av.Packet], stream: av.audio.stream.AudioStream, until: float | None
) -> Iterator[av.Packet]:
    """The stream's packets with data (``until``: those a film muxed to stop there carries)."""
    for packet in packets:
        if packet.size == 0 or packet.pts is None:
            continue
        if until is not None and float(packet.pts * stream.time_base) >= until:
            return
        yield packet


def heard(path: Path, cache: Path | None = None, until: float | None = None) -> _Heard:
    """The first audio stream measured (``until``: as a film stopping there carries it); kept by its digest,
    in this process and, with ``cache``, in that folder."""
    digest = _stream_digest(path, until)
    entry = _entry(cache, digest) if digest and cache is not None else None
    found = _HEARD.get(digest) if digest else None
    if found is None and entry is not None:
        found = _Heard.load(entry)
    if found is None:
        found = _hear(path, until)
    if entry is not None and not entry.is_file():
        found.save(entry)
    if digest:
        _HEARD[digest] = found
        while len(_HEARD) > 16:
            _HEARD.pop(next(iter(_HEARD)))
    return found


def heard_stored(path: Path, cache: Path, until: float | None = None) -> bool:
    """Whether ``path``'s measurement is at hand (in this process, or in ``cache``), so that :func:`heard` needs no
    decoding and no meter (whose filters take scipy half a second to load)."""
    digest = _stream_digest(path, until)
    return bool(digest) and (digest in _HEARD or verified(_entry(cache, digest), keyed=True))


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


def _hear(path: Path, until: float | None = None) -> _Heard:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = stream.codec_context.layout
        channels = stream.codec_context.channels or 1
        if len(layout.channels) != channels:
            layout = av.AudioLayout(channels)
        names = [ch.name for ch in layout.channels]
        meter = LoudnessMeter(channels=channels, weights=channel_weights(names))
        resampler = av.AudioResampler(format="flt", layout=layout, rate=RATE)
        rms: list[np.ndarray] = []
        pending = np.zeros((0, channels), np.float32)

        def feed(block: np.ndarray) -> np.ndarray:
            meter.add(block)
            data = np.concatenate([pending, block])
            whole = len(data) // SUB_BLOCK * SUB_BLOCK
            if whole:
                rms.append(np.sqrt(np.mean(np.square(data[:whole].reshape(-1, SUB_BLOCK * channels)), axis=1)))
            return data[whole:]

        parts: list[np.ndarray] = []
        size = 0
        decoded = 0
        damage: float | None = None
        try:
            # every packet with data, then the decoder drained (None): the same whether the stream ends there or not
            for packet in itertools.chain(_carried(container.demux(stream), stream, until), [None]):
                for frame in stream.decode(packet):
                    for out in resampler.resample(frame):
                        parts.append(out.to_ndarray().reshape(-1, channels))
                        size += len(parts[-1])
                        decoded += len(parts[-1])
                    if size >= BLOCK:
                        pending = feed(np.concatenate(parts))
                        parts, size = [], 0
        except av.FFmpegError:  # damaged or truncated: measure what decoded, fail at where it stopped
            damage = decoded / RATE
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1, channels))
        if parts:
            pending = feed(np.concatenate(parts))
    return _Heard.of(meter, rms, damage)


def _held_to(heard: _Heard, spec: Loudness, plan: Intended) -> list[Check]:
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
