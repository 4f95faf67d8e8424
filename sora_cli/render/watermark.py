"""The visible "generated" mark.

Small and semi-transparent, it moves to the next corner every
:data:`DWELL_SECONDS`, so no single crop removes it from the whole shot. Its
position depends on the frame's index within the shot only, so a cached shot
stays valid when shots before it change length.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sora_cli.fonts import BOLD

DWELL_SECONDS = 2.0
TEXT = "AI-GENERATED"
OPACITY = 0.55


@functools.lru_cache(maxsize=8)
def _stamp(height: int) -> tuple[np.ndarray, np.ndarray]:
    """The mark as (rgb, alpha) arrays sized for a frame ``height`` pixels tall."""
    size = max(9, height // 36)
    font = ImageFont.truetype(str(BOLD), size)
    left, top, right, bottom = font.getbbox(TEXT)
    pad = size // 3
    img = Image.new("LA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, img.width - 1, img.height - 1), radius=pad, fill=(0, 150))
    draw.text((pad - left, pad - top), TEXT, font=font, fill=(255, 255))
    arr = np.asarray(img, np.float32) / 255.0
    rgb = np.repeat(arr[..., :1], 3, axis=2) * 255.0
    return rgb, arr[..., 1:2] * OPACITY


def corner(index: int, fps: int) -> int:
    return int(index / (fps * DWELL_SECONDS)) % 4


def mark(frame: np.ndarray, index: int, fps: int) -> np.ndarray:
    """Draw the mark onto ``frame`` (in place) for the shot's ``index``-th frame."""
    h, w = frame.shape[:2]
    rgb, alpha = _stamp(h)
    margin = max(4, h // 40)
    fit = (slice(0, max(1, h - 2 * margin)), slice(0, max(1, w - 2 * margin)))  # a small frame crops the mark
    rgb, alpha = rgb[fit], alpha[fit]
    mh, mw = alpha.shape[:2]
    c = corner(index, fps)
    y = margin if c in (0, 1) else h - mh - margin
    x = margin if c in (0, 3) else w - mw - margin
    region = frame[y : y + mh, x : x + mw, :3]
    region[:] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
    return frame
