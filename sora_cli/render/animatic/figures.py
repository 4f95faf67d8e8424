"""Characters and props as the animatic draws them.

A character's :class:`Look` is derived once per film from its resolved
identity (colour, description, likeness image) and never changes, so the same
person is recognisable in every shot: coat in the identity colour, build and
headwear from the description, the face from the likeness image when there is
one.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import skia

from sora_cli.plan.colors import BODY_FEATURES, COLOR_WORDS, RGB, bound_colors, words
from sora_cli.plan.model import ResolvedCharacter
from sora_cli.plan.resolve import identity_color
from sora_cli.render.animatic.paint import hex_rgb, mix, shade

SKIN_TONES: tuple[RGB, ...] = ((241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (255, 219, 172))


@dataclass(frozen=True)
class Look:
    name: str
    coat: RGB
    trousers: RGB
    skin: RGB
    hair: RGB
    height: float  # metres
    build: float  # width factor
    hood: bool
    hat: bool
    beard: bool
    bun: bool
    goggles: bool
    face: skia.Image | None  # likeness, circle-cropped
    fur: RGB = (236, 232, 222)
    boots: RGB = (30, 30, 34)
    wear: frozenset[str] = frozenset()  # garments and features from WARDROBE


def _likeness(path: str) -> skia.Image | None:
    """Centre-square crop of a likeness image, as a skia image (None if unreadable)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGBA")
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side)).resize((128, 128), Image.Resampling.LANCZOS)
            return _native(np.asarray(img))
    except (OSError, ValueError):
        return None


def lit_look(look: Look, lit: Callable[[RGB], RGB]) -> Look:
    """The same person under a light: every colour (and the likeness) multiplied by it."""
    face = look.face
    if face is not None:
        pixels = face.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType).astype(np.uint16)
        white = np.array(lit((255, 255, 255)), np.uint16)
        pixels[..., :3] = pixels[..., :3] * white // 255
        face = _native(pixels.astype(np.uint8))
    return replace(
        look, coat=lit(look.coat), trousers=lit(look.trousers), skin=lit(look.skin), hair=lit(look.hair),
        fur=lit(look.fur), boots=lit(look.boots), face=face,
    )  # fmt: skip


#: words in a description -> the garment or feature drawn
WARDROBE: dict[str, str] = {
    "suit": "suit", "tuxedo": "suit", "blazer": "suit", "robe": "robe", "gown": "robe", "cassock": "robe",
    "kimono": "robe", "apron": "apron", "raincoat": "raincoat", "mac": "raincoat", "slicker": "raincoat",
    "oilskin": "raincoat", "oilskins": "raincoat", "parka": "parka", "anorak": "parka", "helmet": "helmet",
    "glasses": "glasses", "spectacles": "glasses", "specs": "glasses", "sunglasses": "sunglasses",
    "shades": "sunglasses", "beard": "beard", "bearded": "beard", "bun": "bun", "scarf": "scarf",
    "tie": "tie", "necktie": "tie", "dress": "dress", "skirt": "dress", "hat": "hat", "cap": "hat",
    "beanie": "hat", "hood": "hood", "hooded": "hood", "goggles": "goggles", "backpack": "backpack",
    "rucksack": "backpack", "moustache": "moustache", "mustache": "moustache",
}  # fmt: skip
#: two-word garments that are not what their head word draws alone ("space suit" is no business suit)
COMPOUND_WEAR: dict[tuple[str, str], frozenset[str]] = {
    ("space", "suit"): frozenset({"helmet"}), ("diving", "suit"): frozenset({"helmet"}),
    ("hazmat", "suit"): frozenset({"helmet"}), ("snow", "suit"): frozenset({"parka"}),
    ("ski", "suit"): frozenset({"parka"}), **{(w, "suit"): frozenset() for w in (
        "track", "jump", "boiler", "swim", "bathing", "wet", "flight", "body", "cat", "sweat", "pant", "dry")},
    ("hard", "hat"): frozenset({"helmet"}), ("sun", "glasses"): frozenset({"sunglasses"}),
}  # fmt: skip
ONE_WORD_WEAR: dict[str, frozenset[str]] = {
    "spacesuit": frozenset({"helmet"}), "wetsuit": frozenset(), "tracksuit": frozenset(), "jumpsuit": frozenset(),
    "swimsuit": frozenset(), "snowsuit": frozenset({"parka"}), "overalls": frozenset({"apron"}),
}  # fmt: skip
NEGATIONS = {"no", "without", "not", "never", "nor"}
#: words that may stand between a negation and what it negates ("no beard or glasses", "without any hat")
_NEGATED_RUN = {"and", "or", "a", "an", "any", "nor", "the"}
LEG_WEAR = {"trousers", "pants", "jeans", "skirt", "shorts", "leggings", "slacks", "chinos"}


