"""Validate-time check that every title and end card fits its frame.

A card is drawn whole or not at all: :func:`sora_cli.textfit.fit_card` shrinks
it to the legible minimum inside the profile's title-safe area, and a card
that still does not fit is reported here, located on its ``action``, with
the frame size, before anything renders.
"""

from __future__ import annotations

from sora_cli.errors import Problem
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.source import SourceMap
from sora_cli.textfit import DEFAULT_SAFE, Fractions, card_text, fit_card, min_card_size, profile_fractions


def _safe(sb: Storyboard, source: SourceMap) -> Fractions:
    from sora_cli.qc.profiles import ProfileError, load_profile  # qc sits after the storyboard stage

    try:
        return profile_fractions(load_profile(sb.output.profile, source.base_dir))
    except (ProfileError, OSError):
        return DEFAULT_SAFE  # a bad profile is reported by its own check


def check_cards(sb: Storyboard, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    width, height = sb.output.width, sb.output.height
    safe: Fractions | None = None
    for i, shot in enumerate(sb.shots):
        text = card_text(shot.action)
        if not text:
            continue
        safe = safe or _safe(sb, source)
        if fit_card(text, width, height, safe) is None:
            problems.append(
                source.problem(
                    ("shots", i, "action"),
                    f"the card of shot {shot.id!r} does not fit a {width}x{height} frame "
                    f"(profile {sb.output.profile}) even at the legible minimum of "
                    f"{min_card_size(width, height):.0f} px: shorten its text or use a larger frame",
                )
            )
    return problems
