"""Colour words -> RGB: the world vocabulary for identity colours, props and lighting.

The animatic reads colours out of plain descriptions ("red parka", "neon pink
sign light") so what the storyboard says is what the previz shows.
"""

from __future__ import annotations

import re

RGB = tuple[int, int, int]

COLOR_WORDS: dict[str, RGB] = {
    "red": (211, 59, 47),
    "crimson": (170, 20, 50),
    "scarlet": (230, 40, 30),
    "orange": (240, 130, 40),
    "amber": (255, 170, 60),
    "yellow": (242, 194, 0),
    "gold": (212, 170, 40),
    "golden": (230, 180, 70),
    "green": (60, 150, 80),
    "olive": (110, 120, 50),
    "teal": (30, 140, 140),
    "cyan": (40, 190, 210),
    "blue": (63, 111, 181),
    "navy": (30, 40, 90),
    "purple": (120, 60, 160),
    "violet": (140, 90, 220),
    "pink": (240, 110, 170),
    "magenta": (220, 40, 160),
    "white": (235, 235, 235),
    "black": (35, 35, 40),
    "grey": (128, 132, 138),
    "gray": (128, 132, 138),
    "silver": (180, 185, 190),
    "brown": (120, 80, 50),
    "beige": (215, 195, 160),
    "tan": (200, 165, 120),
}

#: lighting words -> tint colour (multiplied over the scene)
LIGHT_WORDS: dict[str, RGB] = {
    **{k: v for k, v in COLOR_WORDS.items() if k not in ("black", "white", "grey", "gray")},
    "blue-hour": (110, 140, 255),
    "warm": (255, 196, 140),
    "cold": (160, 195, 255),
    "cool": (170, 200, 255),
    "sodium": (255, 165, 70),
    "candle": (255, 170, 90),
    "candlelight": (255, 170, 90),
    "moonlight": (140, 160, 255),
    "moonlit": (140, 160, 255),
    "fluorescent": (220, 255, 230),
    "sunset": (255, 150, 90),
    "firelight": (255, 140, 60),
}

_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def first_color(text: str) -> RGB | None:
    """The first colour named in ``text`` ("red parka with fur hood" -> red)."""
    for word in words(text):
        if word in COLOR_WORDS:
            return COLOR_WORDS[word]
    return None


#: words a colour never reaches past: it belongs to a noun before them ("red hair | in a blue suit")
_CLAUSE = {"in", "with", "and", "or", "wearing", "of", "on", "who", "under", "over", "plus", "but", "has", "wears",
           "carrying", "holding", "without", "no", "a", "an", "the"}  # fmt: skip
#: features of the body, not of the clothes: a colour said for them is not the outfit's
BODY_FEATURES = {"hair", "beard", "moustache", "mustache", "eyes", "eye", "skin", "lips", "eyebrows", "fur",
                 "hat-band", "haired", "bearded", "eyed", "skinned"}  # fmt: skip


def bound_colors(text: str) -> list[tuple[str, RGB]]:
    """(noun, colour) for every colour said, bound to the noun it modifies.

    A colour binds to the last word of its noun phrase, the word before the
    next clause word ("red hair in a blue suit" -> hair red, suit blue; "grey
    beard, brown parka" -> beard grey, parka brown); "red-haired" binds red to
    hair; a colour with no noun after it ("a man in red") binds to "" (the outfit).
    """
    out: list[tuple[str, RGB]] = []
    for part in re.split(r"[,;:.()/]", text):  # a comma ends a phrase too ("grey parka, frosted beard")
        out += _bound_in(words(part))
    return out


def _bound_in(said: list[str]) -> list[tuple[str, RGB]]:
    out: list[tuple[str, RGB]] = []
    for i, w in enumerate(said):
        first, _, rest = w.partition("-")
        if rest and first in COLOR_WORDS:  # "red-haired", "blue-eyed"
            out.append((rest, COLOR_WORDS[first]))
            continue
        if w not in COLOR_WORDS:
            continue
        noun = ""
        for nxt in said[i + 1 :]:
            if nxt in _CLAUSE:
                break
            if nxt not in COLOR_WORDS:
                noun = nxt
        out.append((noun, COLOR_WORDS[w]))
    return out


def outfit_color(text: str) -> RGB | None:
    """The first colour said for the clothes, not for the hair, beard or eyes ("red hair in a blue suit" -> blue)."""
    return next((c for noun, c in bound_colors(text) if noun not in BODY_FEATURES), None)


def light_tint(text: str) -> tuple[RGB, float, bool]:
    """Tint, strength and neon-ness of a lighting description ("neon pink sign light")."""
    found = [LIGHT_WORDS[w] for w in words(text) if w in LIGHT_WORDS]
    neon = "neon" in words(text)
    if not found:
        return (255, 255, 255), 0.0, False
    r = sum(c[0] for c in found) // len(found)
    g = sum(c[1] for c in found) // len(found)
    b = sum(c[2] for c in found) // len(found)
    strength = 0.45 if neon else 0.32
    if "low" in words(text) or "dim" in words(text):
        strength += 0.1
    return (r, g, b), strength, neon


def hex_rgb(color: str) -> RGB:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def shade(color: RGB, factor: float) -> RGB:
    return tuple(max(0, min(255, round(c * factor))) for c in color)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]