def wardrobe(said: list[str]) -> frozenset[str]:
    """The garments and features a description says, read as phrases.

    "no beard and no glasses" wears neither; "white space suit" is a helmet and
    a white coat, not a business suit; "red hair" is hair, not a garment.
    """
    wear: set[str] = set()
    skip: set[int] = set()
    for i, (a, b) in enumerate(itertools.pairwise(said)):
        if (a, b) in COMPOUND_WEAR:
            if not _negated(said, i):
                wear |= COMPOUND_WEAR[(a, b)]
            skip |= {i, i + 1}
    for i, w in enumerate(said):
        if i in skip or _negated(said, i):
            continue
        if w in ONE_WORD_WEAR:
            wear |= ONE_WORD_WEAR[w]
        elif w in WARDROBE:
            wear.add(WARDROBE[w])
    return frozenset(wear)


def _negated(said: list[str], i: int) -> bool:
    """Whether a negation governs word ``i`` (reading back over "and", "or", articles and other garments)."""
    for w in reversed(said[:i]):
        if w in NEGATIONS:
            return True
        if w not in _NEGATED_RUN and w not in WARDROBE and w not in COLOR_WORDS:
            return False
    return False


#: garments whose usual colour replaces a hue made up from the id (a suit with no colour is charcoal)
USUAL_COLOR: dict[str, RGB] = {"suit": (46, 50, 62), "raincoat": (246, 200, 40), "robe": (120, 40, 50)}


def look_for(character: ResolvedCharacter) -> Look:
    said = words(character.description)
    h = int.from_bytes(character.id.encode()[:4].ljust(4, b"\0"), "big")
    height = 1.75
    if {"tall", "lanky", "giant"} & set(said):
        height = 1.95
    if {"short", "small", "child", "kid", "little", "boy", "girl"} & set(said):
        height = 1.35
    build = 1.0
    if {"broad", "big", "heavy", "stocky", "burly"} & set(said):
        build = 1.25
    if {"thin", "slim", "slender", "skinny"} & set(said):
        build = 0.85
    bound = bound_colors(character.description)
    outfit = [c for noun, c in bound if noun not in BODY_FEATURES and noun not in LEG_WEAR]
    coat = hex_rgb(character.color)
    wear = wardrobe(said)
    if wear & {"parka"}:
        wear |= {"hood"}
    made_up = character.color == identity_color(character.id)  # no colour given or named
    usual = next((USUAL_COLOR[g] for g in ("suit", "raincoat", "robe") if g in wear), None)
    if usual and made_up:
        coat = usual
    legs = next((c for noun, c in bound if noun in LEG_WEAR), None)
    trousers = (
        shade(legs, 0.85) if legs
        else shade(outfit[1], 0.7) if len(outfit) > 1
        else shade(coat, 0.9) if "suit" in wear
        else (52, 56, 66)
    )  # fmt: skip
    hair = (60, 40, 28)
    for noun, color in bound:
        if noun in ("hair", "beard", "haired", "bearded"):
            hair = color
    if {"frosted", "grey-haired", "old", "elderly"} & set(said):
        hair = (200, 200, 205)
    face = next((img for img in map(_likeness, character.reference) if img is not None), None)
    return Look(
        name=character.id,
        coat=coat,
        trousers=trousers,
        skin=SKIN_TONES[h % len(SKIN_TONES)],
        hair=hair,
        height=height,
        build=build,
        hood="hood" in wear,
        hat="hat" in wear,
        beard="beard" in wear,
        bun="bun" in wear,
        goggles="goggles" in wear,
        face=face,
        wear=wear,
    )


