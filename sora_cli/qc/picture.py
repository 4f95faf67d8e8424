"""Picture checks: black and frozen frames, legal range (EBU R 103), flashing (ITU-R BT.1702), format.

Every frame is decoded (PyAV) as 8-bit YUV 4:2:0 and measured with numpy:

* black: at least 98% of the pixels darker than 10% of the luma range (the
  thresholds of ffmpeg's ``blackdetect``);
* frozen: fewer than 8 luma samples (or 0.01% of a frame under 80,000
  pixels) differ from the previous frame by more than 12 code values. A
  share of the frame would call a small figure blinking in a 4096x256 frame
  frozen (some 20 samples of a million change), and a mean difference would
  call a static wide shot with a talking face frozen. The requantisation
  noise an H.264 keyframe leaves on an unchanged picture stays under it (at
  most 5 samples over 12 code values on a 4096x256 still of sora's); on
  larger frames such noise can at worst split a frozen run at a keyframe,
  never make a moving picture frozen;
* range: the share of luma/chroma samples outside EBU R 103's tolerance
  (5-246 for 8-bit luma);
* flashes: the screen is split into cells whose luminance (cd/m2 on a 200
  cd/m2 display, BT.709 decoding) and saturated-red value (Ofcom's
  (R-G-B)*320 where R/(R+G+B) >= 0.8) are followed over time. A transition
  is a swing between two local extremes of at least 20 (for luminance, with
  the darker end under 160 cd/m2); when a quarter of the screen or more
  completes one in the same frame, that is a screen transition. Two opposing
  transitions make a flash, and more than three flashes in any one second
  fail, as the general limits of BT.1702 say.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from sora_cli.profiles import Profile
from sora_cli.qc.measure import CellSink, Measured
from sora_cli.qc.planned import Intended
from sora_cli.qc.result import Check, runs
from sora_cli.qc.spans import measure_film

DISPLAY_NITS = 200.0
TRANSITION = 20.0
DARK_END = 160.0
CHUNK = 256  # frames whose cells are turned into light at once (~8 MB of float32 temporaries; counted from the film's first frame)


class _Swings:
    """Per-cell swings between local extremes of a signal; counts completed transitions per frame."""

    def __init__(self, need_dark_end: bool):
        self.need_dark_end = need_dark_end
        self.current: np.ndarray | None = None
        self.extreme: np.ndarray | None = None
        self.direction: np.ndarray | None = None

    def steps(self, values: np.ndarray) -> np.ndarray:
        """Add frames' cell values (frames first); per frame, the share of cells whose swing ended at the frame before.

        A chunk's frames in one pass, with what a frame-by-frame walk gives: a cell reverses where its move
        (a change over half a code value) opposes its previous move (or the direction carried in), and its
        swing ends at the value before the reversal, from the value before its previous reversal (or the
        extreme carried in). So only the moves, cell by cell in time order, are walked, as flat arrays.
        """
        if self.current is None:
            self.current, self.extreme, self.direction = values[0], values[0].copy(), np.zeros(values[0].shape, np.int8)
            return np.concatenate([np.zeros(1), self.steps(values[1:])]) if len(values) > 1 else np.zeros(1)
        assert self.extreme is not None and self.direction is not None
        count, shape = len(values), self.current.shape
        if not count:
            return np.zeros(0)
        before = np.concatenate([self.current[None], values[:-1]])  # each frame's previous value
        delta = values - before
        moving = np.where(np.abs(delta) > 0.5, np.sign(delta), 0).astype(np.int8)
        # cell by cell, frames in order: the moves, each with the move (or carried direction) before it
        by_cell = np.ascontiguousarray(moving.reshape(count, -1).T).ravel()
        at = np.flatnonzero(by_cell)
        mover, sign = at // count, by_cell[at]
        opens, closes = _bounds(mover)
        previous = np.empty_like(sign)
        previous[1:] = sign[:-1]
        previous[opens] = self.direction.ravel()[mover[opens]]
        turn = (previous != 0) & (sign != previous)
        at, cell = at[turn], mover[turn]
        # the reversals, each with the value before the reversal before it (or the carried extreme)
        value = np.ascontiguousarray(before.reshape(count, -1).T).ravel()[at]
        first, last = _bounds(cell)
        extreme = np.empty_like(value)
        extreme[1:] = value[:-1]
        extreme[first] = self.extreme.ravel()[cell[first]]
        swing = self._transition(value, extreme)
        shares = np.bincount(at[swing] % count, minlength=count) / self.current.size
        # carried on: each cell's last move and the value before its last reversal
        direction, held = self.direction.ravel().copy(), self.extreme.ravel().copy()
        direction[mover[closes]] = sign[closes]
        held[cell[last]] = value[last]
        self.direction, self.extreme, self.current = direction.reshape(shape), held.reshape(shape), values[-1]
        return shares

    def finish(self) -> float:
        if self.current is None or self.direction is None:
            return 0.0
        assert self.extreme is not None
        return float(((self.direction != 0) & self._transition(self.current, self.extreme)).mean())

    def _transition(self, to: np.ndarray, since: np.ndarray) -> np.ndarray:
        """Where a swing from ``since`` to ``to`` is a transition: far enough, and for luminance with a dark end."""
        swing = np.abs(to - since) >= TRANSITION
        if self.need_dark_end:
            swing &= np.minimum(to, since) < DARK_END
        return swing


def _bounds(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal values in sorted ``cell`` starts, and where it ends (boolean masks)."""
    if not len(cell):
        return np.zeros(0, bool), np.zeros(0, bool)
    change = cell[1:] != cell[:-1]
    return np.concatenate([[True], change]), np.concatenate([change, [True]])


