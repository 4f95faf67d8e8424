"""Loudness (ITU-R BS.1770) measured block by block, and a true-peak limiter.

The meter uses pyloudnorm's K-weighting filters and its gating (400 ms blocks,
75% overlap, absolute gate at -70 LUFS, relative gate 10 LU below), but runs
over a stream of blocks carrying filter state, so the mix never has to be in
memory at once. ``tests/test_sound.py`` checks it against pyloudnorm itself.

The limiter keeps the 4x-oversampled (true) peak under a ceiling: the gain a
sample needs is the ceiling over its true peak (every sample interpolated); a
minimum over twice the smoothing window (the lookahead), then a moving average
over it, gives a smooth gain that is never above what any nearby sample needs.

The meter also gives momentary (400 ms) and short-term (3 s) loudness and the
loudness range (EBU Tech 3341/3342) for ``sora qc``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sora_cli.dsp import designs, kernels
from sora_cli.sound.synth import RATE

# scipy.signal (and pyloudnorm, which imports it) cost 0.7-1 s to import and scipy.ndimage 0.2 s, more than a
# line edit's whole mix: the filters are designed once and kept in files (dsp/designs.py), and scipy's
# compiled loops are called without those imports (dsp/kernels.py)

SUB_BLOCK = RATE // 10  # 100 ms: the gating step
ABSOLUTE_GATE = -70.0  # LUFS: BS.1770's absolute gate (a block quieter than this has no loudness)
#: 20 ms: the limiter's hold and smoothing. A 5 ms window followed single waveform cycles, distorting the
#: peaks it limited, and the AAC encoder then overshot that distortion by up to 2.3 dB (three encodes for
#: the bench film); at 20 ms the gain moves slowly enough that the encoded film stays within 0.4 dB of it
LIMITER_WINDOW = RATE // 50
LIMITER_MARGIN = 2 * LIMITER_WINDOW + 64  # context a block needs on each side
CONTEXT = 48  # samples of context carried between blocks for the true-peak interpolator


class LoudnessMeter:
    def __init__(
        self, channels: int = 2, rate: int = RATE, track_peak: bool = True, weights: list[float] | None = None
    ):
        """``weights``: BS.1770's per-channel weights on the energy (default 1.0 each, as for stereo)."""
        self.track_peak = track_peak
        self._weights = np.asarray(weights if weights is not None else [1.0] * channels, np.float64)
        # pyloudnorm's K-weighting stages as one cascade of biquads, run over every channel at once in
        # float64 (one sosfilt call costs a quarter of one lfilter call per stage and channel)
        self._sos = designs.k_weighting(rate)
        self._state = np.zeros((len(self._sos), 2, channels))
        self._energy: list[np.ndarray] = []  # per 100 ms sub-block, per channel: sum of squares
        self._pending = np.zeros((0, channels))
        self.samples = 0
        self.peak = 0.0
        self._tail = np.zeros((0, channels), np.float32)
        self._peaks: list[np.ndarray] = []  # true peak (linear) per 100 ms sub-block
        self._peak_pending = np.zeros(0)

    def add(self, block: np.ndarray) -> np.ndarray | None:
        """Meter ``block``; with ``track_peak``, its per-sample true peak (float32), taking the signal as silent
        after it (:func:`exact_peak_tail` corrects its last samples once the next block is known)."""
        # (no copies the result does not need: sosfilt takes float32 to float64 as it lays the channels out, and
        # a block of whole sub-blocks is summed where the filter wrote it, in the same layout)
        block = np.asarray(block)
        weighted, self._state = kernels.sosfilt(self._sos, block, self._state)
        data = np.concatenate([self._pending, weighted]) if len(self._pending) else weighted
        whole = len(data) // SUB_BLOCK * SUB_BLOCK
        if whole:
            by_channel = np.ascontiguousarray(data[:whole].T).reshape(block.shape[1], -1, SUB_BLOCK)
            energy = np.einsum("kij,kij->ik", by_channel, by_channel)  # sum of squares per sub-block and channel
            self._energy.append(energy * self._weights)
        self._pending = data[whole:]
        self.samples += len(block)
        if self.track_peak:
            per_sample = _true_peak_per_sample(block, self._tail)
            if len(per_sample):
                self.peak = max(self.peak, float(per_sample.max()))
            data = np.concatenate([self._peak_pending, per_sample])
            whole = len(data) // SUB_BLOCK * SUB_BLOCK
            if whole:
                self._peaks.append(data[:whole].reshape(-1, SUB_BLOCK).max(axis=1))
            self._peak_pending = data[whole:]
            self._tail = np.asarray(block[-CONTEXT:], np.float32)
            return per_sample
        return None

    def peaks(self) -> np.ndarray:
        """True peak (linear) of every 100 ms of the signal so far, in order (the last one partial)."""
        parts = [*self._peaks, self._peak_pending.max(keepdims=True)] if len(self._peak_pending) else self._peaks
        return np.concatenate(parts) if parts else np.zeros(0)

    def _sub_blocks(self) -> np.ndarray:
        return np.concatenate(self._energy) if self._energy else np.zeros((0, len(self._weights)))

    def windowed(self, seconds: float) -> np.ndarray:
        """Ungated loudness (LUFS) of every ``seconds``-long window, one per 100 ms step.

        0.4 s gives momentary loudness, 3 s short-term loudness (EBU Tech 3341);
        a film shorter than the window has none.
        """
        energy = self._sub_blocks()
        width = round(seconds * 10)
        if len(energy) < width:
            return np.zeros(0)
        csum = np.concatenate([np.zeros((1, energy.shape[1])), np.cumsum(energy, axis=0)])
        z = (csum[width:] - csum[:-width]) / (width * SUB_BLOCK)
        return -0.691 + 10 * np.log10(np.maximum(z.sum(axis=1), 1e-20))

    def loudness_range(self) -> float:
        """Loudness range (LU, EBU Tech 3342): the spread of gated short-term loudness, 10th to 95th percentile."""
        short = self.windowed(3.0)
        short = short[short >= ABSOLUTE_GATE]
        if len(short) == 0:
            return 0.0
        power = np.mean(10 ** ((short + 0.691) / 10))
        kept = short[short >= -0.691 + 10 * np.log10(power) - 20.0]
        if len(kept) == 0:
            return 0.0
        low, high = np.percentile(kept, [10, 95])
        return float(high - low)

    def integrated(self) -> float:
        """Integrated loudness in LUFS (-inf for silence), as pyloudnorm computes it."""
        energy = self._sub_blocks()
        total_seconds = self.samples / RATE
        blocks = int(np.round((total_seconds - 0.4) / 0.1)) + 1
        if blocks <= 0 or len(energy) < 4:
            return float("-inf")
        blocks = min(blocks, len(energy) - 3)
        z = sum(energy[j : j + blocks] for j in range(4)) / (0.4 * RATE)  # (blocks, channels)
        loud = -0.691 + 10 * np.log10(np.maximum(z.sum(axis=1), 1e-20))
        gated = z[loud >= ABSOLUTE_GATE]
        if len(gated) == 0:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean(axis=0).sum()) - 10.0
        kept = z[(loud >= ABSOLUTE_GATE) & (loud > relative)]
        if len(kept) == 0:
            return float("-inf")
        return float(-0.691 + 10 * np.log10(kept.mean(axis=0).sum()))