@functools.lru_cache(maxsize=1024)
def _paint(color: RGB, alpha: int = 255, stroke: float = 0.0) -> skia.Paint:
    """A figure's paint, made once per colour and stroke (a frame draws dozens; none is changed after)."""
    paint = skia.Paint(AntiAlias=True, Color=skia.Color(*color, alpha))
    if stroke:
        paint.setStyle(skia.Paint.kStroke_Style)
        paint.setStrokeWidth(stroke)
        paint.setStrokeCap(skia.Paint.kRound_Cap)
    return paint


TURN_STEP = 2.0  # degrees: a likeness is turned in steps this size, the rest of its turn left out


def _draw_face(canvas: skia.Canvas, face: skia.Image, cy: float, r: float) -> None:
    """The likeness in the circle of radius ``r`` at ``(0, cy)``, antialiased at its edge.

    Skia filters an image quickly (its 8-bit legacy path) only from a
    premultiplied BGRA image onto a BGRA surface under a transform that scales
    and moves without turning; onto the RGBA frame, or turned, it goes through
    the float pipeline, 8x slower per pixel, and the likeness was the dearest
    thing in a close-up. So it is drawn on a small BGRA surface covering the
    circle on screen (offset by whole pixels), which then goes onto the frame
    unfiltered; and a turned head (the sway of a standing torso, a handheld
    camera's roll, a shout thrown back, a fall) shows the likeness turned by
    the nearest multiple of ``TURN_STEP`` degrees (turned once per angle,
    ``_turned``), centred and sized as before inside the outline as before:
    no one sees a face turn a degree short.
    """
    total = canvas.getTotalMatrix()
    ux, uy, vx, vy = total.getScaleX(), total.getSkewY(), total.getSkewX(), total.getScaleY()
    if total.hasPerspective() or ux * vy - uy * vx <= 0:  # never so in a figure; drawn as it is if it were
        canvas.save()
        circle = skia.Path()
        circle.addCircle(0, cy, r)
        canvas.clipPath(circle, doAntiAlias=True)
        canvas.drawImageRect(
            face, skia.Rect.MakeLTRB(-r, cy - r, r, cy + r), skia.SamplingOptions(skia.FilterMode.kLinear)
        )
        canvas.restore()
        return
    turn = TURN_STEP * round(math.degrees(math.atan2(uy, ux)) / TURN_STEP)
    if turn:
        face = _turned(face, turn)
    on_screen = total.mapRect(skia.Rect.MakeLTRB(-r, cy - r, r, cy + r))
    clip = canvas.getDeviceClipBounds()
    left, top = max(math.floor(on_screen.left()) - 1, clip.left()), max(math.floor(on_screen.top()) - 1, clip.top())
    right = min(math.ceil(on_screen.right()) + 1, clip.right())
    bottom = min(math.ceil(on_screen.bottom()) + 1, clip.bottom())
    if right <= left or bottom <= top:
        return
    patch = skia.Surface.MakeRaster(
        skia.ImageInfo.Make(right - left, bottom - top, skia.kBGRA_8888_ColorType, skia.kPremul_AlphaType)
    )
    inner = patch.getCanvas()
    inner.clear(skia.ColorTRANSPARENT)  # a new raster's memory is not promised to be clear
    inner.translate(-left, -top)
    inner.concat(total)
    circle = skia.Path()
    circle.addCircle(0, cy, r)
    inner.clipPath(circle, doAntiAlias=True)  # the outline exactly where it was, turned and squashed
    centre = total.mapXY(0, cy)
    upright = skia.Matrix.Translate(centre.x() - left, centre.y() - top)
    upright.preScale(math.hypot(ux, uy), math.hypot(vx, vy))
    inner.setMatrix(upright)  # the image itself under a transform skia filters fast
    inner.drawImageRect(face, skia.Rect.MakeLTRB(-r, -r, r, r), skia.SamplingOptions(skia.FilterMode.kLinear))
    canvas.save()
    canvas.resetMatrix()
    canvas.drawImage(patch.makeImageSnapshot(), left, top)
    canvas.restore()


