"""What the picture checks measure in each frame: the only part of them that looks at pixels.

A frame gives a handful of numbers (black or not, whether it repeats the
previous frame, its share of out-of-range samples, its cells' mean Y'CbCr for
the flash analysis); the verdicts of :mod:`sora_cli.qc.picture` are made from
these series alone. So a run of frames measured once (a span: a keyframe and
the frames that depend on it) can be kept by content and joined with its
neighbours later (:mod:`sora_cli.qc.spans`), giving exactly the series a pass
over the whole film gives: the one measure that crosses a span's edge (a
frozen frame) is taken from the edge frames' luma, which a span keeps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy as np

BLACK_LUMA = 16 + 0.10 * 219
BLACK_SHARE = 0.98
FREEZE_DIFF = 12  # code values: more than encoder noise on an unchanged picture
FREEZE_SAMPLES = 8  # samples changed beyond the noise that make a frame new, whatever its size
FREEZE_SHARE = 1e-4  # ... or this share of a small frame
GRID = (18, 32)  # cells (rows, columns) for the flash analysis


def _cv2():  # type: ignore[no-untyped-def]
    """OpenCV, imported when the first frame is measured (a render's workers never need it), on one thread.

    Each call here is a sub-millisecond pass over one plane: OpenCV's own thread
    pool, split over the cores, cost a render's measures 30% more CPU (2.6 s
    against 2.0 s for the bench film's 720 frames) for no less time even on an
    idle machine, and beside the encoders that fill the cores the spin is taken
    from them. The measures are the same numbers on any number of threads.
    """
    import cv2

    cv2.setNumThreads(1)
    return cv2


#: rows of luma compared at a time by :func:`repeats` (a 720p frame in 8 bands)
REPEAT_BAND = 90


def prepare() -> None:
    """Import OpenCV now (a render's thread that works ahead does, while the picture is drawn)."""
    _cv2()


def repeats(y: np.ndarray, previous: np.ndarray) -> bool:
    """``y`` shows the same picture as ``previous``: too few samples changed beyond encoder noise.

    Compared band by band, stopping at the first band that brings the count of changed samples to the
    limit: a moving picture (nearly every frame of a film) is told apart in its first band, where the
    whole frame cost three passes over it (the difference, the threshold, the count). Only a still
    is compared to its last row. The answer is the whole frame's count against the limit, either way.
    """
    cv2 = _cv2()
    limit = max(1.0, min(FREEZE_SAMPLES, FREEZE_SHARE * y.size))
    changed = 0
    for top in range(0, y.shape[0], REPEAT_BAND):
        band = cv2.absdiff(y[top : top + REPEAT_BAND], previous[top : top + REPEAT_BAND])
        changed += cv2.countNonZero(cv2.threshold(band, FREEZE_DIFF, 1, cv2.THRESH_BINARY)[1])  # 1 where > DIFF
        if changed >= limit:
            return False
    return True


def _dark(y: np.ndarray) -> int:
    """Samples darker than :data:`BLACK_LUMA` (OpenCV counts them twice as fast as numpy)."""
    cv2 = _cv2()
    below = cv2.threshold(y, math.ceil(BLACK_LUMA) - 1, 1, cv2.THRESH_BINARY_INV)[1]  # 1 where y <= 37
    return int(cv2.countNonZero(below))


def _outside(planes: list[np.ndarray], limits: tuple[int, int]) -> float:
    """Share of the planes' samples outside ``limits`` (a cheap min/max first: most frames are in range).

    OpenCV counts in one pass what numpy counts in three (two comparisons and an or): x264 leaves a few
    samples out of range in most frames of a film, so the count runs on nearly every frame.
    """
    lo, hi = limits
    cv2 = _cv2()
    if all(low >= lo and high <= hi for low, high, _, _ in map(cv2.minMaxLoc, planes)):
        return 0.0
    inside = sum(cv2.countNonZero(cv2.inRange(p, lo, hi)) for p in planes)
    size = sum(p.size for p in planes)
    return (size - inside) / size


def _plane(frame: av.VideoFrame, index: int) -> np.ndarray:
    """A plane of the frame as a 2-D view of the decoder's own buffer (no copy, its row padding cut off)."""
    plane = frame.planes[index]
    rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    return rows[: plane.height, : plane.width]


def cell_means(plane: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The plane's mean in each of ``rows`` x ``cols`` cells: exactly ``cv2.resize(plane, (cols, rows), INTER_AREA)``.

    Where the plane splits into whole cells (every size sora renders at 720p or 1080p), OpenCV sums each
    cell sample by sample and rounds ``sum * (1 / area)`` in single precision, half to even; here the sums
    come from two numpy reductions (the cell rows' columns, then the columns' runs), a quarter of the cost
    (0.94 -> 0.22 ms for a 720p frame's three planes), and are rounded the same way: the tests compare
    every possible sum of a 1280x720 and 1920x1080 frame's cells with OpenCV's. Cells of 2x2 samples
    (OpenCV rounds those half up) and planes that do not split evenly are left to OpenCV.
    """
    height, width = plane.shape
    high, wide = height // rows, width // cols
    if height != high * rows or width != wide * cols or (high, wide) == (2, 2):
        cv2 = _cv2()
        return cv2.resize(plane, (cols, rows), interpolation=cv2.INTER_AREA)
    columns = np.add.reduce(plane.reshape(rows, high, width), axis=1, dtype=np.uint16 if high <= 257 else np.uint32)
    sums = np.add.reduceat(columns, np.arange(0, width, wide), axis=1, dtype=np.uint32)
    return np.rint(sums.astype(np.float32) * np.float32(1.0 / (high * wide))).astype(np.uint8)


#: takes the cells of frames (and their times) instead of a :class:`Measured` keeping them
CellSink = Callable[[list[float], list[np.ndarray]], None]


@dataclass
class Measured:
    """Per-frame measures of a run of consecutive frames (see the module doc).

    A film's measures, joined span after span, would keep every frame's cells (1.7 KB
    a frame, 25 MB for 10 minutes at 24 fps) for the one analysis that reads them in
    order (flashes): with a ``sink``, the cells of the frames added or joined go to it
    as they come and are not kept.
    """

    times: list[float] = field(default_factory=list)
    black: list[bool] = field(default_factory=list)
    #: repeats the frame before it; a span's first frame is False until spans are joined
    frozen: list[bool] = field(default_factory=list)
    share: list[float] = field(default_factory=list)  #: out-of-range share (luma, or chroma where worse)
    interlaced: list[bool] = field(default_factory=list)
    cells: list[np.ndarray] = field(default_factory=list)  #: (3, rows, cols) uint8 Y, Cb, Cr; none for odd sizes
    first: np.ndarray | None = None  #: luma of the first frame
    last: np.ndarray | None = None  #: luma of the last frame
    sink: CellSink | None = field(default=None, repr=False, compare=False)

    @property
    def frames(self) -> int:
        return len(self.black)

    def add(self, frame: av.VideoFrame, t: float, luma_range: tuple[int, int], chroma_range: tuple[int, int]) -> None:
        """Measure one decoded frame shown at ``t`` seconds."""
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        h, w = frame.height, frame.width
        y = _plane(frame, 0)
        chroma = [_plane(frame, 1), _plane(frame, 2)] if h % 2 == 0 and w % 2 == 0 else None
        self.times.append(t)
        self.interlaced.append(bool(frame.interlaced_frame))
        self.black.append(_dark(y) >= BLACK_SHARE * y.size)
        self.frozen.append(self.last is not None and repeats(y, self.last))
        share = _outside([y], luma_range)
        if chroma is not None:
            share = max(share, _outside(chroma, chroma_range))
            rows, cols = min(GRID[0], chroma[0].shape[0]), min(GRID[1], chroma[0].shape[1])
            cells = np.stack([cell_means(p, rows, cols) for p in (y, *chroma)])
            if self.sink is not None:
                self.sink([t], [cells])
            else:
                self.cells.append(cells)
        self.share.append(share)
        if self.first is None:
            self.first = y
        self.last = y

    def extend(self, following: Measured) -> None:
        """Append the span that follows this one in the film (its first frame compared with our last)."""
        if not following.frames:
            return
        frozen = list(following.frozen)
        if self.last is not None and following.first is not None:
            frozen[0] = repeats(following.first, self.last)
        self.times += following.times
        self.black += following.black
        self.frozen += frozen
        self.share += following.share
        self.interlaced += following.interlaced
        if self.sink is not None:
            if following.cells:
                self.sink(following.times, following.cells)
        else:
            self.cells += following.cells
        if self.first is None:
            self.first = following.first
        self.last = following.last
