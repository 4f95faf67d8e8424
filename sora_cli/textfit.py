"""Text laid out by measured width inside the frame's title-safe area.

Every piece of text sora draws (cards, action captions, name tags, slate,
burned subtitles) goes through here, so that a 9:16 frame gets the same care
as a 16:9 one: sizes follow the frame's *shorter* side (a vertical frame is
as tall as a landscape one is wide, and text sized from the height would be
twice too big for its width), lines wrap by the pixel width the font really
measures (not by a character count), and the area text may use is the
profile's title-safe box narrowed by the platform's clear zones.

A title or end card shrinks until it fits, down to :func:`min_card_size`;
below that it does not fit, and :func:`fit_card` says so (validate turns that
into a located error before anything is drawn).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import skia

from sora_cli.fonts import BOLD, REGULAR, quiet_fontconfig

#: (left, top, right, bottom) of the safe area, as shares of the frame's width and height
Fractions = tuple[float, float, float, float]

#: title safe 90 % (SMPTE ST 2046-1 / EBU R 95) when no profile narrows it
DEFAULT_SAFE: Fractions = (0.05, 0.05, 0.95, 0.95)

CARD_SIZE = 1 / 14  # a card's first try, of the shorter side
CARD_MIN = 1 / 40  # a card's legible minimum, of the shorter side
MIN_PIXELS = 8.0  # and never smaller than this
LINE_GAP = 1.25  # baseline to baseline, in font sizes


def safe_fractions(title_safe: float, top: float = 0.0, bottom: float = 0.0, sides: float = 0.0) -> Fractions:
    """The title-safe box as shares of the frame, narrowed by a platform's clear zones."""
    edge = (1 - title_safe) / 2
    return (max(edge, sides), max(edge, top), 1 - max(edge, sides), 1 - max(edge, bottom))


def profile_fractions(profile: object) -> Fractions:
    """:func:`safe_fractions` of a delivery profile (:class:`sora_cli.profiles.Profile`)."""
    spec = profile.picture  # type: ignore[attr-defined]
    return safe_fractions(spec.title_safe, spec.safe_top, spec.safe_bottom, spec.safe_sides)


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @classmethod
    def of(cls, safe: Fractions, width: int, height: int) -> Box:
        return cls(safe[0] * width, safe[1] * height, safe[2] * width, safe[3] * height)


@functools.lru_cache(maxsize=4)
def typeface(bold: bool) -> skia.Typeface:
    quiet_fontconfig()  # the first typeface loads fontconfig: without its chatter on stderr
    return skia.Typeface.MakeFromFile(str(BOLD if bold else REGULAR))


def measurer(face: skia.Typeface, size: float) -> Callable[[str], float]:
    font = skia.Font(face, size)
    return font.measureText


def wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    """Greedy lines no wider than ``width`` as measured; a word wider than a line is broken by characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if measure(trial) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = ""
        for char in word:  # too long on its own: break it where it must
            if current and measure(current + char) > width:
                lines.append(current)
                current = ""
            current += char
    if current:
        lines.append(current)
    return lines


CARD_WORDS = ("end card", "title card", "title", "card", "super")


def card_text(action: str) -> str | None:
    """``End card: AURORA, light that follows you`` -> the text to show as a title card."""
    head, sep, rest = action.partition(":")
    if sep and head.strip().lower() in CARD_WORDS:
        return rest.strip() or None
    return None


def min_card_size(width: int, height: int) -> float:
    return max(MIN_PIXELS, min(width, height) * CARD_MIN)


@dataclass(frozen=True)
class CardFit:
    size: float
    lines: tuple[str, ...]


def fit_card(text: str, width: int, height: int, safe: Fractions = DEFAULT_SAFE) -> CardFit | None:
    """The largest size (from :data:`CARD_SIZE` of the shorter side down) at which ``text`` fits the safe
    area in full; None when it does not fit even at :func:`min_card_size`."""
    box = Box.of(safe, width, height)
    face = typeface(True)
    size = max(min(width, height) * CARD_SIZE, MIN_PIXELS)
    floor = min_card_size(width, height)
    while True:
        measure = measurer(face, size)
        lines = wrap(text, measure, box.width)
        words_whole = all(measure(w) <= box.width for w in text.split())
        if words_whole and size * (LINE_GAP * (len(lines) - 1) + 1.3) <= box.height:
            return CardFit(size, tuple(lines))
        if size <= floor:
            return None
        size = max(floor, size * 0.92)


def fit_block(
    text: str, face: skia.Typeface, size: float, floor: float, width: float, height: float, gap: float
) -> tuple[float, list[str]]:
    """Lines of ``text`` no wider than ``width``, shrunk from ``size`` towards ``floor`` until their block
    (``gap`` font sizes a line) is no taller than ``height``; at ``floor``, the lines that fit."""
    while True:
        lines = wrap(text, measurer(face, size), width)
        if size * gap * len(lines) <= height or size <= floor:
            break
        size = max(floor, size * 0.92)
    keep = max(1, int(height // (size * gap)))
    return size, lines[:keep]
