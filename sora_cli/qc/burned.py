"""Burned captions inside the safe area: measured on the pixels the burning changed.

``sora render`` keeps the picture before and after libass drew the captions,
so what the captions cover is where the two differ. At the middle of each
cue both are decoded; pixels that became bright (the glyphs are white) or dark
(their outline is black: over a light picture it is what shows), beside
another such pixel rather than alone (the two encodes differ by noise at sharp
edges), give a bounding box that must lie inside the profile's title-safe area
and outside its platform safe zones.

"Beside another" and not a morphological opening: at a small frame (320x180) the
glyphs' strokes are one pixel wide, and an opening by 2x2 erased all but a few
letters, so a caption reaching outside the safe area passed unseen. A cue at whose
middle no burned pixel is found is said (not measurable there), never taken as inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from sora_cli.profiles import Profile
from sora_cli.qc.result import Check

BRIGHTER = 40  # luma code values a glyph adds over the picture under it
GLYPH = 180  # luma of a drawn (white) glyph
OUTLINE = 64  # luma of its drawn (black) outline, at most


def safe_box(profile: Profile, width: int, height: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in pixels: title-safe, narrowed by the platform's clear zones."""
    spec = profile.picture
    edge = (1 - spec.title_safe) / 2
    left = max(edge, spec.safe_sides) * width
    top = max(edge, spec.safe_top) * height
    bottom = height - max(edge, spec.safe_bottom) * height
    return round(left), round(top), round(width - left), round(bottom)


def _frames_at(path: Path, times: Sequence[float]) -> list[np.ndarray]:
    """Luma of the frame shown at each of ``times`` (in order), decoding the file once."""
    out: list[np.ndarray] = []
    wanted = list(times)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            end = float(frame.time or 0) + float(frame.duration * stream.time_base if frame.duration else 0)
            while wanted and (wanted[0] < end or not frame.duration):
                out.append(frame.to_ndarray(format="gray"))
                wanted.pop(0)
            if not wanted:
                break
    return out


def burned_caption_check(clean: Path, burned: Path, times: Sequence[float], profile: Profile) -> Check:
    """``times``: the middle of every cue, in order."""
    before, after = _frames_at(clean, times), _frames_at(burned, times)
    if not before:
        return Check("captions.burned_safe_area", True, "no cues", "inside the safe area")
    height, width = before[0].shape
    left, top, right, bottom = safe_box(profile, width, height)
    import cv2  # only burned subtitles need it: not imported by every render

    outside: list[float] = []
    unseen: list[float] = []
    box = [width, height, 0, 0]
    around = np.ones((3, 3), np.float32)
    around[1, 1] = 0
    for t, a, b in zip(times, before, after, strict=False):
        diff = b.astype(np.int16) - a.astype(np.int16)
        # a white glyph over a dark picture, or the glyph's dark outline over a light one (where white on
        # white barely changes a pixel)
        drawn = (((diff > BRIGHTER) & (b >= GLYPH)) | ((diff < -BRIGHTER) & (b <= OUTLINE))).astype(np.float32)
        neighbours = cv2.filter2D(drawn, -1, around, borderType=cv2.BORDER_CONSTANT)
        changed = (drawn > 0) & (neighbours > 0)  # a stroke, however thin, not a lone pixel of encoding noise
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if not len(rows):
            unseen.append(t)
            continue
        x0, y0, x1, y1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
        box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
        if x0 < left or y0 < top or x1 > right or y1 > bottom:
            outside.append(t)
    limit = f"x {left}-{right}, y {top}-{bottom}"
    seen = len(times) - len(unseen)
    note = f"not measurable at {len(unseen)} of {len(times)} cues: no burned pixel found at their middle" if unseen else ""
    if not seen:
        return Check("captions.burned_safe_area", True, "not measurable", limit, unit="px", note=note)
    value = f"x {box[0]}-{box[2]}, y {box[1]}-{box[3]}"
    return Check("captions.burned_safe_area", not outside, value, limit, tuple(outside), unit="px", note=note)