def _light(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: luminance (cd/m2) and saturated-red value, from limited-range BT.709 Y'CbCr."""
    yn = (y - 16.0) / 219.0
    cb, cr = (u - 128.0) / 224.0, (v - 128.0) / 224.0
    rgb = np.stack([yn + 1.5748 * cr, yn - 0.1873 * cb - 0.4681 * cr, yn + 1.8556 * cb])
    linear = np.clip(rgb, 0.0, 1.0) ** 2.2
    luminance = DISPLAY_NITS * (0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2])
    total = linear.sum(axis=0)
    saturated = linear[0] >= 0.8 * np.maximum(total, 1e-6)
    red = np.where(saturated & (total > 0), np.maximum(linear[0] - linear[1] - linear[2], 0.0) * 320.0, 0.0)
    return luminance, red


@dataclass
class PictureFacts:
    width: int = 0
    height: int = 0
    fps: float = 0.0
    interlaced: bool = False
    frames: int = 0
    duration: float = 0.0


def picture_checks(
    path: Path, profile: Profile, plan: Intended, cache: Path | None = None
) -> tuple[list[Check], PictureFacts]:
    """The picture checks of the film at ``path``; with ``cache`` (a folder), its spans are measured through it.

    A cached and an uncached pass give the same checks: the spans' measures
    joined are the whole film's (see :mod:`sora_cli.qc.spans`).
    """
    spec = profile.picture
    facts = PictureFacts()
    ranges = (spec.luma_range, spec.chroma_range)
    damage: float | None = None
    with av.open(str(path)) as container:
        if not container.streams.video:
            return [Check("picture.present", False, "no video stream", "a video stream")], facts
        stream = container.streams.video[0]
        facts.width, facts.height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate
        facts.fps = float(rate) if rate else 0.0
    step = 1.0 / facts.fps if facts.fps else 0.0
    flashes = _Flashes(step, spec.flash_area)  # fed the frames' cells as they are measured: none are kept
    spans = measure_film(path, ranges, cache, flashes.feed) if cache is not None else None
    if spans is not None:
        measured, last_t = spans
    else:
        flashes = _Flashes(step, spec.flash_area)  # (afresh: the spans may have fed it some)
        measured, last_t, damage = _measure_whole(path, step, ranges, flashes.feed)
    facts.frames = measured.frames
    facts.interlaced = any(measured.interlaced)
    facts.duration = last_t + step
    times = measured.times
    out_of_range = [t for t, share in zip(times, measured.share, strict=True) if share > spec.out_of_range_area]
    worst_range = max(measured.share, default=0.0)
    flash_times, red_times = flashes.finish(last_t)
    checks: list[Check] = []
    if damage is not None:
        checks.append(
            Check("picture.decode", False, "damaged", "decodes to the end", (damage,), note="the video stops decoding")
        )
    black_runs = [
        (s, n)
        for s, n in runs(measured.black, times, step)
        if n > spec.black_max and not all(plan.faded(s + k * step) for k in range(round(n / step) if step else 1))
    ]
    checks.append(_runs_check("picture.black", black_runs, spec.black_max))
    frozen_runs = [
        (s - step, n + step)  # a run of k repeats is a still of k + 1 frames
        for s, n in runs(measured.frozen, times, step)
        if n + step > spec.freeze_max
        and not all(plan.still(s + k * step) for k in range(round(n / step) if step else 1))
    ]
    checks.append(_runs_check("picture.freeze", frozen_runs, spec.freeze_max))
    checks.append(
        Check(
            "picture.legal_range",
            not out_of_range,
            worst_range,
            spec.out_of_range_area,
            _spans(out_of_range, step),
            unit="share of frame",
        )
    )
    for check_id, transitions in (("picture.flashes", flash_times), ("picture.red_flashes", red_times)):
        worst, bad = _flash_rate(transitions, spec.max_flashes)
        checks.append(Check(check_id, worst <= spec.max_flashes, worst, spec.max_flashes, bad, unit="flashes/s"))
    size_ok = (spec.width is None or facts.width == spec.width) and (spec.height is None or facts.height == spec.height)
    checks.append(
        Check(
            "picture.size",
            size_ok,
            f"{facts.width}x{facts.height}",
            f"{spec.width or 'any'}x{spec.height or 'any'}",
        )
    )
    rate_ok = spec.fps is None or any(abs(facts.fps - f) < 0.01 for f in spec.fps)
    checks.append(Check("picture.frame_rate", rate_ok, round(facts.fps, 3), spec.fps or "any", unit="fps"))
    scan = "interlaced" if facts.interlaced else "progressive"
    checks.append(
        Check(
            "picture.scan",
            not (spec.progressive and facts.interlaced),
            scan,
            "progressive" if spec.progressive else "any",
        )
    )
    return checks, facts