@functools.lru_cache(maxsize=128)
def _turned(face: skia.Image, degrees: float) -> skia.Image:
    """``face`` turned by ``degrees`` about its centre, at twice its size so the second filtering adds little
    blur (the circle drawn from it lies inside the turned square whatever the angle)."""
    side = 2 * face.width()
    surface = skia.Surface.MakeRaster(
        skia.ImageInfo.Make(side, side, skia.kBGRA_8888_ColorType, skia.kPremul_AlphaType)
    )
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorTRANSPARENT)
    canvas.rotate(degrees, side / 2, side / 2)
    canvas.drawImageRect(face, skia.Rect.MakeWH(side, side), skia.SamplingOptions(skia.FilterMode.kLinear))
    return surface.makeImageSnapshot()


def _native(rgba: np.ndarray) -> skia.Image:
    """An RGBA array (plain alpha) as a premultiplied BGRA skia image, the kind skia filters fastest."""
    pixels = rgba.astype(np.uint32)
    premul = np.empty(rgba.shape, np.uint8)
    premul[..., :3] = (pixels[..., [2, 1, 0]] * pixels[..., 3:] + 127) // 255
    premul[..., 3] = rgba[..., 3]
    return skia.Image.fromarray(premul, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)


@dataclass(frozen=True)
class Mouth:
    """What a face is saying this frame: a lip-sync shape (``plan/visemes.py``) and how it is said."""

    shape: str = "X"
    delivery: str = "normal"
    talking: bool = False  # inside one of the character's lines


#: shape -> (width, opening) of the mouth, as fractions of the head's radius
MOUTH_SHAPES: dict[str, tuple[float, float]] = {
    "X": (0.40, 0.0), "A": (0.44, 0.0), "B": (0.44, 0.10), "C": (0.42, 0.24), "D": (0.46, 0.38),
    "E": (0.36, 0.26), "F": (0.26, 0.22), "G": (0.42, 0.06), "H": (0.40, 0.20),
}  # fmt: skip
#: delivery -> (opening factor, width factor, torso lean in radians, arms spread 0..1, head tilt in degrees)
DELIVERY_POSE: dict[str, tuple[float, float, float, float, float]] = {
    "normal": (1.0, 1.0, 0.0, 0.0, 0.0),
    "whisper": (0.6, 0.85, 0.16, 0.0, 6.0),  # leaning in, head bowed, mouth barely open
    "shout": (1.35, 1.15, -0.1, 1.0, -10.0),  # leaning back, arms out, head thrown back
}
MOUTH_INSIDE: RGB = (74, 18, 26)
BREATH_HZ = 0.27  # breaths per second at rest
SIT_DROP = 0.21  # how far sitting lowers the head, as a fraction of the height
SADDLE = 0.86  # metres: a bike's saddle, where a rider's hips go


