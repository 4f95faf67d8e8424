"""Places: a layered, parallax background chosen from the location text.

Each place is a few layers at different parallax depths (0 = infinitely far,
1 = the plane the characters stand in), recorded once per shot as skia
Pictures in metres (y up), and replayed each frame under the camera
transform: static layers cost one picture replay, never a redraw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import skia

from sora_cli.plan.colors import RGB
from sora_cli.render.animatic.paint import mix, shade
from sora_cli.render.animatic.sky import Light

SPAN = 140.0  # metres of background drawn each side of 0 (room for pans and walks)


@dataclass(frozen=True)
class Layer:
    parallax: float
    picture: skia.Picture


@dataclass(frozen=True)
class Place:
    kind: str
    ground: RGB  # colour of the ground plane (floor indoors)
    ground_far: RGB
    has_sky: bool
    layers: tuple[Layer, ...]
    water: bool = False
    #: indoors: the window panes (x0, y0, x1, y1 in metres of the wall layer), the only
    #: place the weather shows; and that layer's parallax
    windows: tuple[tuple[float, float, float, float], ...] = ()
    wall_parallax: float = 1.0


class _Pen:
    """Paints for the layer being recorded: every colour lit at that layer's depth."""

    def __init__(self, light: Light):
        self.light = light
        self.depth = 1.0

    def paint(self, color: RGB, alpha: int = 255) -> skia.Paint:
        return skia.Paint(AntiAlias=True, Color=skia.Color(*self.light.lit(color, self.depth), alpha))

    def poly(self, canvas: skia.Canvas, pts: list[tuple[float, float]], color: RGB, alpha: int = 255) -> None:
        path = skia.Path()
        path.moveTo(pts[0][0], -pts[0][1])
        for x, y in pts[1:]:
            path.lineTo(x, -y)
        path.close()
        canvas.drawPath(path, self.paint(color, alpha))

    def rect(
        self, canvas: skia.Canvas, x0: float, y0: float, x1: float, y1: float, color: RGB, alpha: int = 255
    ) -> None:
        canvas.drawRect(skia.Rect.MakeLTRB(x0, -y1, x1, -y0), self.paint(color, alpha))


def _ridge(rng: np.random.Generator, step: float, lo: float, hi: float) -> list[tuple[float, float]]:
    xs = np.arange(-SPAN, SPAN + step, step)
    ys = rng.uniform(lo, hi, len(xs))
    return [(-SPAN, -1.0), *zip(xs.tolist(), ys.tolist(), strict=True), (SPAN, -1.0)]


def _record(draw: Callable[[skia.Canvas], None]) -> skia.Picture:
    recorder = skia.PictureRecorder()
    canvas = recorder.beginRecording(skia.Rect.MakeLTRB(-SPAN, -200, SPAN, 50))
    draw(canvas)
    return recorder.finishRecordingAsPicture()


