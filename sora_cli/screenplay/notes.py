"""A script carrying ``[[sora ...]]`` notes (written by ``sora export fountain``) -> its storyboard draft.

The notes hold what a screenplay cannot say: the world, and per shot its id,
camera, cast, props, sound and timing. The screenplay around them holds the
action and the lines, so a writer's edits to those come back; a shot or speaker
the writer added is imported too.
"""

from __future__ import annotations

import json
from typing import Any

from sora_cli.errors import Problem, StoryboardError
from sora_cli.screenplay import words
from sora_cli.screenplay.draft import (
    COMMENT_KINDS,
    SHOT_NOTE,
    STORYBOARD_NOTE,
    UNKNOWN_PLACE,
    Draft,
    DraftLine,
    DraftShot,
    comment_for,
)
from sora_cli.screenplay.headings import bare, split_heading, time_of
from sora_cli.screenplay.parse import Element, Script, plain


class Noted:
    """A script carrying ``[[sora ...]]`` notes (an export): follow them exactly."""

    def __init__(self, script: Script, file: str):
        self.script = script
        self.file = file
        self.base_note = next(
            (e for e in script.elements if e.kind == "note" and e.text.startswith(STORYBOARD_NOTE)), None
        )

    def _json(self, element: Element, prefix: str) -> dict[str, Any]:
        try:
            value = json.loads(element.text[len(prefix) :])
        except json.JSONDecodeError as exc:
            raise StoryboardError(
                [Problem(self.file, element.line, 1, "note", f"a [[{prefix} ...]] note must hold JSON: {exc.msg}")]
            ) from None
        if not isinstance(value, dict):
            raise StoryboardError([Problem(self.file, element.line, 1, "note", f"[[{prefix} ...]] holds an object")])
        return value

    def _added_heading(self, index: int) -> bool:
        """A heading the export did not write: the next thing after it is not a ``[[sora shot]]`` note."""
        for element in self.script.elements[index + 1 :]:
            if element.kind == "note" and element.text.startswith(SHOT_NOTE):
                return False
            if element.kind not in (*COMMENT_KINDS, "transition"):
                return True
        return True

    def run(self) -> Draft:
        note = self._json(self.base_note, STORYBOARD_NOTE) if self.base_note else {}
        head: dict[str, Any] = {"version": 1, "title": self.script.title() or "Untitled"}
        head.update({k: v for k, v in note.items() if k not in ("version", "title")})
        head.setdefault("world", {"location": UNKNOWN_PLACE})
        shots: list[DraftShot] = []
        pending: list[str] = []
        speaker_of: dict[str, str] = {}
        for char_id in head.get("world", {}).get("characters", {}):
            speaker_of[char_id.upper()] = char_id
        current: DraftShot | None = None
        delivery: str | None = None
        cue: str | None = None
        elements = self.script.elements
        for index, element in enumerate(elements):
            if element is self.base_note:
                continue
            if element.kind == "heading" and self._added_heading(index):
                # a scene the writer added after the export: a new shot in the heading's place and time
                current = DraftShot(
                    {"id": f"added-{element.line}", "action": "", "_extras": [], "set": _heading_set(element)},
                    [],
                    [*pending, f"Scene: {element.text}  (line {element.line}), new in the script"],
                    element.line,
                )
                shots.append(current)
                pending, cue = [], None
            elif element.kind == "note" and element.text.startswith(SHOT_NOTE):
                fields = self._json(element, SHOT_NOTE)
                extras = fields.pop("lines", [])
                current = DraftShot(fields, [], pending, element.line)
                current.fields["_extras"] = extras
                current.fields.setdefault("action", "")
                shots.append(current)
                pending = []
            elif current is None and element.kind in ("action", "centered", "cue"):
                # written before any shot note (by hand, after the export): a shot of its own
                current = DraftShot(
                    {"id": f"added-{element.line}", "action": "", "_extras": []}, [], pending, element.line
                )
                shots.append(current)
                pending = []
                if element.kind == "cue":
                    cue, delivery = speaker_of.get(element.text.upper(), words.slug(element.text) or "someone"), None
                else:
                    text = plain(element.text) if element.kind == "action" else f"Title card: {plain(element.text)}"
                    current.fields["action"] = text
            elif current is None or element.kind in (*COMMENT_KINDS, "heading", "transition"):
                # headings and transitions are for the reader here: the notes hold the world and the cuts
                label = "Scene: " if element.kind == "heading" else ""
                pending.append(
                    f"{label}{element.text}  (line {element.line})"
                    if label or element.kind == "transition"
                    else comment_for(element)
                )
            elif element.kind in ("action", "centered"):
                text = plain(element.text) if element.kind == "action" else f"Title card: {plain(element.text)}"
                action = current.fields["action"]
                current.fields["action"] = f"{action}\n\n{text}" if action else text
            elif element.kind == "cue":
                cue = speaker_of.get(element.text.upper(), words.slug(element.text) or "someone")
                delivery = None
            elif element.kind == "parenthetical":
                delivery = words.delivery_of(element.text)
            elif element.kind in ("dialogue", "lyric") and cue:
                fields = {"speaker": cue, "line": plain(element.text)}
                if delivery:
                    fields["delivery"] = delivery
                current.lines.append(DraftLine(fields, [], element.line))
                delivery = None
        for shot in shots:
            if not shot.fields["action"] and not shot.lines and "set" in shot.fields:  # a heading alone
                shot.fields["action"] = f"Establishing: {shot.fields['set']['location']}"
            extras = shot.fields.pop("_extras")
            for line, extra in zip(shot.lines, extras, strict=False):
                if isinstance(extra, dict):
                    line.fields.update(extra)
        characters = head["world"].setdefault("characters", {})
        notes: dict[str, str] = {}
        for line in (line for shot in shots for line in shot.lines):
            if line.fields["speaker"] not in characters:  # a speaker the writer added after the export
                characters[line.fields["speaker"]] = {"description": line.fields["speaker"].replace("_", " ").title()}
                notes[line.fields["speaker"]] = f"new in the script at line {line.source}"
        return Draft(head, [], notes, shots, pending)


def _heading_set(heading: Element) -> dict[str, Any]:
    """The world a heading names: its place, and its time of day when it gives one."""
    location, when = split_heading(heading.text, heading.forced)
    changes: dict[str, Any] = {"location": location}
    time = time_of(bare(when.partition(" - ")[0]))[0] if when else None
    if time is not None:
        changes["time_of_day"] = time
    return changes
