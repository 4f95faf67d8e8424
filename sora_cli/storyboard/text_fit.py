"""Validate-time check that every title and end card fits its frame.

A card is drawn whole or not at all: :func:`sora_cli.textfit.fit_card` shrinks
it to the legible minimum inside the profile's title-safe area, and a card
that still does not fit is reported here, located on its ``action``, with
the frame size, before anything renders.
"""

from __future__ import annotations

from sora_cli.errors import Problem
from sora_cli.profiles import ProfileError, load_profile
from sora_cli.storyboard.deliverables import frames
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.source import SourceMap
from sora_cli.textfit import (
    DEFAULT_SAFE,
    Box,
    Fractions,
    caption_fits,
    card_text,
    describe_chars,
    min_card_size,
    missing_glyphs,
    place_card,
    profile_fractions,
    slate_bottom,
    slate_fits,
    subtitle_word_fits,
    tag_fits,
)


def _safe(profile: str, source: SourceMap) -> Fractions:
    try:
        return profile_fractions(load_profile(profile, source.base_dir))
    except (ProfileError, OSError):
        return DEFAULT_SAFE  # a bad profile is reported by its own check


def check_glyphs(sb: Storyboard, source: SourceMap) -> list[Problem]:
    """Every character of the text the animatic draws (cards, captions, name tags) has a font sora ships:
    a character none has would be drawn as an empty box, so it is refused instead of lost."""
    problems: list[Problem] = []
    options = sb.backend.options if sb.backend.name == "animatic" else {}
    for i, shot in enumerate(sb.shots):
        card = card_text(shot.action)
        drawn = card if card else (shot.action if options.get("captions", True) is not False else "")
        if drawn and (missing := missing_glyphs(drawn)):
            what = f"the card of shot {shot.id!r}" if card else f"the caption of shot {shot.id!r}"
            problems.append(
                source.problem(
                    ("shots", i, "action"),
                    f"{what} has characters no font of sora can draw: {describe_chars(missing)}; "
                    "remove them or write them in a supported script (Latin, Greek, Cyrillic, Arabic, "
                    "Hebrew, Chinese, Japanese, Korean)",
                )
            )
    return problems


def check_cards(sb: Storyboard, source: SourceMap) -> list[Problem]:
    """Each card at every frame it is drawn at: the storyboard's output and each deliverable's."""
    problems: list[Problem] = check_glyphs(sb, source) + check_overlays(sb, source)
    cards = [(i, shot.id, text) for i, shot in enumerate(sb.shots) if (text := card_text(shot.action))]
    if not cards:
        return problems
    options = sb.backend.options if sb.backend.name == "animatic" else {}
    slate = options.get("slate", True) is not False  # the card keeps clear of it
    for name, width, height, profile, kept in frames(sb):
        safe = _safe(profile, source)
        for i, sid, text in cards:
            if kept is not None and sid not in kept:
                continue
            clear = slate_bottom(Box.of(safe, width, height), width, height) if slate else 0.0
            if place_card(text, width, height, safe, clear) is None:
                which = f"deliverable {name!r}: " if name else ""
                problems.append(
                    source.problem(
                        ("shots", i, "action"),
                        f"{which}the card of shot {sid!r} does not fit a {width}x{height} frame "
                        f"(profile {profile}) even at the legible minimum of "
                        f"{min_card_size(width, height):.0f} px: shorten its text or use a larger frame",
                    )
                )
    return problems


def check_overlays(sb: Storyboard, source: SourceMap) -> list[Problem]:
    """Slate, action captions, name tags and burned subtitles each fit the title-safe area of every frame
    they are drawn at, at their legible minimum; one that would be clipped, cut or broken mid-word is
    refused here, naming the piece and the frame, before anything renders."""
    problems: list[Problem] = []
    options = sb.backend.options if sb.backend.name == "animatic" else {}
    # asked for by name: refused where it cannot fit; on by default: left out of such a frame by the drawing
    slate = options.get("slate") is True
    captions = options.get("captions") is True
    tags = options.get("name_tags") is True
    seen: set[tuple] = set()

    def refuse(path: tuple, which: str, piece: str, width: int, height: int, profile: str) -> None:
        key = (path, piece, width, height)
        if key in seen:
            return
        seen.add(key)
        problems.append(
            source.problem(
                path,
                f"{which}{piece} does not fit a {width}x{height} frame (profile {profile}) inside its title-safe "
                "area at its legible minimum: use a larger frame (480x270 or more), shorten the text, or turn "
                "the piece off",
            )
        )

    for name, width, height, profile, kept in frames(sb):
        box = Box.of(_safe(profile, source), width, height)
        which = f"deliverable {name!r}: " if name else ""
        burn = "burn" in _subtitles(sb, name)
        for i, shot in enumerate(sb.shots):
            if kept is not None and shot.id not in kept:
                continue
            if sb.backend.name == "animatic":
                if slate and not slate_fits(shot.id, width, height, box):
                    refuse(("shots", i, "id"), which, f"the slate of shot {shot.id!r}", width, height, profile)
                drawn = captions and shot.action and not card_text(shot.action)
                if drawn and not caption_fits(shot.action, width, height, box, slate):
                    refuse(("shots", i, "action"), which, f"the caption of shot {shot.id!r}", width, height, profile)
                for cid in shot.cast if tags else []:
                    if not tag_fits(str(cid).capitalize(), width, height, box):
                        refuse(
                            ("shots", i, "cast"),
                            which,
                            f"the name tag {str(cid).capitalize()!r}",
                            width,
                            height,
                            profile,
                        )
            if burn:
                for j, line in enumerate(shot.dialogue):
                    text = getattr(line, "line", "") or ""
                    if not all(subtitle_word_fits(w, width, height, box) for w in text.split()):
                        refuse(
                            ("shots", i, "dialogue", j, "line"), which, "a burned subtitle word", width, height, profile
                        )
    return problems


def _subtitles(sb: Storyboard, deliverable: str) -> frozenset[str]:
    for d in sb.deliverables:
        if d.name == deliverable and d.subtitles is not None:
            return frozenset(d.subtitles)
    return frozenset(sb.output.subtitles)
