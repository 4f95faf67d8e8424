"""Props drawn from their nouns: a library of recognisable silhouettes in real sizes.

A prop's kind is the first library noun its id or description names ("oak
desk", "espresso machine", "a parcel wrapped in brown paper"); its colour is
the first colour the description names, else its material (wooden, steel,
glass, leather, cardboard...), else the thing's usual colour. A noun outside
the library keeps the generic shape (a box with a question mark), labelled
by the name tags.

Every drawing is in metres with the ground at y = 0 (drawn as -y), centred
on ``x``, so the camera transform places and scales it like the cast.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import skia

from sora_cli.plan.colors import COLOR_WORDS, RGB, first_color, words
from sora_cli.render.animatic.paint import shade

GENERIC = "generic"
MATERIALS: dict[str, RGB] = {
    "wooden": (150, 105, 60), "wood": (150, 105, 60), "oak": (176, 130, 80), "pine": (200, 160, 100),
    "walnut": (110, 72, 44), "steel": (168, 172, 180), "metal": (150, 155, 162), "chrome": (200, 204, 210),
    "aluminium": (190, 194, 200), "aluminum": (190, 194, 200), "iron": (80, 82, 88), "brass": (190, 160, 70),
    "copper": (184, 115, 70), "glass": (190, 220, 235), "leather": (110, 70, 45), "cardboard": (196, 156, 104),
    "paper": (236, 230, 214), "plastic": (220, 220, 224), "ceramic": (240, 238, 232), "porcelain": (246, 246, 244),
    "canvas": (200, 190, 160), "wicker": (190, 150, 90), "stone": (150, 148, 140), "concrete": (160, 160, 156),
    "velvet": (120, 40, 60), "rubber": (40, 40, 44), "gold": (212, 175, 55), "silver": (192, 192, 200),
}  # fmt: skip


class Pen:
    """Shapes in prop metres, y up, in one colour family."""

    def __init__(self, canvas: skia.Canvas, color: RGB, lit: Callable[[RGB], RGB]):
        self.c, self.col, self.lit = canvas, color, lit

    def paint(self, color: RGB | None = None, k: float = 1.0, stroke: float = 0.0, alpha: int = 255) -> skia.Paint:
        base = color or self.col
        # a light source is as bright in the dark as in daylight
        rgb = base if base in EMITTING else self.lit(shade(base, k) if k != 1.0 else base)
        paint = skia.Paint(AntiAlias=True, Color=skia.Color(*rgb, alpha))
        if stroke:
            paint.setStyle(skia.Paint.kStroke_Style)
            paint.setStrokeWidth(stroke)
            paint.setStrokeCap(skia.Paint.kRound_Cap)
        return paint

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: RGB | None = None, k: float = 1.0, r: float = 0.0) -> None:  # fmt: skip
        rect = skia.Rect.MakeLTRB(min(x0, x1), -max(y0, y1), max(x0, x1), -min(y0, y1))
        if r:
            self.c.drawRoundRect(rect, r, r, self.paint(color, k))
        else:
            self.c.drawRect(rect, self.paint(color, k))

    def oval(self, cx: float, cy: float, rx: float, ry: float, color: RGB | None = None, k: float = 1.0) -> None:
        self.c.drawOval(skia.Rect.MakeLTRB(cx - rx, -cy - ry, cx + rx, -cy + ry), self.paint(color, k))

    def ring(self, cx: float, cy: float, r: float, width: float, color: RGB | None = None, k: float = 1.0) -> None:
        self.c.drawCircle(cx, -cy, r, self.paint(color, k, stroke=width))

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float, color: RGB | None = None, k: float = 1.0) -> None:  # fmt: skip
        self.c.drawLine(x0, -y0, x1, -y1, self.paint(color, k, stroke=width))

    def poly(self, pts: list[tuple[float, float]], color: RGB | None = None, k: float = 1.0) -> None:
        path = skia.Path()
        path.moveTo(pts[0][0], -pts[0][1])
        for px, py in pts[1:]:
            path.lineTo(px, -py)
        path.close()
        self.c.drawPath(path, self.paint(color, k))


Draw = Callable[[Pen, float, float, float, float], None]  # (pen, x, w, h, glow)


@dataclass(frozen=True)
class PropKind:
    size: tuple[float, float]  # width, height in metres
    color: RGB  # its usual colour when the description names none
    draw: Draw


DARK: RGB = (34, 34, 38)
WHITE: RGB = (240, 240, 236)
SCREEN_ON: RGB = (120, 170, 220)
SCREEN_OFF: RGB = (44, 52, 62)
WARM: RGB = (255, 200, 100)
EMITTING = (WARM, SCREEN_ON)  # colours that give light: never dimmed by the scene's light


def _legs(p: Pen, x: float, w: float, top: float, inset: float = 0.05, width: float = 0.05) -> None:
    for lx in (x - w / 2 + inset, x + w / 2 - inset):
        p.line(lx, 0, lx, top, width, k=0.7)


def _desk(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, h - 0.05, x + w / 2, h)
    p.rect(x + w / 2 - 0.45, 0.05, x + w / 2 - 0.05, h - 0.05, k=0.85)  # drawer pedestal
    for dy in (0.2, 0.42):
        p.line(x + w / 2 - 0.32, dy, x + w / 2 - 0.18, dy, 0.02, k=0.5)
    p.line(x - w / 2 + 0.06, 0, x - w / 2 + 0.06, h - 0.05, 0.05, k=0.7)


def _table(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, h - 0.05, x + w / 2, h)
    _legs(p, x, w, h - 0.05, 0.1)


def _counter(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h - 0.04, k=0.8)
    p.rect(x - w / 2, 0, x + w / 2, 0.08, DARK)  # plinth
    p.rect(x - w / 2 - 0.03, h - 0.06, x + w / 2 + 0.03, h, (220, 218, 210))  # worktop
    for k in range(3):
        cx = x - w / 2 + w * (k + 0.5) / 3
        p.rect(cx - w / 7, 0.12, cx + w / 7, h - 0.12, k=0.95)
        p.line(cx - 0.08, h - 0.22, cx + 0.08, h - 0.22, 0.03, DARK)
    p.rect(x + w * 0.2, h, x + w * 0.34, h + 0.22, (200, 204, 210))  # a jar on top
    p.line(x - w * 0.3, h, x - w * 0.3, h + 0.3, 0.03, (180, 184, 190))  # a tap


def _chair(p: Pen, x: float, w: float, h: float, g: float) -> None:
    seat = 0.46
    p.rect(x - w / 2, seat - 0.04, x + w / 2, seat)
    p.line(x - w / 2 + 0.03, 0, x - w / 2 + 0.03, h, 0.045, k=0.8)  # back leg and back
    p.line(x + w / 2 - 0.03, 0, x + w / 2 - 0.03, seat, 0.045, k=0.8)
    p.rect(x - w / 2, h - 0.3, x - w / 2 + 0.06, h, k=0.9)


def _stool(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h - 0.03, w / 2, 0.04)
    p.line(x - w * 0.35, 0, x - w * 0.15, h - 0.04, 0.035, k=0.7)
    p.line(x + w * 0.35, 0, x + w * 0.15, h - 0.04, 0.035, k=0.7)


def _bench(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.42, x + w / 2, 0.47)
    p.rect(x - w / 2, h - 0.15, x + w / 2, h - 0.05)
    p.rect(x - w / 2, 0.6, x + w / 2, 0.68)
    _legs(p, x, w, 0.45, 0.12)


def _bed(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.12, x + w / 2, 0.45, k=0.8)  # frame
    p.rect(x - w / 2 + 0.04, 0.42, x + w / 2 - 0.04, 0.58, WHITE, r=0.05)  # mattress and sheet
    p.rect(x - w / 2 + 0.35, 0.45, x + w / 2 - 0.04, 0.62, r=0.06)  # blanket in the colour
    p.oval(x - w / 2 + 0.22, 0.64, 0.16, 0.07, WHITE)  # pillow
    p.rect(x - w / 2, 0, x - w / 2 + 0.07, h, k=0.6)  # headboard
    p.line(x + w / 2 - 0.04, 0, x + w / 2 - 0.04, 0.2, 0.06, k=0.6)


def _sofa(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2 + 0.1, 0.35, x + w / 2 - 0.1, h, k=0.75, r=0.08)  # back
    p.rect(x - w / 2, 0.1, x + w / 2, 0.45, r=0.06)  # seat
    for side in (-1, 1):
        p.rect(x + side * (w / 2 - 0.1) - 0.1, 0.1, x + side * (w / 2 - 0.1) + 0.1, 0.62, k=0.6, r=0.07)  # arms
    for k in (-1, 0, 1):
        p.rect(x + k * w * 0.27 - w * 0.12, 0.5, x + k * w * 0.27 + w * 0.12, h - 0.08, k=0.9, r=0.06)  # cushions
    p.line(x, 0.2, x, 0.43, 0.02, DARK)  # seat seam
    p.rect(x - w / 2 + 0.05, 0, x - w / 2 + 0.12, 0.1, DARK)
    p.rect(x + w / 2 - 0.12, 0, x + w / 2 - 0.05, 0.1, DARK)


def _door(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2 - 0.06, 0, x + w / 2 + 0.06, h + 0.06, k=0.6)  # frame
    p.rect(x - w / 2, 0, x + w / 2, h)
    for y0, y1 in ((0.15, h * 0.45), (h * 0.52, h - 0.15)):
        p.rect(x - w / 2 + 0.1, y0, x + w / 2 - 0.1, y1, k=0.88)
    p.oval(x + w / 2 - 0.1, h * 0.48, 0.035, 0.035, (200, 170, 80))


def _window(p: Pen, x: float, w: float, h: float, g: float) -> None:
    base = 0.9
    p.rect(x - w / 2 - 0.05, base - 0.05, x + w / 2 + 0.05, base + h + 0.05)
    p.rect(x - w / 2, base, x + w / 2, base + h, (170, 205, 230))
    p.line(x, base, x, base + h, 0.05)
    p.line(x - w / 2, base + h / 2, x + w / 2, base + h / 2, 0.05)
    p.rect(x - w / 2 - 0.1, base - 0.08, x + w / 2 + 0.1, base - 0.02, k=0.8)  # sill


def _wheel(p: Pen, cx: float, cy: float, r: float, width: float = 0.05) -> None:
    p.ring(cx, cy, r, width, (30, 30, 30))
    p.oval(cx, cy, r * 0.25, r * 0.25, (150, 150, 150))


def _car(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.25, x + w / 2, h * 0.55, r=0.15)  # body
    p.poly([(x - w * 0.3, h * 0.5), (x - w * 0.18, h), (x + w * 0.2, h), (x + w * 0.34, h * 0.5)])  # cabin
    p.poly(
        [(x - w * 0.26, h * 0.55), (x - w * 0.17, h * 0.92), (x - 0.03, h * 0.92), (x - 0.03, h * 0.55)],
        (150, 190, 215),
    )
    p.poly(
        [(x + 0.03, h * 0.55), (x + 0.03, h * 0.92), (x + w * 0.18, h * 0.92), (x + w * 0.29, h * 0.55)],
        (150, 190, 215),
    )
    for wx in (x - w * 0.3, x + w * 0.3):
        p.oval(wx, 0.32, 0.36, 0.36, (20, 20, 22))
        p.oval(wx, 0.32, 0.16, 0.16, (170, 170, 175))
    p.oval(x + w / 2 - 0.08, h * 0.42, 0.07, 0.05, (255, 236, 170) if g else (230, 230, 220))


def _bike(p: Pen, x: float, w: float, h: float, g: float) -> None:
    rear, front, r = x - w * 0.32, x + w * 0.32, 0.33
    _wheel(p, rear, r, r)
    _wheel(p, front, r, r)
    crank, seat, head = (x - 0.05, r), (x - w * 0.12, r + 0.42), (x + w * 0.24, r + 0.45)
    for a, b in ((rear, r), crank), ((rear, r), seat), (crank, seat), (crank, head), (seat, (head[0] - 0.03, head[1] - 0.02)), (head, (front, r)):  # fmt: skip
        p.line(a[0], a[1], b[0], b[1], 0.045)
    p.line(seat[0] - 0.1, seat[1] + 0.05, seat[0] + 0.08, seat[1] + 0.05, 0.05, DARK)  # saddle
    p.line(head[0], head[1], head[0] - 0.05, head[1] + 0.15, 0.035, DARK)
    p.line(head[0] - 0.12, head[1] + 0.15, head[0] + 0.02, head[1] + 0.15, 0.035, DARK)  # bars


def _boat(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, h * 0.45), (x + w / 2, h * 0.55), (x + w * 0.38, 0), (x - w * 0.4, 0)])  # hull
    p.line(x - w / 2, h * 0.45, x + w / 2, h * 0.55, 0.06, WHITE)  # gunwale
    p.rect(x - w * 0.1, h * 0.5, x + w * 0.15, h, WHITE)  # wheelhouse
    p.rect(x - w * 0.06, h * 0.72, x + w * 0.11, h * 0.92, (150, 190, 215))


def _sled(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.12, x + w / 2, h, (150, 105, 60), r=0.06)
    p.rect(x - w / 2 + 0.1, h - 0.05, x + w / 2 - 0.1, h + 0.18, r=0.08)  # load under a tarp
    p.line(x - w / 2, 0.04, x + w / 2 - 0.05, 0.04, 0.05, (80, 60, 40))  # runner
    p.c.drawArc(skia.Rect.MakeLTRB(x + w / 2 - 0.25, -0.3, x + w / 2 + 0.05, 0.02), -90, 180, False, p.paint((80, 60, 40), stroke=0.05))  # fmt: skip


def _lamp(p: Pen, x: float, w: float, h: float, g: float) -> None:
    if g > 0:
        p.c.drawCircle(x, -h * 0.82, h * (0.9 + 0.5 * g), p.paint(WARM, alpha=int(70 * g)))
    p.rect(x - w * 0.35, 0, x + w * 0.35, 0.04, k=0.6)
    p.line(x, 0.04, x, h * 0.75, 0.03, k=0.7)
    p.poly([(x - w / 2, h * 0.68), (x + w / 2, h * 0.68), (x + w * 0.3, h), (x - w * 0.3, h)], WARM if g > 0 else None)


def _lantern(p: Pen, x: float, w: float, h: float, g: float) -> None:
    if g > 0:
        p.c.drawCircle(x, -h * 0.5, h * (1.1 + 0.6 * g), p.paint(WARM, alpha=int(90 * g)))
    p.rect(x - w / 2, 0, x + w / 2, 0.04, k=0.6)
    p.rect(x - w * 0.38, 0.04, x + w * 0.38, h * 0.8, WARM if g > 0 else (230, 220, 190), r=0.03)
    for dx in (-w * 0.38, 0.0, w * 0.38):
        p.line(x + dx, 0.04, x + dx, h * 0.8, 0.015, k=0.6)
    p.poly([(x - w / 2, h * 0.8), (x + w / 2, h * 0.8), (x, h * 0.92)], k=0.6)
    p.ring(x, h * 0.96, w * 0.15, 0.015, k=0.6)


def _screen(p: Pen, x0: float, y0: float, x1: float, y1: float, g: float) -> None:
    p.rect(x0, y0, x1, y1, SCREEN_ON if g else SCREEN_OFF)


def _phone(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h, r=w * 0.18)
    _screen(p, x - w * 0.4, h * 0.1, x + w * 0.4, h * 0.88, g)
    p.oval(x, h * 0.94, w * 0.06, w * 0.03, DARK)


def _laptop(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, 0.025, k=0.7)
    p.poly([(x - w / 2 + 0.02, 0.025), (x - w / 2 + 0.06, h), (x + w / 2 - 0.02, h), (x + w / 2 - 0.06, 0.025)])
    _screen(p, x - w / 2 + 0.06, 0.05, x + w / 2 - 0.06, h - 0.02, g)


def _monitor(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - 0.12, 0, x + 0.12, 0.02, k=0.6)
    p.line(x, 0.02, x, h * 0.3, 0.04, k=0.6)
    p.rect(x - w / 2, h * 0.28, x + w / 2, h, DARK)
    _screen(p, x - w / 2 + 0.02, h * 0.3, x + w / 2 - 0.02, h - 0.02, g)


def _tv(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, h * 0.1, x + w / 2, h, DARK)
    _screen(p, x - w / 2 + 0.03, h * 0.13, x + w / 2 - 0.03, h - 0.03, g)
    p.line(x - w * 0.3, 0, x - w * 0.25, h * 0.1, 0.03, DARK)
    p.line(x + w * 0.3, 0, x + w * 0.25, h * 0.1, 0.03, DARK)


def _mug(p: Pen, x: float, w: float, h: float, g: float) -> None:
    body = w * 0.75
    p.rect(x - w / 2, 0, x - w / 2 + body, h, r=0.01)
    p.c.drawArc(skia.Rect.MakeLTRB(x - w / 2 + body - 0.03, -h * 0.8, x + w / 2, -h * 0.25), -90, 180, False, p.paint(stroke=0.012))  # fmt: skip


def _cup(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, 0.005, w * 0.7, 0.01, WHITE)  # saucer
    p.poly([(x - w / 2, h), (x + w / 2, h), (x + w * 0.32, 0.01), (x - w * 0.32, 0.01)])
    p.c.drawArc(skia.Rect.MakeLTRB(x + w * 0.38, -h * 0.85, x + w * 0.62, -h * 0.4), -90, 180, False, p.paint(stroke=0.008))  # fmt: skip


def _bottle(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h * 0.62, r=w * 0.2)
    p.poly([(x - w / 2, h * 0.6), (x + w / 2, h * 0.6), (x + w * 0.18, h * 0.78), (x - w * 0.18, h * 0.78)])
    p.rect(x - w * 0.18, h * 0.76, x + w * 0.18, h, r=0.005)
    p.rect(x - w / 2, h * 0.25, x + w / 2, h * 0.45, WHITE)  # label


def _glass(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, h), (x + w / 2, h), (x + w * 0.38, 0), (x - w * 0.38, 0)], (200, 225, 240))
    p.poly([(x - w * 0.44, h * 0.55), (x + w * 0.44, h * 0.55), (x + w * 0.38, 0.01), (x - w * 0.38, 0.01)])  # drink
    p.line(x - w / 2, h, x + w / 2, h, 0.006, (240, 248, 255))


def _box(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h)
    p.poly(
        [(x - w / 2, h), (x - w / 2 - w * 0.15, h + h * 0.25), (x - w * 0.05, h + h * 0.25), (x, h)], k=0.85
    )  # flaps
    p.poly([(x + w / 2, h), (x + w / 2 + w * 0.15, h + h * 0.25), (x + w * 0.05, h + h * 0.25), (x, h)], k=0.85)
    p.line(x - w / 2, h * 0.7, x + w / 2, h * 0.7, 0.01, k=0.7)


def _parcel(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h)
    p.line(x, 0, x, h, w * 0.08, (200, 60, 50))  # string
    p.line(x - w / 2, h * 0.5, x + w / 2, h * 0.5, w * 0.08, (200, 60, 50))
    p.oval(x - w * 0.08, h + h * 0.08, w * 0.1, h * 0.08, (200, 60, 50))
    p.oval(x + w * 0.08, h + h * 0.08, w * 0.1, h * 0.08, (200, 60, 50))
    p.rect(x + w * 0.12, h * 0.62, x + w * 0.4, h * 0.88, WHITE)  # address label


def _bag(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, 0), (x + w / 2, 0), (x + w * 0.42, h * 0.75), (x - w * 0.42, h * 0.75)])
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.25, -h, x + w * 0.25, -h * 0.5), 180, 180, False, p.paint(k=0.6, stroke=0.025))  # fmt: skip


def _suitcase(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.05, x + w / 2, h * 0.85, r=0.04)
    p.line(x - w * 0.15, h * 0.85, x - w * 0.15, h, 0.025, DARK)
    p.line(x + w * 0.15, h * 0.85, x + w * 0.15, h, 0.025, DARK)
    p.line(x - w * 0.15, h, x + w * 0.15, h, 0.025, DARK)
    for dx in (-w * 0.3, w * 0.3):
        p.oval(x + dx, 0.03, 0.03, 0.03, DARK)
        p.line(x + dx, 0.1, x + dx, h * 0.8, 0.01, k=0.7)


def _backpack(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h * 0.9, r=w * 0.3)
    p.rect(x - w * 0.35, h * 0.08, x + w * 0.35, h * 0.42, k=0.7, r=0.04)  # pocket
    p.line(x - w * 0.35, h * 0.42, x + w * 0.35, h * 0.42, 0.02, DARK)  # zip
    for dx in (-w * 0.28, w * 0.28):
        p.line(x + dx, h * 0.85, x + dx * 1.4, h * 0.2, 0.03, DARK)  # straps
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.2, -h - 0.02, x + w * 0.2, -h * 0.8), 180, 180, False, p.paint(DARK, stroke=0.025))  # fmt: skip


def _umbrella(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.c.drawArc(skia.Rect.MakeLTRB(x - w / 2, -h, x + w / 2, -h * 0.5), 180, 180, True, p.paint())
    for k in range(5):  # scalloped hem
        cx = x - w / 2 + w * (k + 0.5) / 5
        p.oval(cx, h * 0.75, w / 10, h * 0.03, k=0.85)
    p.line(x, h * 0.75, x, 0.12, 0.025, DARK)
    p.c.drawArc(skia.Rect.MakeLTRB(x - 0.1, -0.18, x, -0.02), 0, 180, False, p.paint(DARK, stroke=0.025))


def _book(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h)
    p.rect(x - w / 2, 0, x - w / 2 + w * 0.12, h, k=0.7)  # spine
    p.rect(x - w * 0.2, h * 0.55, x + w * 0.35, h * 0.75, WHITE)  # title block
    p.line(x + w / 2, 0.01, x + w / 2, h - 0.01, 0.01, WHITE)  # pages


def _espresso(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h, r=0.03)  # body
    p.rect(x - w / 2, h * 0.88, x + w / 2, h, (190, 194, 200))  # cup warmer
    p.rect(x - w * 0.35, h * 0.5, x + w * 0.35, h * 0.62, (170, 174, 180))  # group head
    p.line(x - w * 0.05, h * 0.55, x + w * 0.45, h * 0.52, 0.025, DARK)  # portafilter handle
    p.rect(x - w * 0.4, 0, x + w * 0.4, h * 0.08, (170, 174, 180))  # drip tray
    p.rect(x - 0.03, h * 0.08, x + 0.03, h * 0.16, WHITE)  # a cup under the spout
    p.oval(x - w * 0.25, h * 0.75, 0.025, 0.025, (200, 60, 50) if g else (90, 30, 30))  # power light
    p.oval(x + w * 0.2, h * 0.75, 0.04, 0.04, WHITE)  # pressure gauge


def _kettle(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w * 0.4, 0), (x + w * 0.4, 0), (x + w * 0.3, h * 0.8), (x - w * 0.3, h * 0.8)])
    p.line(x + w * 0.35, h * 0.35, x + w / 2, h * 0.75, 0.02)  # spout
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.25, -h, x + w * 0.25, -h * 0.6), 180, 180, False, p.paint(DARK, stroke=0.02))  # fmt: skip


def _plate(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h / 2, w / 2, h / 2)
    p.oval(x, h / 2 + h * 0.1, w * 0.32, h * 0.25, k=0.9)


def _bowl(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.c.drawArc(skia.Rect.MakeLTRB(x - w / 2, -2 * h, x + w / 2, 0), 0, 180, True, p.paint())
    p.line(x - w / 2, h, x + w / 2, h, 0.008, k=0.7)


def _vase(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h * 0.35, w / 2, h * 0.35)
    p.rect(x - w * 0.2, h * 0.5, x + w * 0.2, h * 0.92)
    p.rect(x - w * 0.3, h * 0.9, x + w * 0.3, h)
    for k, dx in enumerate((-0.12, 0.0, 0.12)):
        p.line(x, h, x + dx, h * 1.5, 0.008, (60, 130, 60))
        p.oval(x + dx, h * 1.5, 0.04, 0.04, ((220, 60, 80), (250, 200, 60), (200, 100, 200))[k])


def _plant(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w * 0.3, h * 0.35), (x + w * 0.3, h * 0.35), (x + w * 0.22, 0), (x - w * 0.22, 0)], (184, 100, 60))
    for k in range(7):
        a = math.radians(-70 + 140 * k / 6)
        tip = (x + math.sin(a) * w * 0.5, h * 0.35 + math.cos(a) * h * 0.62)
        p.line(x, h * 0.35, tip[0], tip[1], 0.05, (50, 130, 64))
        p.oval(tip[0], tip[1], 0.06, 0.04, (60, 150, 70))


def _tree(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - 0.12, 0, x + 0.12, h * 0.4, (100, 70, 45))
    for k in range(3):
        y0 = h * (0.3 + 0.2 * k)
        ww = w / 2 * (1 - 0.25 * k)
        p.poly([(x - ww, y0), (x, y0 + h * 0.35), (x + ww, y0)], (40, 110, 55))


def _tent(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, 0), (x, h), (x + w / 2, 0)])
    p.poly([(x - w * 0.12, 0), (x, h * 0.55), (x + w * 0.12, 0)], DARK)  # door
    p.line(x, h, x, h + 0.15, 0.03, DARK)


def _sign(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.line(x, 0, x, h * 0.65, 0.08, (90, 90, 96))
    p.rect(x - w / 2, h * 0.6, x + w / 2, h, r=0.05)
    for k in range(2):
        yy = h * (0.74 + 0.14 * k)
        p.line(x - w * 0.35, yy, x + w * 0.35, yy, 0.05, WHITE)


def _clock(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h / 2, w / 2, h / 2)
    p.oval(x, h / 2, w * 0.42, h * 0.42, WHITE)
    p.line(x, h / 2, x, h * 0.85, 0.02, DARK)
    p.line(x, h / 2, x + w * 0.25, h / 2, 0.02, DARK)


def _guitar(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h * 0.2, w / 2, h * 0.2)
    p.oval(x, h * 0.44, w * 0.38, h * 0.15)
    p.oval(x, h * 0.3, w * 0.12, w * 0.12, DARK)  # sound hole
    p.line(x, h * 0.5, x, h * 0.92, 0.05, (90, 60, 40))  # neck
    p.rect(x - 0.04, h * 0.9, x + 0.04, h, (60, 40, 30))


def _piano(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.0, x + w / 2, h)
    p.rect(x - w / 2 - 0.05, h * 0.56, x + w / 2 + 0.05, h * 0.7, WHITE)  # keys, jutting out
    for k in range(14):
        kx = x - w / 2 + 0.05 + k * (w - 0.1) / 14
        p.line(kx, h * 0.56, kx, h * 0.7, 0.008, DARK)
        if k % 7 not in (2, 6):
            p.rect(kx + 0.02, h * 0.63, kx + 0.055, h * 0.7, DARK)
    p.rect(x - w * 0.2, h * 0.78, x + w * 0.2, h * 0.92, WHITE)  # music sheet
    p.line(x - w / 2 + 0.05, 0, x - w / 2 + 0.05, h * 0.5, 0.06, DARK)
    p.line(x + w / 2 - 0.05, 0, x + w / 2 - 0.05, h * 0.5, 0.06, DARK)


def _fridge(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0.04, x + w / 2, h, r=0.04)
    p.rect(x - w / 2 + 0.04, 0, x + w / 2 - 0.04, 0.05, DARK)  # kick plate
    p.line(x - w / 2, h * 0.65, x + w / 2, h * 0.65, 0.03, DARK)  # freezer door seam
    p.line(x + w / 2 - 0.1, h * 0.7, x + w / 2 - 0.1, h * 0.88, 0.05, DARK)  # handles
    p.line(x + w / 2 - 0.1, h * 0.3, x + w / 2 - 0.1, h * 0.58, 0.05, DARK)
    p.rect(x - w * 0.3, h * 0.4, x - w * 0.05, h * 0.52, (250, 220, 90))  # a note under a magnet
    p.oval(x - w * 0.18, h * 0.52, 0.03, 0.03, (200, 50, 50))


def _stove(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h * 0.9)
    p.rect(x - w * 0.4, h * 0.12, x + w * 0.4, h * 0.6, DARK)  # oven door window
    p.rect(x - w / 2, h * 0.9, x + w / 2, h, (60, 60, 64))  # hob
    for dx in (-w * 0.25, w * 0.25):
        p.oval(x + dx, h * 1.0, w * 0.15, 0.02, (200, 60, 40) if g else (40, 40, 44))
    for k in range(4):
        p.oval(x - w * 0.3 + k * w * 0.2, h * 0.75, 0.025, 0.025, DARK)


def _sink(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h * 0.9, (230, 228, 222))
    p.rect(x - w / 2, h * 0.88, x + w / 2, h * 0.92, (180, 184, 190))
    p.line(x, h * 0.92, x, h * 1.15, 0.03, (180, 184, 190))  # tap
    p.line(x, h * 1.15, x + 0.15, h * 1.12, 0.03, (180, 184, 190))


def _shelf(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h, k=0.75)
    colors = [(180, 50, 50), (50, 90, 160), (60, 130, 70), (220, 170, 50), (120, 70, 140)]
    for row in range(4):
        y0 = 0.05 + row * (h - 0.1) / 4
        p.rect(x - w / 2 + 0.04, y0, x + w / 2 - 0.04, y0 + 0.03, k=1.0)
        for k in range(7):
            bx = x - w / 2 + 0.08 + k * (w - 0.16) / 7
            p.rect(bx, y0 + 0.03, bx + (w - 0.16) / 8, y0 + 0.03 + (h - 0.1) / 4 * (0.6 + 0.2 * ((k + row) % 2)), colors[(k + row) % 5])  # fmt: skip


def _barrel(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h, r=w * 0.2)
    p.oval(x, h * 0.5, w * 0.56, h * 0.3, k=0.9)  # the bulge
    for yy in (h * 0.15, h * 0.5, h * 0.85):
        p.line(x - w / 2, yy, x + w / 2, yy, 0.05, DARK)  # hoops
    for dx in (-w / 4, 0.0, w / 4):
        p.line(x + dx, 0.03, x + dx, h - 0.03, 0.015, k=0.6)


def _crate(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h)
    for k in range(1, 4):  # slats
        p.line(x - w / 2, h * k / 4, x + w / 2, h * k / 4, 0.015, DARK)
    p.line(x - w / 2, 0, x + w / 2, h, 0.06, k=0.6)
    for yy in (0.03, h - 0.03):
        p.line(x - w / 2, yy, x + w / 2, yy, 0.06, k=0.6)
    for xx in (x - w / 2 + 0.03, x + w / 2 - 0.03):
        p.line(xx, 0, xx, h, 0.06, k=0.6)


def _ladder(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.line(x - w / 2, 0, x - w * 0.3, h, 0.05)
    p.line(x + w / 2, 0, x + w * 0.3, h, 0.05)
    for k in range(1, 7):
        u = k / 7
        half = w / 2 - 0.2 * w * u
        p.line(x - half, h * u, x + half, h * u, 0.035)


def _rope(p: Pen, x: float, w: float, h: float, g: float) -> None:
    for k, r in enumerate((w / 2, w * 0.38, w * 0.26)):
        p.c.drawOval(skia.Rect.MakeLTRB(x - r, -h, x + r, 0), p.paint(k=1.0 - 0.1 * k, stroke=0.035))
    p.line(x + w / 2, h / 2, x + w * 0.8, 0.01, 0.035)


def _basket(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, h * 0.6), (x + w / 2, h * 0.6), (x + w * 0.38, 0), (x - w * 0.38, 0)])
    for k in range(4):
        yy = h * 0.12 + k * h * 0.14
        p.line(x - w * 0.42, yy, x + w * 0.42, yy, 0.012, k=0.7)
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.38, -h, x + w * 0.38, -h * 0.2), 180, 180, False, p.paint(k=0.8, stroke=0.025))  # fmt: skip


def _bucket(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, h * 0.8), (x + w / 2, h * 0.8), (x + w * 0.36, 0), (x - w * 0.36, 0)])
    p.c.drawArc(skia.Rect.MakeLTRB(x - w / 2, -h, x + w / 2, -h * 0.6), 180, 180, False, p.paint(DARK, stroke=0.015))  # fmt: skip
    p.line(x - w / 2, h * 0.78, x + w / 2, h * 0.78, 0.02, k=0.7)


def _ball(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.oval(x, h / 2, w / 2, h / 2)
    p.c.drawArc(skia.Rect.MakeLTRB(x - w / 2, -h, x + w * 0.1, 0), -60, 120, False, p.paint(WHITE, stroke=0.012))
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.1, -h, x + w / 2, 0), 120, 120, False, p.paint(WHITE, stroke=0.012))


def _candle(p: Pen, x: float, w: float, h: float, g: float) -> None:
    if g > 0:
        p.c.drawCircle(x, -h, h * (0.8 + 0.4 * g), p.paint(WARM, alpha=int(80 * g)))
    p.oval(x, 0.01, w, 0.012, (190, 160, 70))  # holder
    p.rect(x - w / 2, 0.01, x + w / 2, h * 0.8)
    p.oval(x, h * 0.9, w * 0.3, h * 0.1, WARM)


def _flag(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.line(x - w / 2, 0, x - w / 2, h, 0.04, (120, 120, 126))
    p.poly([(x - w / 2, h), (x + w / 2, h * 0.92), (x + w / 2, h * 0.62), (x - w / 2, h * 0.68)])


def _camera(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h * 0.8, DARK, r=0.01)
    p.rect(x - w * 0.3, h * 0.8, x - w * 0.05, h, DARK)
    p.oval(x, h * 0.4, h * 0.3, h * 0.3, (90, 90, 96))
    p.oval(x, h * 0.4, h * 0.18, h * 0.18, (40, 60, 90))


def _rock(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.poly([(x - w / 2, 0), (x - w * 0.42, h * 0.7), (x - w * 0.1, h), (x + w * 0.3, h * 0.9), (x + w / 2, 0)])
    p.line(x - w * 0.1, h * 0.95, x + w * 0.05, h * 0.5, 0.02, k=0.75)


def _log(p: Pen, x: float, w: float, h: float, g: float) -> None:
    p.rect(x - w / 2, 0, x + w / 2, h, r=h * 0.3)
    p.oval(x + w / 2 - h * 0.2, h / 2, h * 0.2, h / 2, (190, 150, 100))
    p.ring(x + w / 2 - h * 0.2, h / 2, h * 0.25, 0.015, k=0.7)


def _generic(p: Pen, x: float, w: float, h: float, g: float) -> None:
    """An unknown thing: a plain block with a question mark (its name is on the tag)."""
    p.rect(x - w / 2, 0, x + w / 2, h, r=min(w, h) * 0.15)
    mark = p.paint(k=0.55, stroke=min(w, h) * 0.08)
    p.c.drawArc(skia.Rect.MakeLTRB(x - w * 0.15, -h * 0.8, x + w * 0.15, -h * 0.5), 180, 270, False, mark)
    p.c.drawCircle(x, -h * 0.2, min(w, h) * 0.05, p.paint(k=0.55))


LIBRARY: dict[str, PropKind] = {
    "desk": PropKind((1.5, 0.76), (176, 130, 80), _desk),
    "table": PropKind((1.4, 0.75), (150, 105, 60), _table),
    "counter": PropKind((2.0, 0.92), (120, 120, 130), _counter),
    "chair": PropKind((0.5, 0.95), (150, 105, 60), _chair),
    "stool": PropKind((0.4, 0.7), (150, 105, 60), _stool),
    "bench": PropKind((1.6, 0.85), (130, 90, 55), _bench),
    "bed": PropKind((2.0, 1.0), (90, 110, 170), _bed),
    "sofa": PropKind((2.0, 0.85), (110, 120, 140), _sofa),
    "door": PropKind((0.9, 2.05), (170, 120, 80), _door),
    "window": PropKind((1.2, 1.2), (240, 240, 236), _window),
    "car": PropKind((4.2, 1.45), (180, 40, 40), _car),
    "bike": PropKind((1.7, 1.05), (40, 90, 170), _bike),
    "boat": PropKind((4.0, 1.6), (170, 70, 50), _boat),
    "sled": PropKind((1.7, 0.45), (235, 120, 40), _sled),
    "lamp": PropKind((0.45, 0.7), (60, 60, 66), _lamp),
    "lantern": PropKind((0.3, 0.42), (60, 60, 66), _lantern),
    "candle": PropKind((0.06, 0.22), (246, 240, 220), _candle),
    "phone": PropKind((0.08, 0.16), DARK, _phone),
    "laptop": PropKind((0.4, 0.28), (170, 174, 180), _laptop),
    "monitor": PropKind((0.6, 0.5), DARK, _monitor),
    "tv": PropKind((1.2, 0.8), DARK, _tv),
    "camera": PropKind((0.16, 0.12), DARK, _camera),
    "mug": PropKind((0.12, 0.11), (240, 238, 232), _mug),
    "cup": PropKind((0.11, 0.08), (246, 246, 244), _cup),
    "bottle": PropKind((0.08, 0.3), (60, 130, 80), _bottle),
    "glass": PropKind((0.08, 0.14), (200, 120, 60), _glass),
    "kettle": PropKind((0.25, 0.26), (190, 194, 200), _kettle),
    "plate": PropKind((0.26, 0.03), WHITE, _plate),
    "bowl": PropKind((0.2, 0.08), WHITE, _bowl),
    "vase": PropKind((0.18, 0.3), (60, 110, 160), _vase),
    "plant": PropKind((0.6, 0.9), (184, 100, 60), _plant),
    "box": PropKind((0.6, 0.45), (196, 156, 104), _box),
    "parcel": PropKind((0.45, 0.3), (196, 156, 104), _parcel),
    "crate": PropKind((0.7, 0.6), (170, 130, 80), _crate),
    "barrel": PropKind((0.6, 0.9), (140, 95, 55), _barrel),
    "bag": PropKind((0.4, 0.4), (110, 70, 45), _bag),
    "suitcase": PropKind((0.45, 0.7), (60, 70, 90), _suitcase),
    "backpack": PropKind((0.35, 0.5), (60, 100, 70), _backpack),
    "basket": PropKind((0.45, 0.4), (190, 150, 90), _basket),
    "bucket": PropKind((0.3, 0.32), (160, 164, 170), _bucket),
    "umbrella": PropKind((1.0, 1.0), (40, 40, 70), _umbrella),
    "book": PropKind((0.16, 0.23), (150, 40, 40), _book),
    "espresso machine": PropKind((0.45, 0.45), (200, 204, 210), _espresso),
    "fridge": PropKind((0.75, 1.8), (236, 236, 234), _fridge),
    "stove": PropKind((0.6, 0.9), (236, 236, 234), _stove),
    "sink": PropKind((0.8, 0.9), (230, 228, 222), _sink),
    "shelf": PropKind((1.0, 1.9), (150, 105, 60), _shelf),
    "piano": PropKind((1.5, 1.25), (30, 28, 30), _piano),
    "clock": PropKind((0.35, 0.35), (120, 80, 50), _clock),
    "guitar": PropKind((0.38, 1.0), (196, 120, 60), _guitar),
    "ladder": PropKind((0.55, 2.0), (170, 174, 180), _ladder),
    "rope": PropKind((0.5, 0.25), (196, 170, 120), _rope),
    "ball": PropKind((0.22, 0.22), (220, 80, 50), _ball),
    "flag": PropKind((1.0, 2.2), (200, 50, 50), _flag),
    "tent": PropKind((2.2, 1.4), (220, 120, 40), _tent),
    "sign": PropKind((1.0, 2.2), (40, 110, 70), _sign),
    "tree": PropKind((1.5, 4.0), (40, 110, 55), _tree),
    "rock": PropKind((0.9, 0.47), (128, 124, 118), _rock),
    "log": PropKind((1.4, 0.45), (120, 84, 52), _log),
}
GENERIC_KIND = PropKind((0.6, 0.5), (150, 140, 128), _generic)

#: other words for the same things
SYNONYMS: dict[str, str] = {
    "bicycle": "bike", "cycle": "bike", "automobile": "car", "taxi": "car", "van": "car", "truck": "car",
    "sledge": "sled", "sleigh": "sled", "toboggan": "sled", "couch": "sofa", "settee": "sofa",
    "smartphone": "phone", "cellphone": "phone", "mobile": "phone", "notebook": "laptop", "computer": "laptop",
    "screen": "monitor", "television": "tv", "teacup": "cup", "tumbler": "glass", "package": "parcel",
    "carton": "box", "handbag": "bag", "purse": "bag", "tote": "bag", "rucksack": "backpack",
    "luggage": "suitcase", "novel": "book", "journal": "book", "diary": "book", "dinghy": "boat",
    "rowboat": "boat", "canoe": "boat", "kayak": "boat", "ship": "boat", "armchair": "chair", "seat": "chair",
    "worktop": "counter", "torch": "lantern",
    "bookcase": "shelf", "bookshelf": "shelf", "cupboard": "shelf", "refrigerator": "fridge", "oven": "stove",
    "cooker": "stove", "hob": "stove", "teapot": "kettle", "flowers": "vase", "lampshade": "lamp",
    "boulder": "rock", "stone": "rock", "stump": "log",
}  # fmt: skip
PHRASES: dict[tuple[str, str], str] = {
    ("espresso", "machine"): "espresso machine", ("coffee", "machine"): "espresso machine",
    ("coffee", "maker"): "espresso machine", ("cardboard", "box"): "box", ("street", "sign"): "sign",
}  # fmt: skip


#: words that end a prop's noun phrase: its head noun is the last noun before them ("lamp on the desk")
_PHRASE_END = {"of", "with", "for", "on", "in", "from", "at", "to", "by", "and", "or", "near", "under", "beside",
               "that", "which", "full", "filled", "against", "behind", "inside"}  # fmt: skip
#: words after a noun that do not make it a modifier of another noun ("lamp lit", "door open")
_AFTER_NOUN = {"lit", "on", "off", "open", "closed", "shut", "left", "right", "big", "small", "old", "new", "empty",
               "full", "broken", "upright", "prop", "a", "b", "one", "two", "three"}  # fmt: skip


def prop_kind(prop_id: str, description: str) -> str:
    """The library noun a prop is (its id first, then its description), else :data:`GENERIC`.

    The kind is the phrase's *head* noun, its last: a "desk lamp" is a lamp, a
    "water bottle" a bottle; a noun that only modifies an unknown one is not the
    thing ("car key", "door key", "bicycle helmet", "tree house" are not a car,
    a door, a bike or a tree: they are drawn as the generic block, named on the tag).
    """
    for text in (prop_id.replace("_", " ").replace("-", " "), description):
        said = list(itertools.takewhile(lambda w: w not in _PHRASE_END, words(text)))
        head: str | None = None
        for i, w in enumerate(said):
            if i + 1 < len(said) and (w, said[i + 1]) in PHRASES:
                head = PHRASES[(w, said[i + 1])]
                continue
            if i and (said[i - 1], w) in PHRASES:
                continue  # the second word of a phrase already read
            if w in MATERIALS and i + 1 < len(said) and _noun(said[i + 1]):
                continue  # "glass bottle" is a bottle
            kind = (
                (LIBRARY.get(w) and w) or SYNONYMS.get(w) or (w[:-1] if w.endswith("s") and w[:-1] in LIBRARY else None)
            )
            if kind:
                head = kind
            elif head and w not in COLOR_WORDS and w not in MATERIALS and w not in _AFTER_NOUN:
                head = None  # the known noun modified this unknown one: "car key"
        if head:
            return head
    return GENERIC


def _noun(word: str) -> bool:
    return word in LIBRARY or word in SYNONYMS or (word.endswith("s") and word[:-1] in LIBRARY)


def kind_of(kind: str) -> PropKind:
    return LIBRARY.get(kind, GENERIC_KIND)


def prop_color(kind: str, description: str) -> RGB:
    """The description's colour, else its material's, else the thing's usual colour."""
    named = first_color(description)
    if named:
        return named
    material = next((MATERIALS[w] for w in words(description) if w in MATERIALS), None)
    return material or kind_of(kind).color


def draw_prop(
    canvas: skia.Canvas, kind: str, description: str, x: float, lit: Callable[[RGB], RGB], glow: float = 0.0
) -> None:
    """Draw a prop of ``kind`` standing on the ground at ``x`` (world metres)."""
    thing = kind_of(kind)
    w, h = thing.size
    thing.draw(Pen(canvas, prop_color(kind, description), lit), x, w, h, glow)
