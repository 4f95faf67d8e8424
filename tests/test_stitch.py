"""The overlaps' blend: the fast form gives exactly the plain float32 formula's frames."""

from __future__ import annotations

import numpy as np
import pytest

from sora_cli.assemble.stitch import THROUGH, blend


def plain(kind: str, a: np.ndarray | None, b: np.ndarray, w: float) -> np.ndarray:
    """The blend written out: each term in float32, summed, rounded to the nearest (even) level, clipped."""
    bf = b.astype(np.float32)
    luma, chroma = THROUGH.get(kind, THROUGH["fade_black"])
    through = np.full((len(b), 1), chroma, np.float32)
    through[: len(b) * 2 // 3] = luma
    if kind == "crossfade" and a is not None:
        out = a.astype(np.float32) * (1 - w) + bf * w
    elif a is None:
        out = through * (1 - w) + bf * w
    elif w < 0.5:
        out = a.astype(np.float32) * (1 - 2 * w) + through * (2 * w)
    else:
        out = through * (2 - 2 * w) + bf * (2 * w - 1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", ["crossfade", "fade_black", "fade_white"])
@pytest.mark.parametrize("shape", [(270, 320), (6, 2), (1080, 1280)])
def test_blend_is_the_plain_formula(kind: str, shape: tuple[int, int]):
    rng = np.random.default_rng(sum(shape))
    a, b = (rng.integers(0, 256, shape, np.uint8) for _ in range(2))
    a[0], b[0], a[1], b[1] = 255, 255, 0, 0  # the extremes, where rounding or clipping would show
    a[2], b[2] = 0, 255
    for frames in (1, 2, 5, 12, 37):
        for k in range(frames):
            w = (k + 0.5) / frames
            for before in (a, None):
                got = blend(kind, before, b, w)
                assert got.dtype == np.uint8 and got.shape == b.shape
                assert np.array_equal(got, plain(kind, before, b, w)), (kind, frames, k, before is None)


def test_a_blend_changes_with_its_weight():
    """(The comparison above could pass on a constant: the frames move from one picture to the other.)"""
    a, b = np.zeros((6, 4), np.uint8), np.full((6, 4), 200, np.uint8)
    assert [int(blend("crossfade", a, b, w)[0, 0]) for w in (0.0, 0.5, 1.0)] == [0, 100, 200]
