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
import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import skia

from sora_cli.fonts import BOLD, MONO, REGULAR, fallback_chain, quiet_fontconfig

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


def _breakable(word: str) -> bool:
    """A word of a script written without spaces (its lines may break between characters)."""
    return any(unicodedata.east_asian_width(c) in {"W", "F"} for c in word)


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
    size = max(min(width, height) * CARD_SIZE, MIN_PIXELS)
    floor = min_card_size(width, height)
    while True:
        measure = width_measure(size, True)
        lines = wrap(text, measure, box.width)
        # Chinese and Japanese run without spaces and may break between any two characters
        words_whole = all(measure(w) <= box.width for w in text.split() if not _breakable(w))
        if words_whole and size * (LINE_GAP * (len(lines) - 1) + 1.3) <= box.height:
            return CardFit(size, tuple(lines))
        if size <= floor:
            return None
        size = max(floor, size * 0.92)


def card_block_top(box: Box, fit: CardFit) -> float:
    """The top of a card's text block, centred in ``box``."""
    return (box.top + box.bottom) / 2 - fit.size * (LINE_GAP * (len(fit.lines) - 1) + 1.3) / 2


def place_card(
    text: str, width: int, height: int, safe: Fractions = DEFAULT_SAFE, clear_top: float = 0.0
) -> tuple[CardFit, Box] | None:
    """The card's fit and the box it is centred in, its text clear of everything above ``clear_top`` pixels
    (the slate); None when it cannot fit there even at the legible minimum."""
    box = Box.of(safe, width, height)
    fit = fit_card(text, width, height, safe)
    if fit is not None and card_block_top(box, fit) >= clear_top:
        return fit, box  # as it always was: centred in the safe area
    if clear_top <= box.top:
        return None
    below = Box(box.left, clear_top, box.right, box.bottom)
    if below.height <= 0:
        return None
    shares = (safe[0], clear_top / height, safe[2], safe[3])
    fit = fit_card(text, width, height, shares)
    return None if fit is None else (fit, below)


