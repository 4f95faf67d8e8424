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
import cv2
import numpy as np

from sora_cli.profiles import Profile
from sora_cli.qc.planned import Intended
from sora_cli.qc.result import Check, runs

BLACK_LUMA = 16 + 0.10 * 219
BLACK_SHARE = 0.98
FREEZE_DIFF = 12  # code values: more than encoder noise on an unchanged picture
FREEZE_SAMPLES = 8  # samples changed beyond the noise that make a frame new, whatever its size
FREEZE_SHARE = 1e-4  # ... or this share of a small frame
GRID = (18, 32)  # cells (rows, columns) for the flash analysis
DISPLAY_NITS = 200.0
TRANSITION = 20.0
DARK_END = 160.0


class _Swings:
    """Per-cell swings between local extremes of a signal; counts completed transitions per frame."""

    def __init__(self, need_dark_end: bool):
        self.need_dark_end = need_dark_end
        self.current: np.ndarray | None = None
        self.extreme: np.ndarray | None = None
        self.direction: np.ndarray | None = None

    def step(self, value: np.ndarray) -> float:
        """Add a frame's cell values; the share of cells whose swing ended at the previous frame."""
        if self.current is None:
            self.current, self.extreme, self.direction = value, value.copy(), np.zeros(value.shape, np.int8)
            return 0.0
        assert self.extreme is not None and self.direction is not None
        delta = value - self.current
        moving = np.where(np.abs(delta) > 0.5, np.sign(delta), 0).astype(np.int8)
        reversed_ = (moving != 0) & (self.direction != 0) & (moving != self.direction)
        share = self._ended(reversed_)
        self.extreme = np.where(reversed_, self.current, self.extreme)
        self.direction = np.where(moving != 0, moving, self.direction)
        self.current = value
        return share

    def finish(self) -> float:
        if self.current is None or self.direction is None:
            return 0.0
        return self._ended(self.direction != 0)

    def _ended(self, where: np.ndarray) -> float:
        assert self.current is not None and self.extreme is not None
        swing = np.abs(self.current - self.extreme) >= TRANSITION
        if self.need_dark_end:
            swing &= np.minimum(self.current, self.extreme) < DARK_END
        return float((where & swing).mean())


def _cells(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The planes averaged over a grid of at most :data:`GRID` cells (fewer on tiny frames)."""
    rows, cols = min(GRID[0], u.shape[0]), min(GRID[1], u.shape[1])
    return tuple(  # type: ignore[return-value]
        cv2.resize(plane, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32) for plane in (y, u, v)
    )


def _outside(plane: np.ndarray, limits: tuple[int, int]) -> float:
    """Share of samples outside ``limits`` (a cheap min/max first: most frames are in range)."""
    lo, hi = limits
    if plane.min() >= lo and plane.max() <= hi:
        return 0.0
    return np.count_nonzero((plane < lo) | (plane > hi)) / plane.size


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


def picture_checks(path: Path, profile: Profile, plan: Intended) -> tuple[list[Check], PictureFacts]:
    spec = profile.picture
    facts = PictureFacts()
    black: list[bool] = []
    frozen: list[bool] = []
    times: list[float] = []
    out_of_range: list[float] = []
    worst_range = 0.0
    flash_times: list[float] = []
    red_times: list[float] = []
    luma_swings, red_swings = _Swings(True), _Swings(False)
    previous: np.ndarray | None = None
    with av.open(str(path)) as container:
        if not container.streams.video:
            return [Check("picture.present", False, "no video stream", "a video stream")], facts
        stream = container.streams.video[0]
        facts.width, facts.height = stream.codec_context.width, stream.codec_context.height
        rate = stream.average_rate or stream.guessed_rate
        facts.fps = float(rate) if rate else 0.0
        step = 1.0 / facts.fps if facts.fps else 0.0
        last_t = 0.0
        damage: float | None = None
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else facts.frames * step
                last_t = t
                facts.interlaced |= bool(frame.interlaced_frame)
                yuv = (
                    frame.reformat(format="yuv420p").to_ndarray()
                    if frame.format.name != "yuv420p"
                    else frame.to_ndarray()
                )
                h, w = frame.height, frame.width
                y = yuv[:h]
                chroma = yuv[h:].reshape(2, h // 2, w // 2) if h % 2 == 0 and w % 2 == 0 else None
                times.append(t)
                pixels = y.size
                black.append(np.count_nonzero(y < BLACK_LUMA) >= BLACK_SHARE * pixels)
                if previous is None:
                    frozen.append(False)
                else:
                    changed = np.count_nonzero(cv2.absdiff(y, previous) > FREEZE_DIFF)
                    frozen.append(changed < max(1.0, min(FREEZE_SAMPLES, FREEZE_SHARE * pixels)))
                previous = y
                share = _outside(y, spec.luma_range)
                if chroma is not None:
                    share = max(share, _outside(chroma, spec.chroma_range))
                worst_range = max(worst_range, share)
                if share > spec.out_of_range_area:
                    out_of_range.append(t)
                if chroma is not None:
                    luminance, red = _light(*_cells(y, chroma[0], chroma[1]))
                    if luma_swings.step(luminance) >= spec.flash_area:
                        flash_times.append(t - step)
                    if red_swings.step(red) >= spec.flash_area:
                        red_times.append(t - step)
                facts.frames += 1
        except av.FFmpegError:  # damaged or truncated: check what decoded, fail where it stopped
            damage = last_t + step if facts.frames else 0.0
        if luma_swings.finish() >= spec.flash_area:
            flash_times.append(last_t)
        if red_swings.finish() >= spec.flash_area:
            red_times.append(last_t)
        facts.duration = last_t + step
    checks: list[Check] = []
    if damage is not None:
        checks.append(
            Check("picture.decode", False, "damaged", "decodes to the end", (damage,), note="the video stops decoding")
        )
    black_runs = [
        (s, n)
        for s, n in runs(black, times, step)
        if n > spec.black_max and not all(plan.faded(s + k * step) for k in range(round(n / step) if step else 1))
    ]
    checks.append(_runs_check("picture.black", black_runs, spec.black_max))
    frozen_runs = [
        (s - step, n + step)  # a run of k repeats is a still of k + 1 frames
        for s, n in runs(frozen, times, step)
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
