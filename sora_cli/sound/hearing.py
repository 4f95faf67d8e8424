"""A file's first audio stream decoded once and measured for everything that asks: the mix and the checks.

The mix decodes the AAC it wrote to accept it (its loudness, its exact true
peak and where it is over the delivery limit) and the delivery checks measure
the same stream for their report (momentary and short-term loudness, loudness
range, true peak per 100 ms, levels for silence). Decoding and K-weighting are
most of either's cost, so one pass (:func:`listen`) gives both: the checks'
measurement (:class:`Heard`) and the mix's exact true peak (:class:`ExactPeaks`),
and the measurement is kept by the stream's digest (:data:`HEARD`), where the
checks' :func:`sora_cli.qc.audio.heard` finds it without decoding again (the
sound worker measures the checks' soundtrack right after mixing it, in the
same process).

The checks' measurement is the same to the bit as it was when the checks
decoded on their own: the decoding, the blocks the meter is fed and the meter
are theirs. Its per-sample true peak takes the signal as silent after each
decoded block (the meter's edge); the mix's exact true peak corrects the last
samples of each block with the next block's first ones, so it is what a scan
of the whole stream gives (``tests/test_hearing.py`` holds it to
``PeakScan`` (``tests/peaks.py``), the scan the mix measured with
before).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from sora_cli import npz
from sora_cli.atomic import atomic_path
from sora_cli.digests import discard, seal, verified
from sora_cli.sound.loudness import SUB_BLOCK, LoudnessMeter, exact_peak_tail
from sora_cli.sound.synth import RATE

_CONTEXT = 64  # input samples kept for :func:`exact_peak_tail` (twice its reach, and more)
BLOCK = RATE * 8  # samples decoded before the meter is fed (and memory stays flat)

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
class Heard:
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
    def of(cls, meter: LoudnessMeter, rms: list[np.ndarray], damage: float | None) -> Heard:
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
    def load(cls, path: Path) -> Heard | None:
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


#: measurements by the digest of the audio stream's parameters and packets (:func:`stream_digest`): masters
#: of a matrix that carry the same soundtrack (every aspect of one language) are decoded and metered once per
#: process, and the checks of a soundtrack the sound worker just mixed find what its mix measured
HEARD: dict[str, Heard] = {}


def remember(digest: str, heard: Heard) -> None:
    """Keep ``heard`` in this process's memo (the 16 latest)."""
    HEARD[digest] = heard
    while len(HEARD) > 16:
        HEARD.pop(next(iter(HEARD)))


class _Digest:
    """sha256 of everything the first audio stream's decoding depends on, fed as its packets are read."""

    def __init__(self, stream: av.audio.stream.AudioStream):
        ctx = stream.codec_context
        self._h = hashlib.sha256()
        self._h.update(f"{ctx.name}|{ctx.sample_rate}|{ctx.channels}|{ctx.layout.name}|{stream.time_base}|".encode())
        self._h.update(bytes(ctx.extradata or b""))

    def add(self, packet: av.Packet) -> None:
        h = self._h
        h.update(f"{packet.pts}|{packet.dts}|{packet.duration}|{packet.size}|".encode())
        h.update(bytes(packet))
        for side in packet.iter_sidedata():
            h.update(f"|{side.data_type}|{side.data_size}|".encode())
            h.update(bytes(side))

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def stream_digest(path: Path, until: float | None = None) -> str | None:
    """sha256 of everything the first audio stream's decoding depends on; None when it cannot be read whole.

    The codec, its parameters and time base, then every packet: timing, bytes and side data (the
    priming samples a decoder skips). ``until``: only the packets a film that stops there carries
    (as :mod:`sora_cli.assemble.mux` copies them), so a soundtrack and the film that carries it
    have the same digest exactly when the film's audio is the soundtrack's.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            digest = _Digest(stream)
            for packet in carried(container.demux(stream), stream, until):
                digest.add(packet)
    except (av.FFmpegError, OSError):
        return None
    return digest.hexdigest()


def carried(
    packets: Iterable[av.Packet], stream: av.audio.stream.AudioStream, until: float | None
) -> Iterator[av.Packet]:
    """The stream's packets with data (``until``: those a film muxed to stop there carries, the packets that
    start before it: what :mod:`sora_cli.assemble.mux` copies and what the checks and the cache's digests read)."""
    limit = None if until is None else first_pts_at(until, stream.time_base)
    for packet in packets:
        if packet.size == 0 or packet.pts is None:
            continue
        if limit is not None and packet.pts >= limit:
            return
        yield packet