def fit_block(
    text: str, face: skia.Typeface, size: float, floor: float, width: float, height: float, gap: float
) -> tuple[float, list[str]]:
    """Lines of ``text`` no wider than ``width``, shrunk from ``size`` towards ``floor`` until their block
    (``gap`` font sizes a line) is no taller than ``height``; at ``floor``, the lines that fit."""
    while True:
        lines = wrap(text, width_measure(size, face.isBold()), width)
        if size * gap * len(lines) <= height or size <= floor:
            break
        size = max(floor, size * 0.92)
    keep = max(1, int(height // (size * gap)))
    return size, lines[:keep]


# --- text in any script -------------------------------------------------------------------------------
# DejaVu has no Chinese, Japanese or Korean, and ``drawString`` neither shapes Arabic (joined letter forms)
# nor orders right-to-left runs. Text that needs either goes through skia's paragraph layout (HarfBuzz
# shaping, the Unicode bidirectional algorithm, and per-character fallback through the fonts sora ships);
# text DejaVu draws alone, left to right, keeps the plain path, so Latin pictures stay as they were.

_RTL = {"R", "AL", "AN"}


@functools.cache
def _fallback_faces() -> tuple[skia.Typeface, ...]:
    quiet_fontconfig()
    return tuple(skia.Typeface.MakeFromFile(str(path)) for _, path in fallback_chain())


@functools.lru_cache(maxsize=8192)
def has_glyph(char: str) -> bool:
    """Whether some font sora ships draws ``char`` (white space and controls need none)."""
    if char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Mn", "Me"}:
        return True
    return any(skia.Font(face).textToGlyphs(char)[0] != 0 for face in _fallback_faces())


def missing_glyphs(text: str) -> str:
    """The distinct characters of ``text`` that no font sora ships can draw, in order of appearance."""
    return "".join(dict.fromkeys(c for c in text if not has_glyph(c)))


def describe_chars(chars: str) -> str:
    """``'😀' (U+1F600), ...`` for an error message."""
    return ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars)


@functools.lru_cache(maxsize=4096)
def _plain(text: str) -> bool:
    """True when DejaVu alone draws ``text`` left to right (no fallback, no shaping needed).

    Kept per text: the animatic asks it of the same labels and captions every frame; printable ASCII
    (the slate's changing timecode) is always plain: DejaVu draws all of it, none of it right to left.
    """
    if text.isascii() and text.isprintable():
        return True
    font = skia.Font(_fallback_faces()[0])
    return all(unicodedata.bidirectional(c) not in _RTL and (c.isspace() or font.textToGlyphs(c)[0] != 0) for c in text)


@functools.cache
def _collection() -> skia.textlayout_FontCollection:
    provider = skia.textlayout_TypefaceFontProvider()
    for (family, _), face in zip(fallback_chain(), _fallback_faces(), strict=True):
        provider.registerTypeface(face, family)
    provider.registerTypeface(skia.Typeface.MakeFromFile(str(BOLD)), fallback_chain()[0][0])
    collection = skia.textlayout_FontCollection()
    collection.setDefaultFontManager(provider)
    return collection


@functools.lru_cache(maxsize=512)
def _paragraph(text: str, size: float, bold: bool, color: int) -> skia.textlayout_Paragraph:
    style = skia.textlayout_TextStyle()
    style.setFontFamilies([family for family, _ in fallback_chain()])
    style.setFontSize(size)
    if bold:
        style.setFontStyle(skia.FontStyle.Bold())
    style.setForegroundPaint(skia.Paint(AntiAlias=True, Color=color))
    para_style = skia.textlayout_ParagraphStyle()
    para_style.setTextStyle(style)
    builder = skia.textlayout_ParagraphBuilder(para_style, _collection(), skia.Unicodes.ICU.Make())
    builder.pushStyle(style)
    builder.addText(text)
    paragraph = builder.Build()
    paragraph.layout(1e6)
    paragraph.layout(math.ceil(paragraph.MaxIntrinsicWidth) + 2)
    return paragraph


@functools.lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width ``text`` is drawn at, whatever its script (kept: a frame measures the same texts as the last)."""
    if _plain(text):
        return skia.Font(typeface(bold), size).measureText(text)
    return _paragraph(text, size, bold, 0xFFFFFFFF).MaxIntrinsicWidth


def width_measure(size: float, bold: bool = False) -> Callable[[str], float]:
    return lambda text: text_width(text, size, bold)


def draw_text(canvas: skia.Canvas, text: str, x: float, baseline: float, font: skia.Font, paint: skia.Paint) -> None:
    """``canvas.drawString`` for any script: CJK through the fallback fonts, Arabic and Hebrew shaped
    and ordered right to left; the font's size and weight are kept."""
    if _plain(text):
        canvas.drawString(text, x, baseline, font, paint)
        return
    paragraph = _paragraph(text, font.getSize(), font.getTypeface().isBold(), paint.getColor() | 0xFF000000)
    canvas.save()
    if paint.getAlpha() < 255:
        canvas.saveLayerAlpha(None, paint.getAlpha())
    paragraph.paint(canvas, x, baseline - paragraph.AlphabeticBaseline)
    if paint.getAlpha() < 255:
        canvas.restore()
    canvas.restore()


# --- the animatic's overlays: their sizes, and whether each fits a frame at its legible minimum ----------

#: share of the height kept for the slate and caption at the top (the watermark's band starts below it)
TOP_BAND = 0.24
CAPTION_GAP = 1.35  # a caption's baseline to baseline, in font sizes


def tag_size(width: int, height: int) -> float:
    return max(11, min(width, height) / 48)


def slate_size(width: int, height: int) -> float:
    return max(10, min(width, height) / 50)


def caption_size(width: int, height: int) -> float:
    return max(11, min(width, height) / 40)


def slate_bottom(box: Box, width: int, height: int) -> float:
    """Where text under the slate may start (the slate's box is 1.6 sizes tall, then a gap)."""
    return box.top + slate_size(width, height) * 1.9


@functools.cache
def _mono() -> skia.Typeface:
    quiet_fontconfig()
    return skia.Typeface.MakeFromFile(str(MONO))


def slate_fits(shot_id: str, width: int, height: int, box: Box) -> bool:
    """The slate's shortest form (``id  mm:ss:ff``) inside the safe area."""
    size = slate_size(width, height)
    text_w = skia.Font(_mono(), size).measureText(f"{shot_id}  00:00:00")
    return text_w + 16 <= box.width and box.top + size * 1.6 <= box.bottom


def caption_room(box: Box, width: int, height: int, slate: bool) -> tuple[float, float, float]:
    """(top, width, height) the action caption may use: under the slate, above the watermark's band."""
    top = slate_bottom(box, width, height) if slate else box.top
    wide = box.width * (0.65 if width > height else 1.0) - 20
    room = height * TOP_BAND - top - caption_size(width, height) * 0.5 - 2
    return top, wide, room


def caption_floor(width: int, height: int) -> float:
    return max(8.0, caption_size(width, height) * 0.6)


def caption_fits(text: str, width: int, height: int, box: Box, slate: bool) -> bool:
    """Every word of the caption whole and every line inside its room, at the caption's smallest size."""
    _, wide, room = caption_room(box, width, height, slate)
    size = caption_floor(width, height)
    measure = width_measure(size)
    if wide <= 0 or any(measure(w) > wide for w in text.split() if not _breakable(w)):
        return False
    top, _, _ = caption_room(box, width, height, slate)
    # below the band when it must (a small frame): every line is drawn, none is dropped
    return size * (CAPTION_GAP * len(wrap(text, measure, wide)) + 0.5) <= max(room, box.bottom - top)


def tag_fits(label: str, width: int, height: int, box: Box) -> bool:
    """A character's name tag (its text, 8 px inside its box, 8 px inside the safe area) fits the safe area."""
    size = tag_size(width, height)
    return text_width(label, size, True) + 32 <= box.width and size * 1.5 <= box.height


#: libass sizes DejaVu Sans so that its Windows ascent plus descent (1901 + 483 units) fill the
#: requested size: one em is 2048 / 2384 of it
ASS_EM = 2048 / 2384
SLACK = 0.94  # room kept for rounding, hinting and the outline


def subtitle_size(width: int, height: int) -> int:
    """The ASS font size: 1/18 of the shorter side (a 16:9 frame's height, as it always was)."""
    return max(12, round(min(width, height) / 18))


def outline(size: int) -> int:
    return max(1, size // 14)


def subtitle_margin(width: int, box: Box) -> float:
    """A burned subtitle's side margin: the safe area's, plus 1 % (as the burn step sets libass's)."""
    return box.left + max(2, width // 100)


def subtitle_word_fits(word: str, width: int, height: int, box: Box) -> bool:
    """One word of a burned subtitle fits a line whole (libass would otherwise break it or run it off)."""
    size = subtitle_size(width, height)
    room = (width - 2 * subtitle_margin(width, box) - 2 * outline(size)) * SLACK
    return _breakable(word) or measurer(typeface(False), size * ASS_EM)(word) <= room


SUBTITLE_LINES = 2  # a burned cue's most lines (``sora_cli.assemble.subtitles.MAX_LINES``)


def subtitle_band_top(width: int, height: int, safe: Fractions) -> float:
    """The top, as a share of the height, of the band burned subtitles may cover: their bottom margin (the
    safe area's and 1 %, as the burn step sets libass's), two lines and the outline, and a small gap.
    Other text keeps above it so that a subtitle never covers a name tag."""
    size = subtitle_size(width, height)
    bottom = safe[3] * height - max(2, height // 100)
    top = bottom - SUBTITLE_LINES * size * 1.15 - 2 * outline(size) - max(2, height // 100)
    return max(0.0, top / height)
