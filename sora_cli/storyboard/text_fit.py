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
    Fractions,
    card_text,
    describe_chars,
    fit_card,
    min_card_size,
    missing_glyphs,
    profile_fractions,
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
    problems: list[Problem] = check_glyphs(sb, source)
    cards = [(i, shot.id, text) for i, shot in enumerate(sb.shots) if (text := card_text(shot.action))]
    if not cards:
        return problems
    for name, width, height, profile, kept in frames(sb):
        safe = _safe(profile, source)
        for i, sid, text in cards:
            if kept is not None and sid not in kept:
                continue
            if fit_card(text, width, height, safe) is None:
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
