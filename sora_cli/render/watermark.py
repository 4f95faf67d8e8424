"""The visible "generated" mark.

Small and semi-transparent, it moves to the next corner every
:data:`DWELL_SECONDS`, so no single crop removes it from the whole shot. Its
position depends on the frame's index within the shot only, so a cached shot
stays valid when shots before it change length.

The corners are those of the picture's middle band: the top band holds the
animatic's slate and action caption, the bottom band burned subtitles (their
style in ``assemble/subtitles.py``: size H/18, two lines, 6% up from the
bottom for the title-safe area), so the mark never covers either (the
animatic's slate and a two-line caption end above 0.22 of the height on
frames from 480x270 up; on smaller frames their minimum font sizes make them
taller than any band). Its width is capped at
:data:`MAX_WIDTH` of the frame, and on frames too small for that it is
cropped rather than drawn outside the picture.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sora_cli.fonts import BOLD

DWELL_SECONDS = 2.0
TEXT = "AI-GENERATED"
OPACITY = 0.55
#: share of the height kept for the slate and caption (top) and for burned subtitles (bottom)
TOP_BAND = 0.24
BOTTOM_BAND = 0.22
MAX_WIDTH = 0.3
#: kept clear at each side: inside the title-safe area (5%) and a vertical platform's side zone (6%)
SIDE_MARGIN = 0.06


@functools.lru_cache(maxsize=8)
def _stamp(height: int, max_width: int) -> tuple[np.ndarray, np.ndarray]:
    """The mark as (rgb, alpha) arrays for a frame whose shorter side is ``height``, at most ``max_width``
    wide (sized from the shorter side, as all of sora's text is)."""
    size = max(9, height // 36)
    while True:
        font = ImageFont.truetype(str(BOLD), size)
        left, top, right, bottom = font.getbbox(TEXT)
        pad = max(1, size // 3)
        width = right - left + 2 * pad
        if width <= max_width or size <= 4:
            break
        size -= 1
    img = Image.new("LA", (width, bottom - top + 2 * pad), (0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, img.width - 1, img.height - 1), radius=pad, fill=(0, 150))
    draw.text((pad - left, pad - top), TEXT, font=font, fill=(255, 255))
    arr = np.asarray(img, np.float32) / 255.0
    rgb = np.repeat(arr[..., :1], 3, axis=2) * 255.0
    return rgb, arr[..., 1:2] * OPACITY


def corner(index: int, fps: int) -> int:
    return int(index / (fps * DWELL_SECONDS)) % 4


def placement(width: int, height: int, index: int, fps: int) -> tuple[int, int, int, int]:
    """Where the mark goes on the shot's ``index``-th frame: (x, y, mark width, mark height), inside the frame."""
    rgb, _ = _stamp(min(width, height), max(1, int(width * MAX_WIDTH)))
    mh, mw = min(rgb.shape[0], height), min(rgb.shape[1], width)
    margin = max(2, round(width * SIDE_MARGIN))
    c = corner(index, fps)
    upper = int(height * TOP_BAND)
    lower = int(height * (1 - BOTTOM_BAND)) - mh
    y = upper if c in (0, 1) else max(upper, lower)
    x = width - mw - margin if c in (0, 3) else margin
    y = min(max(0, y), height - mh)
    x = min(max(0, x), width - mw)
    return x, y, mw, mh


def mark(frame: np.ndarray, index: int, fps: int) -> np.ndarray:
    """Draw the mark onto ``frame`` (in place) for the shot's ``index``-th frame."""
    h, w = frame.shape[:2]
    rgb, alpha = _stamp(min(w, h), max(1, int(w * MAX_WIDTH)))
    x, y, mw, mh = placement(w, h, index, fps)
    rgb, alpha = rgb[:mh, :mw], alpha[:mh, :mw]
    region = frame[y : y + mh, x : x + mw, :3]
    region[:] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
    return frame