def build_place(kind: str, seed: int, night: bool, light: Light, windows: bool = True) -> Place:
    """The place of kind ``kind`` (the plan's ``facts.place``), its details seeded by ``seed``."""
    rng = np.random.default_rng(seed)
    haze = light.sky_horizon
    window = (255, 214, 120) if night else (150, 180, 205)
    layers: list[Layer] = []
    pen = _Pen(light)

    def layer(parallax: float, draw: Callable[[skia.Canvas], None]) -> None:
        pen.depth = parallax
        layers.append(Layer(parallax, _record(draw)))

    def ground(near: RGB, far: RGB) -> tuple[RGB, RGB]:
        return light.lit(near, 1.0), light.lit(far, 0.1)

    if kind == "ice":
        layer(0.12, lambda c: pen.poly(c, _ridge(rng, 3, 0.25, 1.1), mix((214, 226, 240), haze, 0.45)))
        layer(0.4, lambda c: pen.poly(c, _ridge(rng, 2.5, 0.05, 0.5), mix((232, 240, 250), haze, 0.2)))
        return Place(kind, *ground((236, 242, 250), mix((220, 230, 244), haze, 0.4)), True, tuple(layers))
    if kind == "mountains":

        def peaks(c: skia.Canvas) -> None:
            for x in np.arange(-SPAN, SPAN, 4.5):
                h = rng.uniform(2.2, 4.2)
                w = rng.uniform(2.4, 3.8)
                x += rng.uniform(-1, 1)
                pen.poly(c, [(x - w, 0), (x, h), (x + w, 0)], mix((92, 104, 130), haze, 0.35))
                pen.poly(c, [(x - w * 0.28, h * 0.72), (x, h), (x + w * 0.28, h * 0.72)], (240, 244, 250))

        layer(0.1, peaks)
        layer(0.35, lambda c: pen.poly(c, _ridge(rng, 3, 0.3, 1.2), mix((74, 110, 78), haze, 0.3)))
        return Place(kind, *ground((98, 128, 82), mix((110, 140, 100), haze, 0.4)), True, tuple(layers))
    if kind == "city":

        def skyline(c: skia.Canvas, u: float, lo: float, hi: float, base: RGB) -> None:
            x = -SPAN
            while x < SPAN:
                w, h = rng.uniform(5, 11) * u, rng.uniform(lo, hi) * u
                pen.rect(c, x, 0, x + w - 0.4 * u, h, base)
                for wy in np.arange(2.0 * u, h - u, 2.6 * u):
                    for wx in np.arange(x + 0.8 * u, x + w - 1.2 * u, 1.6 * u):
                        if rng.random() < (0.55 if night else 0.9):
                            pen.rect(c, wx, wy, wx + 0.8 * u, wy + 1.2 * u, window, 230)
                x += w

        layer(0.18, lambda c: skyline(c, 0.14, 12, 30, mix((70, 80, 100), haze, 0.5)))
        layer(0.5, lambda c: skyline(c, 0.38, 8, 16, (96, 90, 94)))

        def lamps(c: skia.Canvas) -> None:
            for x in np.arange(-SPAN, SPAN, 14):
                pen.rect(c, x, 0, x + 0.15, 4.5, (50, 52, 58))
                c.drawCircle(x + 0.07, -4.6, 0.35, pen.paint((255, 226, 150) if night else (230, 230, 220)))
            pen.rect(c, -SPAN, -0.2, SPAN, 0.05, (150, 150, 150))  # kerb

        layer(0.85, lamps)
        return Place(kind, *ground((78, 80, 86), mix((96, 98, 104), haze, 0.4)), True, tuple(layers))
    if kind == "market":

        def stalls(c: skia.Canvas) -> None:
            x = -SPAN
            colors = [(200, 60, 50), (230, 170, 40), (50, 120, 180), (70, 150, 80), (180, 80, 150)]
            while x < SPAN:
                w = rng.uniform(3, 4.5)
                col = colors[int(rng.integers(len(colors)))]
                pen.rect(c, x + 0.2, 0, x + 0.35, 2.6, (90, 70, 50))
                pen.rect(c, x + w - 0.35, 0, x + w - 0.2, 2.6, (90, 70, 50))
                pen.rect(c, x, 0.0, x + w, 1.0, (140, 100, 60))
                for k, sx in enumerate(np.arange(x, x + w, 0.5)):
                    pen.poly(
                        c, [(sx, 2.4), (sx + 0.5, 2.4), (sx + 0.5, 3.1), (sx, 3.1)], col if k % 2 else (245, 240, 230)
                    )
                for fx in np.arange(x + 0.4, x + w - 0.4, 0.45):
                    c.drawCircle(fx, -1.15, 0.17, pen.paint(colors[int(rng.integers(len(colors)))]))
                x += w + rng.uniform(0.5, 1.5)

        def crowd(c: skia.Canvas) -> None:
            for x in np.arange(-SPAN, SPAN, 1.1):
                if rng.random() < 0.6:
                    h = rng.uniform(1.5, 1.85)
                    col = mix((60, 60, 70), haze, 0.4)
                    c.drawCircle(x, -(h - 0.12), 0.12, pen.paint(col))
                    pen.rect(c, x - 0.2, 0, x + 0.2, h - 0.26, col)

        layer(0.2, lambda c: pen.poly(c, _ridge(rng, 2, 1.0, 2.2), mix((150, 120, 100), haze, 0.5)))
        layer(0.55, stalls)
        layer(0.75, crowd)
        return Place(kind, *ground((150, 130, 110), mix((160, 140, 120), haze, 0.3)), True, tuple(layers))
    if kind == "interior":
        wall = (226, 220, 208)
        panes = tuple((float(x), 1.0, float(x) + 2.4, 2.6) for x in np.arange(-SPAN + 3, SPAN, 9)) if windows else ()

        def room(c: skia.Canvas) -> None:
            pen.rect(c, -SPAN, 0, SPAN, 60, wall)
            for x in np.arange(-SPAN + 3, SPAN, 9):
                if windows:  # "a room with no windows" has none
                    pen.rect(c, x, 1.0, x + 2.4, 2.6, (60, 70, 90) if night else (170, 200, 230))
                    pen.rect(c, x + 1.15, 1.0, x + 1.25, 2.6, shade(wall, 0.85))
                pen.rect(c, x + 4.2, 1.6, x + 5.6, 2.3, (150, 110, 80))  # picture frame
                pen.rect(c, x + 4.35, 1.7, x + 5.45, 2.2, (110, 150, 170))
                pen.rect(c, x + 6.5, 0, x + 6.55, 2.2, shade(wall, 0.8))  # panel line
            pen.rect(c, -SPAN, 0, SPAN, 0.12, shade(wall, 0.75))  # skirting

        layer(0.9, room)
        return Place(
            kind, *ground((176, 140, 100), (160, 126, 92)), False, tuple(layers), windows=panes, wall_parallax=0.9
        )
    if kind == "forest":

        def trees(c: skia.Canvas, density: float, scale: float, col: RGB) -> None:
            for x in np.arange(-SPAN, SPAN, density):
                x += rng.uniform(-density / 3, density / 3)
                h = rng.uniform(6, 11) * scale
                pen.rect(c, x - 0.15 * scale, 0, x + 0.15 * scale, h * 0.3, (80, 56, 40))
                for k in range(3):
                    y0 = h * (0.22 + 0.22 * k)
                    w = (1.8 - 0.45 * k) * scale
                    pen.poly(c, [(x - w, y0), (x, y0 + h * 0.35), (x + w, y0)], col)

        layer(0.12, lambda c: pen.poly(c, _ridge(rng, 3, 0.5, 1.2), mix((60, 100, 70), haze, 0.55)))
        layer(0.35, lambda c: trees(c, 0.8, 0.3, mix((40, 90, 55), haze, 0.35)))
        layer(0.7, lambda c: trees(c, 5.5, 1.0, (34, 80, 46)))
        return Place(kind, *ground((76, 110, 60), mix((70, 100, 60), haze, 0.3)), True, tuple(layers))
    if kind == "sea":

        def boats(c: skia.Canvas) -> None:
            for x in np.arange(-SPAN, SPAN, 16):
                x += rng.uniform(-4, 4)
                hull = mix((150, 70, 50), haze, 0.3)
                u = 0.45
                pen.poly(
                    c,
                    [(x - 3 * u, 0.6 * u), (x + 3 * u, 0.6 * u), (x + 2.2 * u, -0.2 * u), (x - 2.2 * u, -0.2 * u)],
                    hull,
                )
                pen.rect(c, x - 0.03, 0.6 * u, x + 0.03, 6 * u, (90, 80, 70))
                pen.poly(c, [(x + 0.05, 1.2 * u), (x + 0.05, 5.6 * u), (x + 2.4 * u, 1.4 * u)], (236, 232, 220))

        def posts(c: skia.Canvas) -> None:
            for x in np.arange(-SPAN, SPAN, 3.0):
                pen.rect(c, x, -0.2, x + 0.25, 1.1, (84, 64, 46))

        layer(0.1, lambda c: pen.poly(c, _ridge(rng, 4, 0.1, 0.5), mix((80, 100, 110), haze, 0.6)))
        layer(0.45, boats)
        layer(0.9, posts)
        return Place(kind, *ground((120, 92, 66), mix((40, 80, 110), haze, 0.35)), True, tuple(layers), water=True)
    if kind == "desert":
        layer(0.12, lambda c: pen.poly(c, _ridge(rng, 4, 0.4, 1.1), mix((214, 170, 110), haze, 0.45)))
        layer(0.4, lambda c: pen.poly(c, _ridge(rng, 3, 0.2, 0.8), mix((226, 186, 124), haze, 0.2)))
        return Place(kind, *ground((232, 196, 138), mix((222, 186, 130), haze, 0.35)), True, tuple(layers))
    layer(0.3, lambda c: pen.rect(c, -SPAN, 0, SPAN, 0.02, (200, 200, 200)))
    return Place("neutral", *ground((196, 198, 204), (176, 180, 188)), True, tuple(layers))