def first_pts_at(until: float, time_base: Fraction) -> int:
    """The first pts whose time, as a float, is at or after ``until``: ``float(pts * time_base) >= until``.

    Found once, so that a stream's packets are told apart by an integer each, not by a fraction
    multiplied and rounded per packet (most of a soundtrack's digest, three per edit). The exact
    ceiling meets the condition; a pts just below it may too, where the product rounds up to ``until``.
    """
    pts = math.ceil(Fraction(until) / time_base)
    while float((pts - 1) * time_base) >= until:
        pts -= 1
    return pts


class ExactPeaks:
    """The exact true peak of a stream per 100 ms, from the per-sample true peaks a :class:`LoudnessMeter`
    gives block by block.

    The meter takes the signal as silent after each block it is fed, so the last
    samples of a block are corrected once the next block's first samples are
    known (:func:`~sora_cli.sound.loudness.exact_peak_tail`); the values are those
    ``PeakScan`` (``tests/peaks.py``) finds, which interpolates only where
    a sub-block could reach its limit or the peak.
    """

    def __init__(self) -> None:
        self._held: np.ndarray | None = None  # the last block's per-sample peaks, its tail not yet corrected
        self._tail: np.ndarray | None = None  # the last input samples (the correction's left context)
        self._pending = np.zeros(0, np.float32)  # per-sample peaks short of a whole sub-block
        self._subs: list[np.ndarray] = []

    def add(self, block: np.ndarray, per_sample: np.ndarray) -> None:
        if self._held is not None and self._tail is not None:
            self._release(exact_peak_tail(self._held, self._tail, block))
        self._held = per_sample
        block = np.asarray(block[-_CONTEXT:], np.float32)
        self._tail = block if self._tail is None else np.concatenate([self._tail, block])[-_CONTEXT:]

    def per_sub_block(self) -> np.ndarray:
        """True peak (linear, float32) of every 100 ms, the last one partial; call once, after the last block."""
        if self._held is not None:
            self._release(self._held)  # (the stream ends: silence after it, as the meter took it)
            self._held = None
        if len(self._pending):
            self._subs.append(self._pending.max(keepdims=True))
            self._pending = self._pending[:0]
        return np.concatenate(self._subs) if self._subs else np.zeros(0, np.float32)

    def _release(self, per_sample: np.ndarray) -> None:
        data = np.concatenate([self._pending, per_sample])
        whole = len(data) // SUB_BLOCK * SUB_BLOCK
        if whole:
            self._subs.append(data[:whole].reshape(-1, SUB_BLOCK).max(axis=1))
        self._pending = data[whole:]


@dataclass(frozen=True)
class Listened:
    """One decoding's measures: the checks' :class:`Heard`, the exact true peak per 100 ms, the stream's digest."""

    heard: Heard
    peaks: np.ndarray  #: exact true peak (linear, float32) per 100 ms
    digest: str | None  #: :func:`stream_digest` of the packets decoded; None when the stream did not decode whole


def listen(path: Path, until: float | None = None, exact: bool = False) -> Listened:
    """Decode ``path``'s first audio stream once and measure it (``until``: as a film that stops there carries
    it; ``exact``: the exact true peak per 100 ms too).

    A stream that stops decoding (a truncated or damaged file) is measured as far as it decoded, with
    ``damage`` the time it stopped at.
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        layout = stream.codec_context.layout
        channels = stream.codec_context.channels or 1
        if len(layout.channels) != channels:
            layout = av.AudioLayout(channels)
        names = [ch.name for ch in layout.channels]
        meter = LoudnessMeter(channels=channels, weights=channel_weights(names))
        scan = ExactPeaks() if exact else None
        digest = _Digest(stream)
        resampler = av.AudioResampler(format="flt", layout=layout, rate=RATE)
        rms: list[np.ndarray] = []
        pending = np.zeros((0, channels), np.float32)

        def feed(block: np.ndarray) -> np.ndarray:
            per_sample = meter.add(block)
            if scan is not None and per_sample is not None:
                scan.add(block, per_sample)
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
            for packet in itertools.chain(carried(container.demux(stream), stream, until), [None]):
                if packet is not None:
                    digest.add(packet)
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
    peaks = scan.per_sub_block() if scan is not None else np.zeros(0, np.float32)
    return Listened(Heard.of(meter, rms, damage), peaks, None if damage is not None else digest.hexdigest())
