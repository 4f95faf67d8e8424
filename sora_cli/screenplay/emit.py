"""A storyboard draft -> commented YAML text.

PyYAML cannot write comments, so the layout is written here and every scalar
goes through ``yaml.safe_dump`` (double-quoted): whatever a script says, the
text stays valid YAML and means the same under the loader's YAML 1.2 core
schema. Names that could read as anything but text are quoted too.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from sora_cli.screenplay.draft import Draft, DraftShot

_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_-]*$")
_RESERVED = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}
#: Characters PyYAML reads as line breaks, or refuses, inside a comment.
_NOT_IN_COMMENT = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x84\x86-\x9f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _SAFE_NAME.match(text) and text not in _RESERVED:
        return text
    return yaml.safe_dump(text, default_style='"', width=10**9, allow_unicode=True).rstrip("\n")


def text(value: str) -> str:
    """Free text, always quoted (so ``on``, ``1:30`` or ``#x`` stay text)."""
    return yaml.safe_dump(value, default_style='"', width=10**9, allow_unicode=True).rstrip("\n")


#: Fields of free text: always quoted, however they read.
_FREE_TEXT = {"title", "style", "negative", "location", "lighting", "description", "action", "line", "model"}


def flow(value: Any, key: str = "") -> str:
    """A value in YAML flow style; ``key`` is the field it belongs to (free text is always quoted)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v, str(k))}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v, key) for v in value) + "]"
    if isinstance(value, str) and key in _FREE_TEXT:
        return text(value)
    return scalar(value)


def comment(message: str, indent: str) -> list[str]:
    out = []
    for part in str(message).splitlines() or [""]:
        cleaned = _NOT_IN_COMMENT.sub(" ", part).rstrip()
        out.append(f"{indent}# {cleaned}".rstrip())
    return out


def emit(draft: Draft, preamble: list[str]) -> str:
    lines: list[str] = []
    for message in [*preamble, *draft.head_comments]:
        lines += comment(message, "")
    for key, value in draft.head.items():
        if key == "world" and isinstance(value, dict):
            lines.append("world:")
            lines += _world(value, draft.character_comments)
        else:
            lines.append(f"{scalar(key)}: {flow(value, key)}")
    lines.append("shots:")
    for shot in draft.shots:
        lines += _shot(shot)
    for message in draft.tail_comments:
        lines += comment(message, "")
    return "\n".join(lines) + "\n"


def _world(world: dict[str, Any], character_comments: dict[str, str]) -> list[str]:
    lines = []
    for key, value in world.items():
        if key in ("characters", "props") and isinstance(value, dict) and value:
            lines.append(f"  {key}:")
            for name, fields in value.items():
                note = character_comments.get(name)
                lines.append(f"    {scalar(name)}:" + (comment(note, " ")[0] if note else ""))
                for field, field_value in (fields or {}).items():
                    lines.append(f"      {scalar(field)}: {flow(field_value, field)}")
                if not fields:
                    lines[-1] += " {}"
        else:
            lines.append(f"  {scalar(key)}: {flow(value, key)}")
    return lines


#: The order a shot's fields are written in (the format doc's).
_SHOT_ORDER = (
    "id",
    "duration",
    "action",
    "camera",
    "cast",
    "props",
    "sfx",
    "dialogue",
    "continuity",
    "transition",
    "set",
)


def _shot(shot: DraftShot) -> list[str]:
    lines: list[str] = []
    for message in shot.comments:
        lines += comment(message, "  ")
    first = True
    order = {key: i for i, key in enumerate(_SHOT_ORDER)}
    for key, value in sorted(shot.fields.items(), key=lambda item: order.get(item[0], len(order))):
        if key.startswith("_") or (key in ("cast", "props", "action") and not value):
            continue
        lead = "  - " if first else "    "
        lines.append(f"{lead}{scalar(key)}: {flow(value, key)}")
        first = False
    if shot.lines:
        lines.append("    dialogue:")
        for line in shot.lines:
            for message in line.comments:
                lines += comment(message, "      ")
            lines.append(f"      - {flow(line.fields)}")
    return lines
