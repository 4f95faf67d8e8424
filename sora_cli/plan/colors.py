"""Colour words -> RGB: the world vocabulary for identity colours and props.

The plan reads a character's identity colour out of its description ("red
parka"); the animatic draws props and outfits in the colours they are said in,
so what the storyboard says is what the previz shows. How the animatic mixes
and tints colours (and the tint a lighting description casts) is its own
business: :mod:`sora_cli.render.animatic.paint`.
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
