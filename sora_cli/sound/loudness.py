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
from scipy.signal import lfilter, lfilter_zi, resample_poly

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


def oversampled_peak(block: np.ndarray, floor: float) -> np.ndarray:
    """Per-sample true peak (max over channels of the 4x-oversampled signal).

    Windows whose sample peak is below ``floor / HEADROOM`` cannot reach
    ``floor``; they keep their sample peak and are not oversampled.
    """
    peak = np.abs(block).max(axis=1).astype(np.float64)
    for start in sample_peaks_over(block, floor / HEADROOM):
        lo, hi = max(0, start - CONTEXT), min(len(block), start + WINDOW + CONTEXT)
        up = resample_poly(np.asarray(block[lo:hi], dtype=np.float64), 4, 1, axis=0)
        local = np.abs(up).max(axis=1).reshape(-1, 4).max(axis=1)
        end = min(len(block), start + WINDOW)
        peak[start:end] = np.maximum(peak[start:end], local[start - lo : end - lo])
    return peak


def true_peak(block: np.ndarray) -> float:
    """Peak of the 4x-oversampled signal (linear)."""
    if len(block) == 0:
        return 0.0
    sample_peak = float(np.max(np.abs(block)))
    return float(np.max(oversampled_peak(np.asarray(block, np.float32), sample_peak)))


def limiter_gain(block: np.ndarray, ceiling: float) -> np.ndarray:
    """Per-sample gain (<= 1) that keeps ``block``'s true peak under ``ceiling``.

    ``block`` includes :data:`LIMITER_MARGIN` samples of context on each side;
    the gain is returned for the whole of it (use the middle).
    """
    if len(sample_peaks_over(block, ceiling / HEADROOM)) == 0:
        return np.ones(len(block), np.float32)
    peak = oversampled_peak(block, ceiling)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    held = minimum_filter1d(need, size=2 * LIMITER_WINDOW + 1, mode="nearest")
    return uniform_filter1d(held, size=LIMITER_WINDOW, mode="nearest").astype(np.float32)
