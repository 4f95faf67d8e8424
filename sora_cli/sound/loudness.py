"""Loudness (ITU-R BS.1770) measured block by block, and a true-peak limiter.

The meter uses pyloudnorm's K-weighting filters and its gating (400 ms blocks,
75% overlap, absolute gate at -70 LUFS, relative gate 10 LU below), but runs
over a stream of blocks carrying filter state, so the mix never has to be in
memory at once. ``tests/test_sound.py`` checks it against pyloudnorm itself.

The limiter keeps the 4x-oversampled (true) peak under a ceiling: the gain a
sample needs is the ceiling over its peak; a minimum over twice the smoothing
window, then a moving average over it, gives a smooth gain that is never above
what any nearby sample needs.
"""

from __future__ import annotations

import numpy as np
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin, lfilter, lfilter_zi, resample_poly

from sora_cli.sound.synth import RATE

SUB_BLOCK = RATE // 10  # 100 ms: the gating step
LIMITER_WINDOW = RATE // 200  # 5 ms
LIMITER_MARGIN = 2 * LIMITER_WINDOW + 64  # context a block needs on each side


class LoudnessMeter:
    def __init__(self, channels: int = 2, rate: int = RATE, track_peak: bool = True):
        self.track_peak = track_peak
        meter = pyloudnorm.Meter(rate)
        self._stages = [(f.b, f.a, f.passband_gain) for f in meter._filters.values()]
        self._state = [[lfilter_zi(b, a) * 0.0 for b, a, _ in self._stages] for _ in range(channels)]
        self._energy: list[np.ndarray] = []  # per 100 ms sub-block, per channel: sum of squares
        self._pending = np.zeros((0, channels))
        self.samples = 0
        self.peak = 0.0
        self._tail = np.zeros((0, channels))

    def add(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float64)
        weighted = np.empty_like(block)
        for ch in range(block.shape[1]):
            x = block[:, ch]
            for k, (b, a, gain) in enumerate(self._stages):
                x, self._state[ch][k] = lfilter(b, a, x, zi=self._state[ch][k])
                x = x * gain
            weighted[:, ch] = x
        data = np.concatenate([self._pending, weighted])
        whole = len(data) // SUB_BLOCK * SUB_BLOCK
        if whole:
            self._energy.append(np.square(data[:whole]).reshape(-1, SUB_BLOCK, block.shape[1]).sum(axis=1))
        self._pending = data[whole:]
        self.samples += len(block)
        if self.track_peak:
            self.peak = max(self.peak, true_peak(np.concatenate([self._tail, block])))
            self._tail = block[-CONTEXT:]

    def integrated(self) -> float:
        """Integrated loudness in LUFS (-inf for silence), as pyloudnorm computes it."""
        energy = np.concatenate(self._energy) if self._energy else np.zeros((0, 2))
        total_seconds = self.samples / RATE
        blocks = int(np.round((total_seconds - 0.4) / 0.1)) + 1
        if blocks <= 0 or len(energy) < 4:
            return float("-inf")
        blocks = min(blocks, len(energy) - 3)
        z = sum(energy[j : j + blocks] for j in range(4)) / (0.4 * RATE)  # (blocks, channels)
        loud = -0.691 + 10 * np.log10(np.maximum(z.sum(axis=1), 1e-20))
        gated = z[loud >= -70.0]
        if len(gated) == 0:
            return float("-inf")
        relative = -0.691 + 10 * np.log10(gated.mean(axis=0).sum()) - 10.0
        kept = z[(loud >= -70.0) & (loud > relative)]
        if len(kept) == 0:
            return float("-inf")
        return float(-0.691 + 10 * np.log10(kept.mean(axis=0).sum()))


WINDOW = 512  # samples per window checked for inter-sample peaks
CONTEXT = 48  # samples of context around an oversampled window
HEADROOM = 10 ** (4.0 / 20)  # inter-sample peaks stay well within 4 dB of the sample peak


def sample_peaks_over(block: np.ndarray, threshold: float) -> np.ndarray:
    """Start indices of :data:`WINDOW`-sample windows whose sample peak reaches ``threshold``."""
    n = len(block)
    padded = np.zeros((-(-n // WINDOW) * WINDOW, block.shape[1]), np.float32)
    padded[:n] = block
    return np.flatnonzero(np.abs(padded).reshape(-1, WINDOW * block.shape[1]).max(axis=1) >= threshold) * WINDOW


#: a 48-tap 4x interpolator (the shape BS.1770-4 Annex 2 describes), as its four 12-tap phases
_PHASES = [np.ascontiguousarray(h) for h in (firwin(48, 0.25, window=("kaiser", 7.0)) * 4).reshape(12, 4).T]
_DELAY = 6  # samples of group delay of each phase


def oversampled_peak(block: np.ndarray, floor: float) -> np.ndarray:
    """Per-sample true peak (max over channels and the four interpolation phases).

    A block whose sample peak stays below ``floor / HEADROOM`` cannot reach
    ``floor``; it keeps its sample peak and is not interpolated.
    """
    peak = np.abs(block).max(axis=1).astype(np.float32)
    if len(sample_peaks_over(block, floor / HEADROOM)) == 0:
        return peak
    n = len(block)
    for ch in range(block.shape[1]):
        x = np.asarray(block[:, ch], dtype=np.float32)
        for h in _PHASES:
            y = np.abs(np.convolve(x, h))[_DELAY - 1 : _DELAY - 1 + n]
            y = np.pad(y, (0, n - len(y)))
            np.maximum(peak, np.maximum(y, np.roll(y, 1)), out=peak)  # either neighbour of the interpolated point
    return peak


#: the measuring interpolator: 81 taps, as resample_poly designs it, designed once
_MEASURE = firwin(81, 0.25, window=("kaiser", 5.0))


def true_peak(block: np.ndarray) -> float:
    """Peak of the 4x-oversampled signal (linear): the accurate measurement.

    The limiter uses the cheaper :func:`oversampled_peak`; what is delivered is
    checked with this one.
    """
    if len(block) == 0:
        return 0.0
    return float(np.max(np.abs(resample_poly(np.asarray(block, np.float64), 4, 1, axis=0, window=_MEASURE))))


def peak_headroom(block: np.ndarray, floor: float) -> np.ndarray:
    """``1 / true peak``, held (minimum) over the limiter's lookahead window.

    The part of the limiter that does not depend on gain or ceiling, so it is
    computed once per block: for gain ``g`` and ceiling ``c`` the limiter's
    gain is then :func:`limiter_gain` ``(min(1, c / g * headroom))``. ``block``
    includes :data:`LIMITER_MARGIN` samples of context on each side; ``floor``
    is the lowest true peak that may need limiting (quieter blocks are not
    interpolated).
    """
    inverse = 1.0 / np.maximum(oversampled_peak(block, floor), 1e-12)
    return minimum_filter1d(inverse, size=2 * LIMITER_WINDOW + 1, mode="nearest").astype(np.float32)


def limiter_gain(held_need: np.ndarray) -> np.ndarray:
    """Smooth the held per-sample gain: a moving average over a window no wider than the hold.

    Each output sample averages values that are each the minimum over a window
    containing that sample, so the result is never above what the sample needs.
    """
    return uniform_filter1d(np.minimum(1.0, held_need), size=LIMITER_WINDOW, mode="nearest").astype(np.float32)
