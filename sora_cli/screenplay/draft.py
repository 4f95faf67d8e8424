"""The storyboard draft a breakdown makes: data in the storyboard's shape, plus its comments.

Shared by the two ways a script becomes a draft (:mod:`.breakdown` for a plain
screenplay, :mod:`.notes` for one carrying sora's notes) and by :mod:`.emit`,
which writes it as YAML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sora_cli.screenplay.parse import Element, plain

STORYBOARD_NOTE = "sora storyboard:"
SHOT_NOTE = "sora shot:"
COMMENT_KINDS = ("note", "boneyard", "section", "synopsis", "page_break")
UNKNOWN_PLACE = "an unknown place"


@dataclass
class DraftLine:
    fields: dict[str, Any]
    comments: list[str] = field(default_factory=list)
    source: int = 0  # the script line it came from


@dataclass
class DraftShot:
    fields: dict[str, Any]
    lines: list[DraftLine] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    source: int = 0


@dataclass
class Draft:
    """A storyboard as data, with the comments that go around it."""

    head: dict[str, Any]  # everything but shots, in the order it is written
    head_comments: list[str] = field(default_factory=list)
    character_comments: dict[str, str] = field(default_factory=dict)
    shots: list[DraftShot] = field(default_factory=list)
    tail_comments: list[str] = field(default_factory=list)
    #: storyboard path (``title``, ``world.characters.mara``) -> the script line its text came from
    sources: dict[str, int] = field(default_factory=dict)

    def source_of(self, path: str) -> int | None:
        """The script line of the longest recorded path that ``path`` lies under."""
        best = max((p for p in self.sources if path == p or path.startswith((f"{p}.", f"{p}["))), key=len, default=None)
        return self.sources[best] if best is not None else None


def comment_for(element: Element) -> str:
    """How an element without storyboard meaning reads as a comment."""
    text = element.text
    return {
        "note": f"[[{text}]]",
        "boneyard": f"/* {text} */",
        "section": f"{'#' * max(element.level, 1)} {text}",
        "synopsis": f"= {text}",
        "page_break": "=== (page break)",
    }.get(element.kind, text) + f"  (line {element.line})"


def spoken(text: str) -> str:
    """Dialogue as it is said: markup removed, lines joined, spaces collapsed."""
    return re.sub(r"\s+", " ", plain(text)).strip()