#: rows (samples) the interpolator works through at once: its arrays stay in the core's cache
_CHUNK = 16384


def _phase_peaks(x: np.ndarray, taps: np.ndarray, first: int, n: int) -> np.ndarray:
    """For ``i < n``: the largest ``|y|`` over the channels and the four outputs ``y[first + 4i : first + 4i + 4]``
    of ``upfirdn(taps, x, 4)`` (scipy's: zero-stuff by 4, filter with ``taps``), float32.

    The same bits as scipy's loop gives, three times as fast: every output is the
    same float32 products added in the same order (the oldest input first), here
    phase by phase over a chunk of rows at once. The terms left out (zero taps,
    inputs outside ``x``) are zeros, which change no sum, only at most the sign of
    a zero, which ``|y|`` drops. ``first`` is a multiple of 4 (phase 0).
    """
    up = 4
    x = np.asarray(x, np.float32)
    per_phase = -(-len(taps) // up)
    full = np.zeros(per_phase * up, np.float32)
    full[: len(taps)] = taps
    base = first // up - per_phase + 1  # the input of row 0's oldest term
    before, after = max(0, -base), max(0, base + n + per_phase - 1 - len(x))
    if before or after:
        x = np.concatenate([np.zeros((before, x.shape[1]), np.float32), x, np.zeros((after, x.shape[1]), np.float32)])
    base += before
    terms = [
        [(j, full[q + up * (per_phase - 1 - j)]) for j in range(per_phase) if full[q + up * (per_phase - 1 - j)] != 0]
        for q in range(up)
    ]
    out = np.empty(n, np.float32)
    for a in range(0, n, _CHUNK):
        m = min(_CHUNK, n - a)
        acc = np.empty((m, x.shape[1]), np.float32)
        term = np.empty_like(acc)
        best = np.zeros_like(acc)  # (|y| >= 0)
        for phase in terms:
            (j, tap), *rest = phase
            np.multiply(x[a + base + j : a + base + j + m], tap, out=acc)
            for j, tap in rest:
                np.multiply(x[a + base + j : a + base + j + m], tap, out=term)
                np.add(acc, term, out=acc)
            np.maximum(best, np.abs(acc, out=acc), out=best)
        row = out[a : a + m]
        np.copyto(row, best[:, 0])
        for k in range(1, x.shape[1]):
            np.maximum(row, best[:, k], out=row)
    return out


@dataclass(frozen=True)
class _Interpolators:
    limiter: np.ndarray  # a 48-tap 4x interpolator (the shape BS.1770-4 Annex 2 describes), float32, as upfirdn runs it
    measure: np.ndarray  # the measuring interpolator: _MEASURE_LENGTH taps, as resample_poly designs it
    measure_taps: np.ndarray  # the same, with resample_poly's own scaling, float32
    measure_bound: float  # the largest gain of any phase (sum of |taps|), and a hair more


@functools.cache
def _interpolators() -> _Interpolators:
    """The true-peak interpolators, designed once, on first use."""
    measure = designs.firwin(_MEASURE_LENGTH, 0.25, 5.0)
    taps = (measure * 4).astype(np.float32)
    return _Interpolators(
        limiter=(designs.firwin(48, 0.25, 7.0) * 4).astype(np.float32),
        measure=measure,
        measure_taps=taps,
        measure_bound=float(max(np.abs(taps[p::4].astype(np.float64)).sum() for p in range(4))) * 1.001,
    )


_DELAY = 6  # input samples of group delay of each phase


def oversampled_peak(block: np.ndarray) -> np.ndarray:
    """Per-sample true peak: the max over channels and the four interpolation phases.

    Every sample is interpolated: whether a quiet passage needs limiting depends
    on the gain applied later, so skipping "quiet" windows here would let their
    inter-sample peaks through once the mix is made louder.
    """
    n = len(block)
    y = _phase_peaks(block, _interpolators().limiter, 4 * (_DELAY - 1), n)
    peak = _largest_magnitude(block)
    np.maximum(peak, y, out=peak)
    peak[1:] = np.maximum(peak[1:], y[:-1])  # either neighbour of the interpolated point
    return peak


def _largest_magnitude(block: np.ndarray) -> np.ndarray:
    """Each sample's largest |value| over the channels, float32: one column at a time (numpy's max along a short
    last axis costs several times as much, for the same values)."""
    out = np.abs(np.asarray(block[:, 0], np.float32))
    for k in range(1, block.shape[1]):
        np.maximum(out, np.abs(np.asarray(block[:, k], np.float32)), out=out)
    return out


_MEASURE_LENGTH = 81  # taps of the measuring interpolator (:func:`_interpolators`)
_MEASURE_DELAY = _MEASURE_LENGTH // 2  # output samples (at 4x) of the interpolator's delay
_MEASURE_REACH = _MEASURE_LENGTH // 4 + 1  # input samples an interpolated point depends on, either side


def _interpolated_peak(x: np.ndarray) -> np.ndarray:
    """Per-sample true peak of ``x`` less :data:`_MEASURE_REACH` samples of context at each end (float32)."""
    n = len(x) - 2 * _MEASURE_REACH
    return _phase_peaks(x, _interpolators().measure_taps, _MEASURE_DELAY + 4 * _MEASURE_REACH, n)


def _true_peak_per_sample(block: np.ndarray, before: np.ndarray | None = None) -> np.ndarray:
    """For each input sample, the largest |value| of the 4x-oversampled signal at or just after it.

    The signal is taken as silent outside ``block`` and the samples ``before`` it (as resample_poly
    takes it), in float32; the values are ``block``'s only.
    """
    if len(block) == 0:
        return np.zeros(0, np.float32)
    before = np.zeros((0, block.shape[1]), np.float32) if before is None else before
    reach, m = _MEASURE_REACH, len(before)
    x = np.zeros((reach + m + len(block) + reach, block.shape[1]), np.float32)  # one copy, the silence around
    x[reach : reach + m] = before
    x[reach + m : reach + m + len(block)] = block
    return _interpolated_peak(x)[m:]


def exact_peak_tail(per_sample: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``per_sample`` (a block's true peaks, the signal taken as silent after it) with its last samples'
    recomputed from the samples ``after`` the block.

    ``before``: the last samples up to the block's end (at least :data:`_MEASURE_REACH` more than
    the samples corrected, or all there were: silence before them). Only the last
    :data:`_MEASURE_REACH` samples reach past the block; each is the same to the bit as an
    interpolation of the whole signal gives (the interpolator's sums differ only by zeros).
    """
    reach = _MEASURE_REACH
    m = min(reach, len(per_sample))
    if m == 0:
        return per_sample
    channels = before.shape[1]
    left = np.asarray(before[-(reach + m) :], np.float32)
    left = np.concatenate([np.zeros((reach + m - len(left), channels), np.float32), left])
    right = np.asarray(after[:reach], np.float32)
    right = np.concatenate([right, np.zeros((reach - len(right), channels), np.float32)])
    out = per_sample.copy()
    out[len(out) - m :] = _interpolated_peak(np.concatenate([left, right]))
    return out


def peak_headroom(block: np.ndarray) -> np.ndarray:
    """``1 / true peak``, held (minimum) over the limiter's lookahead window.

    The part of the limiter that does not depend on gain or ceiling, so it is
    computed once per block: for gain ``g`` and ceiling ``c`` the limiter's
    gain is then :func:`limiter_gain` ``(min(1, c / g * headroom))``. ``block``
    includes :data:`LIMITER_MARGIN` samples of context on each side.
    """
    inverse = 1.0 / np.maximum(oversampled_peak(block), 1e-12)
    return kernels.minimum_filter1d(inverse, 2 * LIMITER_WINDOW + 1, mode="nearest").astype(np.float32)


def limiter_gain(held_need: np.ndarray) -> np.ndarray:
    """Smooth the held per-sample gain: a moving average over a window no wider than the hold.

    Each output sample averages values that are each the minimum over a window
    containing that sample, so the result is never above what the sample needs.
    """
    return kernels.uniform_filter1d(np.minimum(1.0, held_need), LIMITER_WINDOW, mode="nearest").astype(np.float32)