def _measure_whole(
    path: Path, step: float, ranges: tuple[tuple[int, int], tuple[int, int]], sink: CellSink | None = None
) -> tuple[Measured, float, float | None]:
    """Every frame decoded in one pass (threaded); the measures, the last frame's time, where decoding broke.

    ``sink``: takes the frames' cells instead of the measures keeping them."""
    measured = Measured(sink=sink)
    last_t = 0.0
    damage: float | None = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else measured.frames * step
                last_t = t
                measured.add(frame, t, *ranges)
        except av.FFmpegError:  # damaged or truncated: check what decoded, fail where it stopped
            damage = last_t + step if measured.frames else 0.0
    return measured, last_t, damage


class _Flashes:
    """Screen transitions in luminance and in saturated red (see the module doc), fed frame cells in film order.

    The cells are turned into light :data:`CHUNK` frames at a time, counted from the
    film's first frame however the frames arrive (span by span, or one by one), so
    the arithmetic, and so the result, is the same as over the whole film at once;
    only a chunk's cells are held.
    """

    def __init__(self, step: float, area: float):
        self.step, self.area = step, area
        self.luma, self.red = _Swings(True), _Swings(False)
        self.flash_times: list[float] = []
        self.red_times: list[float] = []
        self._times: list[float] = []
        self._cells: list[np.ndarray] = []

    def feed(self, times: list[float], cells: list[np.ndarray]) -> None:
        """The cells of the next frames and the times they are shown at."""
        self._times += times
        self._cells += cells
        while len(self._cells) >= CHUNK:
            self._light(CHUNK)

    def finish(self, last_t: float) -> tuple[list[float], list[float]]:
        """The times of the transitions in luminance and in red (a swing still open ends at ``last_t``)."""
        if self._cells:
            self._light(len(self._cells))
        if self.luma.current is None:  # no cells at all (an odd frame size): nothing to analyse
            return self.flash_times, self.red_times
        if self.luma.finish() >= self.area:
            self.flash_times.append(last_t)
        if self.red.finish() >= self.area:
            self.red_times.append(last_t)
        return self.flash_times, self.red_times

    def _light(self, count: int) -> None:
        cells = np.stack(self._cells[:count]).astype(np.float32)
        times = self._times[:count]
        del self._cells[:count], self._times[:count]
        luminance, red = _light(cells[:, 0], cells[:, 1], cells[:, 2])
        for swings, signal, found in ((self.luma, luminance, self.flash_times), (self.red, red, self.red_times)):
            shares = swings.steps(signal)
            found += [t - self.step for t, share in zip(times, shares.tolist(), strict=True) if share >= self.area]


def _flash_rate(transitions: list[float], limit: int) -> tuple[float, tuple[float, ...]]:
    """The most flashes (pairs of transitions) in any one-second window, and where windows went over ``limit``."""
    worst = 0.0
    bad: list[float] = []
    t = np.asarray(transitions)
    for i, start in enumerate(t):
        count = int(np.searchsorted(t, start + 1.0 - 1e-9, side="left")) - i
        flashes = count / 2
        worst = max(worst, flashes)
        if flashes > limit and (not bad or start - bad[-1] >= 1.0):
            bad.append(float(start))
    return worst, tuple(bad)


def _spans(times: list[float], step: float) -> tuple[float, ...]:
    """Start of each run of consecutive frame times."""
    out: list[float] = []
    for i, t in enumerate(times):
        if i == 0 or t - times[i - 1] > step * 1.5:
            out.append(t)
    return tuple(out)


def _runs_check(check_id: str, bad: list[tuple[float, float]], limit: float) -> Check:
    """A check over runs of frames: (start, seconds) of each run longer than ``limit`` that nothing excuses."""
    return Check(check_id, not bad, max((n for _, n in bad), default=0.0), limit, tuple(s for s, _ in bad), unit="s")
