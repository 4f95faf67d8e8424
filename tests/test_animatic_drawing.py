"""The animatic's cheaper ways of drawing, held to the pictures of the ways they replaced."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skia

from sora_cli.render.animatic.backend import BAND, _fill_bands
from sora_cli.render.animatic.figures import _draw_face, _likeness, _turned
from tests.conftest import EXAMPLES

W, H = 320, 180


def _surface(buffer: np.ndarray) -> skia.Surface:
    return skia.Surface(buffer, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)


def _rectangles(canvas: skia.Canvas, y0: float, y1: float, c0, c1) -> None:
    """A gradient as the animatic drew it before: one opaque skia rectangle per band, each a row deeper."""
    if y1 <= y0:
        return
    n = max(1, math.ceil((y1 - y0) / BAND))
    ramp = np.linspace(0.0, 1.0, n)[:, None]
    colors = np.rint(np.array(c0) * (1 - ramp) + np.array(c1) * ramp).astype(int).tolist()
    paint = skia.Paint()
    for k, (r, g, b) in enumerate(colors):
        paint.setColor(skia.Color(r, g, b))
        canvas.drawRect(skia.Rect.MakeLTRB(0, y0 + k * (y1 - y0) / n, W, y0 + (k + 1) * (y1 - y0) / n + 1), paint)


@pytest.mark.parametrize("seed", range(6))
def test_band_rows_are_the_bytes_skia_rectangles_fill(seed: int) -> None:
    """Horizons anywhere (above the frame, below it, on half rows) give the rows skia's rectangles gave,
    and a row no band reaches keeps what was in it."""
    rng = np.random.default_rng(seed)
    horizons = [*rng.uniform(-20, H + 20, 40), 0.0, float(H), 60.5, 61.5, -3.0, H + 7.0]
    for horizon in horizons:
        sky = tuple(int(v) for v in rng.integers(0, 256, 3)), tuple(int(v) for v in rng.integers(0, 256, 3))
        ground = tuple(int(v) for v in rng.integers(0, 256, 3)), tuple(int(v) for v in rng.integers(0, 256, 3))
        top = float(rng.choice([0.0, 0.5, 12.25]))
        before = rng.integers(0, 256, (H, W, 4), dtype=np.uint8)
        before[..., 3] = 255
        drawn, filled = before.copy(), before.copy()
        with _surface(drawn) as canvas:
            _rectangles(canvas, top, horizon, *sky)
            _rectangles(canvas, horizon, float(H), *ground)
        _fill_bands(filled, ((top, horizon, *sky), (horizon, float(H), *ground)))
        assert np.array_equal(drawn, filled), f"horizon {horizon}, top {top}"


def _face_frame(draw, degrees: float, squash: float) -> np.ndarray:
    frame = np.full((H, W, 4), 90, np.uint8)
    frame[..., 3] = 255
    with _surface(frame) as canvas:
        canvas.translate(W / 2 + 0.3, H / 2 + 0.7)
        canvas.scale(420, 420)
        canvas.rotate(degrees)
        canvas.scale(squash, 1)
        draw(canvas)
    return frame[..., :3].astype(int)


@pytest.mark.parametrize(
    ("degrees", "squash", "mean", "p95"),
    [(0.0, 1.0, 0.5, 3), (0.7, 0.8, 2.5, 10), (-1.3, 1.0, 2.5, 10), (6.0, 1.0, 1.0, 4), (-10.0, 0.9, 3.5, 20)],
)
def test_a_likeness_looks_as_it_did_clipped_and_filtered_on_the_frame(
    degrees: float, squash: float, mean: float, p95: float
) -> None:
    """The likeness drawn on a BGRA patch (upright, or turned by the nearest 2-degree step) against the
    same image drawn straight onto the frame through an antialiased circle clip, as before: the outline
    where it was, and inside it differences of a few levels of 255 (subpixel filtering, a degree of turn
    left out, a squash along the upright axis rather than the turned one)."""
    face = _likeness(str(EXAMPLES / "assets" / "nora.png"))
    assert face is not None
    r = 0.16

    def clipped(canvas: skia.Canvas) -> None:
        circle = skia.Path()
        circle.addCircle(0, 0, r)
        canvas.clipPath(circle, doAntiAlias=True)
        canvas.drawImageRect(face, skia.Rect.MakeLTRB(-r, -r, r, r), skia.SamplingOptions(skia.FilterMode.kLinear))

    before = _face_frame(clipped, degrees, squash)
    after = _face_frame(lambda canvas: _draw_face(canvas, face, 0.0, r), degrees, squash)
    changed = np.abs(before - after).max(axis=-1)
    drawn = (before != 90).any(axis=-1)
    assert drawn.sum() > 0.9 * math.pi * (r * 420) ** 2 * squash  # the whole circle is there
    assert ((after != 90).any(axis=-1) != drawn).sum() < 0.005 * drawn.sum()  # and only there
    assert changed[drawn].mean() < mean
    assert np.percentile(changed[drawn], 95) < p95


def test_a_turned_likeness_is_made_once_per_step_and_the_same_every_time() -> None:
    face = _likeness(str(EXAMPLES / "assets" / "nora.png"))
    assert face is not None
    first = _turned(face, 4.0)
    assert _turned(face, 4.0) is first
    pixels = first.toarray()
    _turned.cache_clear()
    again = _turned(face, 4.0)
    assert again is not first and np.array_equal(again.toarray(), pixels)
    assert not np.array_equal(_turned(face, -4.0).toarray(), pixels)
