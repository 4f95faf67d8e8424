"""The virtual camera over the 2.5D scene.

``framing`` sets how many metres of the subject plane fill the frame height;
``move`` animates the pose over the shot (pan, tilt, zoom, dolly, handheld).
Parallax comes from the layer transform: a layer at depth ``p`` moves ``p``
times as much as the subject plane and scales by ``(s/s0) ** p``, so a dolly
pushes past near layers faster than far ones while a zoom scales them all.

A ``continue`` shot starts from the carried pose and settles into its own
framing, so its first frame is one frame of motion away from the last one: the
carried pose's offset from the shot's own (moving) pose dies away, so a camera
that was following someone (falling, walking) goes on following them from the
first frame instead of stopping at the cut and catching up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: framing -> metres of the subject plane visible top to bottom (the wide framings; the close
#: ones are cut on the subject's body, see :data:`BODY_CUTS`)
VIEW_HEIGHT = {"extreme_wide": 22.0, "wide": 8.5, "medium": 2.6, "close_up": 0.95, "extreme_close_up": 0.42}
#: framing -> (frame's bottom edge, top edge) as fractions of the subject's height, as a
#: cinematographer cuts: close-up head and shoulders (from the upper chest), medium from the
#: waist up, extreme close-up the face; wide framings show the whole body in its place
BODY_CUTS = {"close_up": (0.66, 1.07), "medium": (0.45, 1.1), "extreme_close_up": (0.84, 1.03)}
REFERENCE_VIEW = 8.5  # the wide framing: background layers are drawn to look right here
EASE_SECONDS = 1.2  # how long a continued pose takes to settle into the new framing
#: a continued shot that frames someone else or differently reaches its own subject this fast (4 frames at 12 fps)
REFRAME_SECONDS = 0.33


@dataclass
class CameraPose:
    cx: float
    cy: float
    view_h: float
    zoom: float = 1.0
    roll: float = 0.0  # degrees

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return self.cx, self.cy, self.view_h, self.zoom, self.roll


def _smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _wobble(t: float, seed: int, k: int) -> float:
    """Smooth deterministic noise in [-1, 1] (sum of incommensurate sines)."""
    a = (seed % 997) * 0.013 + k * 1.7
    return (math.sin(t * 1.9 + a) + 0.6 * math.sin(t * 3.7 + 2 * a) + 0.3 * math.sin(t * 7.3 + 3 * a)) / 1.9


def framed(framing: str, subject_x: float, height: float, base_y: float = 0.0) -> CameraPose:
    """The camera on a subject ``height`` metres tall standing (or sitting) at ``base_y``.

    The cut is on the body, so it holds for a child or a tall adult and in every
    aspect ratio (the frame's height is fixed by the cut; its width follows).
    """
    if framing in BODY_CUTS:
        bottom, top = BODY_CUTS[framing]
        return CameraPose(subject_x, base_y + height * (bottom + top) / 2, height * (top - bottom))
    view_h = VIEW_HEIGHT[framing]
    return CameraPose(subject_x, view_h * 0.3, view_h)


def moved(base: CameraPose, move: str, t: float, duration: float, aspect: float, seed: int) -> CameraPose:
    s = _smooth(t / max(duration, 1e-6))
    view_w = base.view_h * aspect
    pose = CameraPose(*base.as_tuple())
    if move == "pan_right":
        pose.cx += view_w * (-0.22 + 0.44 * s)
    elif move == "pan_left":
        pose.cx += view_w * (0.22 - 0.44 * s)
    elif move == "tilt_up":
        pose.cy += base.view_h * (-0.2 + 0.4 * s)
    elif move == "tilt_down":
        pose.cy += base.view_h * (0.2 - 0.4 * s)
    elif move == "zoom_in":
        pose.zoom = 1.0 + 0.5 * s
    elif move == "zoom_out":
        pose.zoom = 1.5 - 0.5 * s
    elif move == "dolly_in":
        pose.view_h = base.view_h / (1.0 + 0.6 * s)
    elif move == "dolly_out":
        pose.view_h = base.view_h / (1.6 - 0.6 * s)
    elif move == "handheld":
        pose.cx += 0.018 * base.view_h * _wobble(t, seed, 0)
        pose.cy += 0.014 * base.view_h * _wobble(t, seed, 1)
        pose.roll = 0.7 * _wobble(t, seed, 2)
    return pose


def offset_of(carried: CameraPose, target: CameraPose) -> tuple[float, ...]:
    """How far the carried pose is from the shot's own first one: across, up and turned as differences,
    the view's size and zoom as log ratios (a pull from a close-up to a wide shot widens the picture by
    the same factor every frame, instead of most of the way in the first one)."""
    return (
        carried.cx - target.cx,
        carried.cy - target.cy,
        math.log(carried.view_h / target.view_h),
        math.log(carried.zoom / target.zoom),
        carried.roll - target.roll,
    )


def settled(target: CameraPose, offset: tuple[float, ...], t: float, seconds: float = EASE_SECONDS) -> CameraPose:
    """``target`` plus what is left at time ``t`` of ``offset`` (:func:`offset_of`), which dies away over
    ``seconds``, starting and ending at rest.

    The view's size goes by equal factors; where it changes, the centre goes with it (in proportion to how
    much of the size change is done), so the frame's edges move together and what both framings show
    stays in the picture on the way (a centre moving on its own clock would leave a close-up's subject).
    """
    left = 1 - _smooth(t / seconds)
    dx, dy, view, zoom, roll = offset
    view_h = target.view_h * math.exp(view * left)
    carried = target.view_h * math.exp(view)
    along = (view_h - target.view_h) / (carried - target.view_h) if abs(view) > 1e-9 else left
    return CameraPose(
        target.cx + dx * along,
        target.cy + dy * along,
        view_h,
        target.zoom * math.exp(zoom * left),
        target.roll + roll * left,
    )