def draw_mouth(canvas: skia.Canvas, mouth: Mouth, x: float, y: float, head_r: float, skin: RGB) -> None:
    """One Rhubarb shape centred at ``(x, y)``: lips, and the dark inside when open."""
    width, opening = MOUTH_SHAPES.get(mouth.shape, MOUTH_SHAPES["X"])
    k_open, k_wide, *_ = DELIVERY_POSE.get(mouth.delivery, DELIVERY_POSE["normal"])
    w, h = width * k_wide * head_r, opening * k_open * head_r
    lip = mix(skin, (150, 52, 56), 0.65)
    if h <= 0:  # closed: pressed lips (A) or a relaxed line (X)
        thick = head_r * (0.1 if mouth.shape == "A" else 0.06)
        canvas.drawLine(x - w / 2, y, x + w / 2, y, _paint(lip, stroke=thick))
        return
    rect = skia.Rect.MakeLTRB(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    canvas.drawOval(rect, _paint(MOUTH_INSIDE))
    if mouth.shape in ("D", "G"):  # upper teeth
        teeth = skia.Rect.MakeLTRB(x - w * 0.32, y - h / 2, x + w * 0.32, y - h / 2 + max(h * 0.18, head_r * 0.04))
        canvas.drawRect(teeth, _paint((240, 238, 230)))
    if mouth.shape == "H":  # tongue up behind the teeth
        canvas.drawOval(skia.Rect.MakeLTRB(x - w * 0.22, y - h / 2, x + w * 0.22, y), _paint((196, 92, 100)))
    stroke = head_r * (0.09 if mouth.shape in ("E", "F") else 0.06)
    outline = skia.Rect.MakeLTRB(
        rect.left() - stroke / 2, rect.top() - stroke / 2, rect.right() + stroke / 2, rect.bottom() + stroke / 2
    )
    canvas.drawOval(outline, _paint(lip, stroke=stroke))  # lips around the opening, not over it


@dataclass
class Pose:
    """Where a figure is and what its body is doing (all in metres / radians)."""

    x: float
    y: float = 0.0
    facing: float = 1.0  # -1 left .. 1 right (turns pass through 0)
    stride: float = 0.0  # walk-cycle phase (radians)
    swing: float = 0.0  # stride amplitude 0..1
    lean: float = 0.0  # torso lean (radians, forward positive)
    tilt: float = 0.0  # whole-body rotation about the feet (falls)
    sit: float = 0.0  # 0 standing .. 1 seated
    wave: float = 0.0  # 0 .. 1 arm raised
    wave_phase: float = 0.0
    drink: float = 0.0  # 0 .. 1 the front hand raised to the mouth
    ride: float = 0.0  # 0 .. 1 on a saddle (bike): raised and seated
    ground: bool = False  # sitting on the ground itself (legs out in front), not on a seat


Held = Callable[[skia.Canvas, float, float, float], None]  # (canvas, hand x, hand y, tilt degrees)


def draw_figure(canvas: skia.Canvas, look: Look, pose: Pose, mouth: Mouth, t: float, held: Held | None = None) -> None:
    """Draw a figure in world metres (y up is drawn as -y); the caller sets the camera transform.

    The figure breathes (the chest rises and falls), and the way a line is
    delivered shows in the pose: a whisper leans in with the head bowed, a shout
    leans back with the arms out and the head thrown back. ``held`` draws what
    the front hand holds (a cup raised to the mouth as ``drink`` rises).
    """
    h, bw = look.height, look.build
    head_r = 0.115 * h / 1.75
    _, _, lean_extra, spread, head_tilt = DELIVERY_POSE.get(mouth.delivery, DELIVERY_POSE["normal"])
    if not mouth.talking:
        lean_extra, spread, head_tilt = 0.0, 0.0, 0.0
    breath = 0.008 * h / 1.75 * math.sin(2 * math.pi * BREATH_HZ * t)
    sit = max(pose.sit, 0.7 * pose.ride)
    lift = max(0.0, SADDLE - 0.5 * h * (1 - 2 * SIT_DROP * sit)) * pose.ride  # up onto a saddle
    # on the ground: the whole figure sinks until the hips rest on it
    sink = (0.5 * h * (1 - 2 * SIT_DROP * sit) - 0.06) * sit if pose.ground else 0.0
    canvas.save()
    canvas.translate(pose.x, -pose.y - lift + sink)
    canvas.rotate(math.degrees(pose.tilt) * (1 if pose.facing >= 0 else -1))
    canvas.scale(max(0.35, abs(pose.facing)), 1)  # a turn squashes the figure through side-on
    f = 1.0 if pose.facing >= 0 else -1.0
    hip_y = 0.5 * h * (1 - 2 * SIT_DROP * sit)
    leg = 0.5 * h
    limb = _paint(look.trousers, stroke=0.12 * bw)
    for side in (-1, 1):
        a = side * 0.45 * pose.swing * math.sin(pose.stride)
        if sit > 0.01 and pose.ground:  # legs out along the ground, knees a little raised
            knee = (f * leg * 0.5 * sit, -(hip_y + 0.08 * sit))
            foot = (f * leg * 0.95 * sit, -(hip_y - 0.04 * sit))
            canvas.drawLine(side * 0.05, -hip_y, *knee, limb)
            canvas.drawLine(*knee, *foot, limb)
        elif sit > 0.01:
            knee = (f * 0.45 * h * 0.5 * sit + math.sin(a) * leg * 0.5, -(hip_y - 0.02))
            foot = (knee[0] + math.sin(a) * 0.05, -max(0.0, hip_y - leg * 0.55))
            canvas.drawLine(side * 0.05, -hip_y, *knee, limb)
            canvas.drawLine(*knee, *foot, limb)
        else:
            fx, fy = math.sin(a) * leg, -(hip_y - math.cos(a) * leg)
            canvas.drawLine(side * 0.05, -hip_y, fx, min(fy, 0.0), limb)
            canvas.drawRoundRect(
                skia.Rect.MakeXYWH(fx - 0.05 + f * 0.04, min(fy, 0.0) - 0.05, 0.16, 0.07),
                0.03,
                0.03,
                _paint(look.boots),
            )
    canvas.save()
    canvas.translate(0, -hip_y)
    canvas.rotate(math.degrees(pose.lean + lean_extra) * f)
    torso_h = 0.34 * h + breath
    coat = _paint(look.coat)
    path = skia.Path()
    w = 0.2 * bw
    path.moveTo(-w * 0.85, 0.06)
    path.lineTo(w * 0.85, 0.06)
    path.lineTo(w, -torso_h)
    path.quadTo(0, -torso_h - 0.06, -w, -torso_h)
    path.close()
    if "backpack" in look.wear:  # on the back: behind the torso
        canvas.drawRoundRect(skia.Rect.MakeLTRB(-f * w * 1.45, -torso_h * 0.95, -f * w * 0.6, -torso_h * 0.3), 0.05, 0.05, _paint(shade(look.coat, 0.6)))  # fmt: skip
    canvas.drawPath(path, coat)
    _garments(canvas, look, w, torso_h, h, f)
    canvas.drawLine(-w * 0.8, -0.02, w * 0.8, -0.02, _paint(shade(look.coat, 0.6), stroke=0.04))  # belt line
    arm = _paint(shade(look.coat, 0.85), stroke=0.1 * bw)
    shoulder = -torso_h + 0.05
    for side in (-1, 1):
        if side == 1 and pose.wave > 0.01:
            ang = math.radians(150 + 25 * math.sin(pose.wave_phase)) * pose.wave + (1 - pose.wave) * 0.2
        else:
            ang = side * 0.5 * pose.swing * math.sin(pose.stride + math.pi) + (0.12 + 0.9 * spread) * side
        hx, hy = side * w * 0.9 + math.sin(ang) * 0.36 * h / 1.75 * f, shoulder + math.cos(ang) * 0.36
        if side == 1 and (held or pose.drink > 0.01):  # the front hand, holding something
            mouth_at = (f * head_r * 1.1, -torso_h - 0.05 - head_r * 0.45)
            rest_at = (f * w * 1.3, shoulder + 0.3)
            u = pose.drink
            hx, hy = rest_at[0] + (mouth_at[0] - rest_at[0]) * u, rest_at[1] + (mouth_at[1] - rest_at[1]) * u
            elbow = (f * w * 1.2, shoulder + 0.22 - 0.08 * u)
            canvas.drawLine(side * w * 0.9, shoulder, *elbow, arm)
            canvas.drawLine(*elbow, hx, hy, arm)
            if held:
                held(canvas, hx + f * 0.03, hy, -f * 35 * u)
        else:
            canvas.drawLine(side * w * 0.9, shoulder, hx, hy, arm)
        canvas.drawCircle(hx, hy, 0.045, _paint(look.skin))
    head_y = -torso_h - head_r - 0.05
    canvas.drawLine(0, -torso_h, 0, head_y + head_r, _paint(look.skin, stroke=0.07))
    if mouth.talking and mouth.shape == "D":  # emphasis: the widest vowels come with a nod
        head_tilt += 4.0
    canvas.save()
    canvas.rotate(head_tilt * f, 0, head_y + head_r)  # about the neck
    if look.hood:
        canvas.drawCircle(0, head_y, head_r * 1.45, _paint(look.coat))
        canvas.drawCircle(0, head_y, head_r * 1.22, _paint(look.fur))  # fur rim
    if mouth.talking:  # who is speaking, at a glance (steady: the mouth carries the timing)
        canvas.drawCircle(0, head_y, head_r * 1.65, _paint(look.coat, 170, stroke=0.035))
    if look.face is not None:
        _draw_face(canvas, look.face, head_y, head_r * 1.08)
        if mouth.talking:  # the likeness's own mouth at rest; shapes drawn over it while speaking
            draw_mouth(canvas, mouth, 0.0, head_y + head_r * 0.5, head_r, look.skin)
    else:
        canvas.drawCircle(0, head_y, head_r, _paint(look.skin))
        if not look.hood:
            hair = skia.Path()
            hair.addArc(
                skia.Rect.MakeLTRB(-head_r * 1.05, head_y - head_r * 1.1, head_r * 1.05, head_y + head_r * 0.9),
                180,
                180,
            )
            canvas.drawPath(hair, _paint(look.hair))
        eye_x = f * head_r * 0.35
        for dx in (-0.33, 0.33):
            canvas.drawCircle(eye_x + dx * head_r, head_y - head_r * 0.1, head_r * 0.11, _paint((30, 30, 36)))
        if look.goggles:
            canvas.drawRoundRect(
                skia.Rect.MakeLTRB(eye_x - head_r * 0.6, head_y - head_r * 0.32, eye_x + head_r * 0.6, head_y + head_r * 0.1),
                head_r * 0.15, head_r * 0.15, _paint((70, 90, 110), stroke=head_r * 0.12),
            )  # fmt: skip
        if look.beard:
            beard = skia.Path()
            beard.addArc(skia.Rect.MakeLTRB(-head_r, head_y - head_r * 0.6, head_r, head_y + head_r * 1.05), 0, 180)
            canvas.drawPath(beard, _paint(look.hair))
        draw_mouth(canvas, mouth, eye_x, head_y + head_r * 0.5, head_r, look.skin)
    if look.face is None:
        _eyewear(canvas, look, f * head_r * 0.35, head_y, head_r)
    if look.bun:
        canvas.drawCircle(0, head_y - head_r * 1.05, head_r * 0.42, _paint(look.hair))
    if "helmet" in look.wear:  # a hard dome with a brim, over the hair
        dome = skia.Path()
        dome.addArc(
            skia.Rect.MakeLTRB(-head_r * 1.15, head_y - head_r * 1.25, head_r * 1.15, head_y + head_r * 0.5), 180, 180
        )
        canvas.drawPath(dome, _paint(shade(look.coat, 0.75) if "raincoat" not in look.wear else (250, 250, 246)))
        canvas.drawLine(
            -head_r * 1.3,
            head_y - head_r * 0.38,
            head_r * 1.3,
            head_y - head_r * 0.38,
            _paint(shade(look.coat, 0.5), stroke=head_r * 0.14),
        )
    if look.hat:
        canvas.drawRoundRect(
            skia.Rect.MakeLTRB(-head_r * 1.05, head_y - head_r * 1.15, head_r * 1.05, head_y - head_r * 0.45),
            0.04,
            0.04,
            _paint(shade(look.coat, 0.5) if look.coat != (35, 35, 40) else (20, 20, 22)),
        )
    canvas.restore()
    canvas.restore()
    canvas.restore()


def _garments(canvas: skia.Canvas, look: Look, w: float, torso_h: float, h: float, f: float) -> None:
    """What is worn over the torso, in torso coordinates (hip at 0, up is -y)."""
    wear = look.wear
    hem = {"robe": 0.46 * h, "raincoat": 0.3 * h, "dress": 0.24 * h}
    length = max((hem[g] for g in hem if g in wear), default=0.0)
    if length:  # a long garment flares from the waist toward its hem
        skirt = skia.Path()
        skirt.moveTo(-w * 0.85, -0.04)
        skirt.lineTo(w * 0.85, -0.04)
        skirt.lineTo(w * 1.25, length)
        skirt.lineTo(-w * 1.25, length)
        skirt.close()
        canvas.drawPath(skirt, _paint(look.coat))
        if "raincoat" in wear:  # a shine down the front and a row of buttons
            canvas.drawLine(w * 0.45, -torso_h * 0.9, w * 0.7, length * 0.9, _paint((255, 255, 255), 90, stroke=0.03))
            for k in range(4):
                canvas.drawCircle(
                    0, -torso_h * 0.8 + k * (torso_h * 0.8 + length * 0.7) / 4, 0.018, _paint(shade(look.coat, 0.5))
                )
        if "robe" in wear:  # a sash
            canvas.drawLine(-w * 0.9, -0.06, w * 0.9, -0.06, _paint(shade(look.coat, 0.55), stroke=0.06))
    if "suit" in wear or "tie" in wear:  # shirt, tie, lapels
        shirt = skia.Path()
        shirt.moveTo(-w * 0.38, -torso_h)
        shirt.lineTo(w * 0.38, -torso_h)
        shirt.lineTo(0, -torso_h * 0.45)
        shirt.close()
        canvas.drawPath(shirt, _paint((245, 245, 242)))
        tie = skia.Path()
        tie.moveTo(-0.025, -torso_h + 0.01)
        tie.lineTo(0.025, -torso_h + 0.01)
        tie.lineTo(0.035, -torso_h * 0.5)
        tie.lineTo(0, -torso_h * 0.42)
        tie.lineTo(-0.035, -torso_h * 0.5)
        tie.close()
        canvas.drawPath(tie, _paint((150, 30, 40) if look.coat != (150, 30, 40) else (30, 30, 60)))
        lapel = _paint(shade(look.coat, 0.7), stroke=0.025)
        canvas.drawLine(-w * 0.38, -torso_h, 0, -torso_h * 0.42, lapel)
        canvas.drawLine(w * 0.38, -torso_h, 0, -torso_h * 0.42, lapel)
    if "apron" in wear:  # bib and skirt of an apron, with a neck strap
        canvas.drawRoundRect(
            skia.Rect.MakeLTRB(-w * 0.6, -torso_h * 0.8, w * 0.6, 0.22 * h), 0.03, 0.03, _paint((246, 244, 236))
        )
        canvas.drawLine(-w * 0.5, -torso_h * 0.8, -w * 0.3, -torso_h, _paint((246, 244, 236), stroke=0.025))
        canvas.drawLine(w * 0.5, -torso_h * 0.8, w * 0.3, -torso_h, _paint((246, 244, 236), stroke=0.025))
        canvas.drawRect(
            skia.Rect.MakeLTRB(-w * 0.35, -torso_h * 0.2, w * 0.35, 0.02), _paint((226, 222, 212))
        )  # pocket
    if "scarf" in wear:  # round the neck, one end hanging
        scarf = _paint(shade(look.coat, 0.6) if "suit" not in wear else (170, 40, 40))
        canvas.drawRoundRect(skia.Rect.MakeLTRB(-w * 0.6, -torso_h - 0.05, w * 0.6, -torso_h + 0.05), 0.04, 0.04, scarf)
        canvas.drawRoundRect(
            skia.Rect.MakeLTRB(f * w * 0.15, -torso_h, f * w * 0.15 + 0.08 * f, -torso_h * 0.45), 0.02, 0.02, scarf
        )


def _eyewear(canvas: skia.Canvas, look: Look, eye_x: float, head_y: float, head_r: float) -> None:
    """Glasses (rims), sunglasses (dark lenses) and a moustache, on a drawn face."""
    wear = look.wear
    if "glasses" in wear or "sunglasses" in wear:
        dark = "sunglasses" in wear
        for dx in (-0.33, 0.33):
            cx, cy, r = eye_x + dx * head_r, head_y - head_r * 0.1, head_r * 0.24
            if dark:
                canvas.drawCircle(cx, cy, r, _paint((20, 20, 26)))
            canvas.drawCircle(cx, cy, r, _paint((30, 30, 36), stroke=head_r * 0.07))
        canvas.drawLine(
            eye_x - head_r * 0.1,
            head_y - head_r * 0.12,
            eye_x + head_r * 0.1,
            head_y - head_r * 0.12,
            _paint((30, 30, 36), stroke=head_r * 0.06),
        )
    if "moustache" in wear:
        canvas.drawRoundRect(
            skia.Rect.MakeLTRB(
                eye_x - head_r * 0.4, head_y + head_r * 0.22, eye_x + head_r * 0.4, head_y + head_r * 0.42
            ),
            head_r * 0.06,
            head_r * 0.06,
            _paint(look.hair),
        )
