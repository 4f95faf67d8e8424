"""The plain, slow true-peak measurements that sora's fast ones are held to (by scipy's own filters)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import resample_poly

from sora_cli.sound.loudness import _MEASURE_REACH, SUB_BLOCK, _interpolated_peak, _interpolators


class PeakScan:
    """The exact true peak of a stream and the 100 ms sub-blocks whose true peak exceeds ``limit``.

    The mix measured with it until its decoding was shared with the delivery
    checks (which interpolate every sample anyway: see
    :class:`sora_cli.sound.hearing.ExactPeaks`); it is the independent
    reference that measurement is held to (``tests/test_hearing.py``).

    Interpolation is the costly part of measuring, so it runs only on the
    sub-blocks whose samples (with the interpolator's reach) are loud enough
    that their interpolated peak could reach ``limit`` or the largest peak
    seen: the result is the same as interpolating everything. Each chunk is
    scanned once the next one arrives (its right-hand context), in float32
    (the error is far under a thousandth of a dB). Chunks must be whole
    sub-blocks, but for the last.
    """

    def __init__(self, limit: float):
        self.limit = limit
        self.peak = 0.0
        self.over: dict[int, float] = {}  # sub-block index -> its true peak (linear), where above ``limit``
        self._held: np.ndarray | None = None
        self._left: np.ndarray | None = None
        self._first = 0  # sub-block index of the held chunk

    def add(self, chunk: np.ndarray) -> None:
        if len(chunk) == 0:
            return
        if self._held is not None:
            self._scan(chunk[:_MEASURE_REACH])
        self._held = np.asarray(chunk, np.float32)

    def finish(self) -> None:
        if self._held is not None:
            self._scan(np.zeros((0, self._held.shape[1]), np.float32))
            self._held = None

    def _scan(self, right: np.ndarray) -> None:
        x, reach = self._held, _MEASURE_REACH
        assert x is not None
        channels = x.shape[1]
        left = self._left if self._left is not None else np.zeros((reach, channels), np.float32)
        right = np.concatenate([right, np.zeros((reach - len(right), channels), np.float32)])
        full = np.concatenate([left, x, right])
        loud = maximum_filter1d(np.abs(full).max(axis=1), size=2 * reach + 1)[reach : reach + len(x)]
        subs = -(-len(x) // SUB_BLOCK)
        loud = np.pad(loud, (0, subs * SUB_BLOCK - len(x))).reshape(subs, SUB_BLOCK).max(axis=1)
        # how far the interpolated signal can exceed the largest |sample| within its reach (the worst phase's
        # sum of |taps|): a sub-block whose samples stay under ``limit / bound`` cannot reach ``limit``
        floor = min(self.limit, max(self.peak, float(np.abs(x).max()))) / _interpolators().measure_bound
        wanted = loud >= floor
        edges = np.flatnonzero(np.diff(np.concatenate([[0], wanted.astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            lo, hi = a * SUB_BLOCK, min(len(x), b * SUB_BLOCK)
            per_sample = _interpolated_peak(full[lo : hi + 2 * reach])
            per_sub = np.maximum.reduceat(per_sample, np.arange(0, hi - lo, SUB_BLOCK))
            self.peak = max(self.peak, float(per_sub.max()))
            for k in np.flatnonzero(per_sub > self.limit):
                self.over[self._first + int(a + k)] = float(per_sub[k])
        self._left = full[len(full) - 2 * reach : len(full) - reach]
        self._first += subs


def true_peak(block: np.ndarray) -> float:
    """Peak of the 4x-oversampled signal (linear), by scipy's own resampler: the plain measurement the
    limiter's cheaper :func:`~sora_cli.sound.loudness.oversampled_peak` and the meter are held to."""
    if len(block) == 0:
        return 0.0
    window = _interpolators().measure
    return float(np.max(np.abs(resample_poly(np.asarray(block, np.float64), 4, 1, axis=0, window=window))))
