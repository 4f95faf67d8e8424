"""Weather with physics: particles under gravity, drag and wind that settle on the ground.

Particles live in world metres around the camera. Each step, velocity relaxes
toward its terminal value (gravity against drag) plus wind and a little
deterministic turbulence; a particle that reaches the ground settles (snow
lies there for a while, rain splashes) and is reborn above the view. Snow and
blizzards also build up a white cover on the ground. Storms add lightning,
fog adds depth haze (drawn by the compositor between layers).

All state is in numpy arrays and a numpy RNG, so a ``continue`` shot picks the
particles up exactly where the previous shot left them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import skia


@dataclass(frozen=True)
class Spec:
    count: int
    terminal: float  # m/s downward
    wind: float  # m/s sideways
    turbulence: float
    size: float  # px
    color: tuple[int, int, int, int]
    streak: float  # seconds of motion blur drawn (0: points)
    settle: float  # seconds a landed particle stays
    accumulate: float  # ground cover per second


SPECS: dict[str, Spec] = {
    "rain": Spec(520, 8.0, 0.8, 0.1, 1.6, (190, 200, 220, 150), 0.022, 0.08, 0.0),
    "storm": Spec(650, 9.0, 3.0, 0.3, 1.7, (200, 210, 230, 160), 0.022, 0.08, 0.0),
    "snow": Spec(420, 1.0, 0.5, 0.6, 3.2, (250, 250, 255, 230), 0.0, 2.5, 0.03),
    "blizzard": Spec(950, 1.6, 9.0, 1.4, 2.8, (245, 248, 255, 220), 0.03, 1.0, 0.06),
}


@dataclass
class Particles:
    kind: str
    pos: np.ndarray  # (n, 2) metres
    vel: np.ndarray  # (n, 2) m/s
    landed: np.ndarray  # (n,) seconds since landing, < 0 while airborne
    cover: float  # ground cover 0..1
    flash: float  # lightning brightness 0..1
    next_flash: float  # seconds until the next flash
    bolt_x: float
    rng: np.random.Generator

    def state(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "pos": self.pos.copy(),
            "vel": self.vel.copy(),
            "landed": self.landed.copy(),
            "cover": self.cover,
            "flash": self.flash,
            "next_flash": self.next_flash,
            "bolt_x": self.bolt_x,
            "rng": self.rng.bit_generator.state,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Particles:
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        return cls(
            state["kind"], state["pos"].copy(), state["vel"].copy(), state["landed"].copy(),
            state["cover"], state["flash"], state["next_flash"], state["bolt_x"], rng,
        )  # fmt: skip


def start(kind: str, seed: int, view: tuple[float, float, float, float]) -> Particles:
    """Fresh weather for a cut: particles already spread through the view, mid-fall."""
    rng = np.random.default_rng(seed)
    spec = SPECS.get(kind)
    n = spec.count if spec else 0
    x0, x1, y0, y1 = view
    pos = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(max(0.0, y0), y1, n)])
    vel = np.column_stack([np.full(n, spec.wind if spec else 0.0), np.full(n, -(spec.terminal if spec else 0.0))])
    cover = 0.35 if kind in ("snow", "blizzard") else 0.0
    return Particles(kind, pos, vel, np.full(n, -1.0), cover, 0.0, float(rng.uniform(0.8, 2.5)), 0.0, rng)


def change_kind(p: Particles, kind: str, view: tuple[float, float, float, float]) -> Particles:
    """Weather changed by `set:` inside a continue chain: the new weather arrives from above.

    The ground cover and the RNG carry on; the new particles start above the view
    and fall into it, so the change is seen happening rather than cut in.
    """
    if p.kind == kind:
        return p
    fresh = start(kind, int(p.rng.integers(2**31)), view)
    _, _, y0, y1 = view
    height = y1 - max(0.0, y0)
    if len(fresh.pos):
        fresh.pos[:, 1] = fresh.rng.uniform(y1 + 0.05 * height, y1 + 1.5 * height, len(fresh.pos))
    fresh.cover = p.cover
    return fresh


def step(p: Particles, dt: float, t: float, view: tuple[float, float, float, float]) -> None:
    spec = SPECS.get(p.kind)
    if p.kind == "storm":
        p.flash *= np.exp(-dt / 0.09)
        p.next_flash -= dt
        if p.next_flash <= 0:
            p.flash, p.next_flash = 1.0, float(p.rng.uniform(1.5, 4.0))
            p.bolt_x = float(p.rng.uniform(view[0], view[1]))
    if spec is None or len(p.pos) == 0:
        return
    if spec.accumulate:
        p.cover = min(1.0, p.cover + spec.accumulate * dt)
    x0, x1, y0, y1 = view
    airborne = p.landed < 0
    drag = 9.81 / spec.terminal
    gust = spec.turbulence * np.sin(t * 1.7 + p.pos[:, 1] * 2.1 + np.arange(len(p.pos)) * 0.37)
    target_vx = spec.wind + gust
    p.vel[:, 0] += np.where(airborne, (target_vx - p.vel[:, 0]) * min(1.0, drag * dt * 0.5 + 0.1), 0.0)
    p.vel[:, 1] += np.where(airborne, (-spec.terminal - p.vel[:, 1]) * min(1.0, drag * dt), 0.0)
    p.pos += np.where(airborne[:, None], p.vel * dt, 0.0)
    hit = airborne & (p.pos[:, 1] <= 0)
    p.pos[hit, 1] = 0.0
    p.vel[hit] = 0.0
    p.landed[hit] = 0.0
    p.landed[~airborne] += dt
    width = x1 - x0
    # reborn above the view: landed too long, or blown out of the view sideways
    reborn = (p.landed > spec.settle) | (p.pos[:, 0] < x0 - 0.2 * width) | (p.pos[:, 0] > x1 + 0.2 * width)
    k = int(reborn.sum())
    if k:
        p.pos[reborn, 0] = p.rng.uniform(x0 - 0.15 * width - spec.wind * 0.5, x1 + 0.1 * width, k)
        p.pos[reborn, 1] = p.rng.uniform(y1, y1 + 0.25 * (y1 - max(0.0, y0)) + 0.2, k)
        p.vel[reborn] = (spec.wind, -spec.terminal)
        p.landed[reborn] = -1.0


def _points(xy: np.ndarray) -> list[skia.Point]:
    """``(n, 2)`` pixels as skia points, without a Python list per point (fewer objects for the GC to walk)."""
    return list(map(skia.Point, xy[:, 0].tolist(), xy[:, 1].tolist()))


def _near(canvas: skia.Canvas, margin: float) -> tuple[float, float, float, float]:
    """The canvas's clip in device pixels, widened by ``margin`` (a stroke's reach, its caps and antialiasing)."""
    clip = canvas.getDeviceClipBounds()
    return clip.left() - margin, clip.top() - margin, clip.right() + margin, clip.bottom() + margin


def _segments(heads: np.ndarray, tails: np.ndarray, near: tuple[float, float, float, float]) -> np.ndarray:
    """Head, tail, head, tail... of the streaks that can touch a pixel of ``near``; the others draw nothing.

    At a close framing most particles are outside the frame: skipping them
    leaves every pixel as it was, and skia no longer strokes each one.
    """
    x0, y0, x1, y1 = near
    lo, hi = np.minimum(heads, tails), np.maximum(heads, tails)
    seen = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    segments = np.empty((int(seen.sum()) * 2, 2), np.float32)
    segments[0::2], segments[1::2] = heads[seen], tails[seen]
    return segments


def _streak_paint(paint: skia.Paint, width: float) -> skia.Paint:
    """``paint`` set up for streaks ``width`` pixels wide, the cheapest way that looks the same.

    Skia's antialiased wide strokes cost ~100 ns per row of each streak (a
    medium or close shot of rain spent 2-3 ms a frame on them). A streak one
    pixel wide (every wide shot) is drawn as an antialiased hairline, skia's
    own one-pixel line, 40% cheaper; a wider one with hard edges, 3x cheaper:
    straight, translucent, a few pixels wide and in a new place every frame,
    its edges are not seen to step.
    """
    if width <= 1.0:
        paint.setStrokeWidth(0.0)  # a hairline
    else:
        paint.setStrokeWidth(width)
        paint.setAntiAlias(False)
    return paint


def draw(canvas: skia.Canvas, p: Particles, to_screen: Any, scale: float, lit: Any) -> None:
    """Draw particles; ``to_screen`` maps (n, 2) world metres to (n, 2) pixels."""
    spec = SPECS.get(p.kind)
    if spec is None or len(p.pos) == 0:
        return
    screen = to_screen(p.pos)
    size = spec.size * float(np.clip(scale / 90.0, 0.7, 3.5))
    r, g, b, a = spec.color
    paint = skia.Paint(
        AntiAlias=True, Color=skia.Color(*lit((r, g, b)), a), StrokeWidth=size, StrokeCap=skia.Paint.kRound_Cap
    )
    if spec.streak:
        tail = to_screen(p.pos - p.vel * spec.streak)
        width = max(1.0, size * 0.6)
        segments = _segments(screen, tail, _near(canvas, width + 2))
        canvas.drawPoints(skia.Canvas.kLines_PointMode, _points(segments), _streak_paint(paint, width))
    else:
        dots = _segments(screen, screen, _near(canvas, size + 2))[0::2]
        canvas.drawPoints(skia.Canvas.kPoints_PointMode, _points(dots), paint)


def draw_through(
    canvas: skia.Canvas,
    p: Particles,
    panes: list[tuple[float, float, float, float]],
    pane_size: tuple[float, float],
    scale: float,
    lit: Any,
) -> None:
    """The weather seen through window panes (screen rectangles of ``pane_size`` metres), in every framing.

    Each pane shows a pane-sized patch of the weather: the particles' world
    places wrapped into the pane, so they cross it at their real speed (snow at
    ~1 m/s crosses a 1.6 m pane in under two seconds), and at least two dozen
    of them, so a pane a few pixels wide in an extreme wide shot still shows
    the snow falling rather than a plain pane.
    """
    spec = SPECS.get(p.kind)
    if spec is None or len(p.pos) == 0:
        return
    mw, mh = pane_size
    u = np.mod(p.pos[:, 0] / mw, 1.0)
    v = np.mod(p.pos[:, 1] / mh, 1.0)
    r, g, b, a = spec.color
    if spec.streak:  # rain streaks against a pale pane: darker than the sky behind them, or they vanish
        r, g, b, a = r * 11 // 20, g * 11 // 20, b * 12 // 20, 220
    size = max(1.5, spec.size * float(np.clip(scale / 90.0, 0.7, 3.5)))
    paint = skia.Paint(
        AntiAlias=True, Color=skia.Color(*lit((r, g, b)), a), StrokeWidth=size, StrokeCap=skia.Paint.kRound_Cap
    )
    area = (p.pos[:, 0].max() - p.pos[:, 0].min()) * (p.pos[:, 1].max() - p.pos[:, 1].min())
    n = int(min(len(u), max(24, len(u) * mw * mh / max(area, 1e-6))))
    near = _near(canvas, 2 * size + 2)
    for px0, py0, px1, py1 in panes:
        pw, ph = px1 - px0, py1 - py0
        heads = np.column_stack([px0 + u[:n] * pw, py0 + (1 - v[:n]) * ph])
        if spec.streak:
            paint.setStrokeWidth(max(1.2, size * 0.6))
            tails = heads - p.vel[:n] * spec.streak * (pw / mw, -ph / mh)
            canvas.drawPoints(skia.Canvas.kLines_PointMode, _points(_segments(heads, tails, near)), paint)
        else:
            canvas.drawPoints(skia.Canvas.kPoints_PointMode, _points(_segments(heads, heads, near)[0::2]), paint)
