"""``sora export fountain``: a storyboard -> a Fountain screenplay.

The script reads as a screenplay in any Fountain app: a title page, a scene
heading wherever the place or time of day changes, transitions, action
(``Title card:`` actions as centred text), and dialogue with whisper and shout
as parentheticals. What a screenplay cannot say (shot ids, camera, cast, sound,
the world's details) travels in ``[[sora ...]]`` notes, which screenwriting apps
keep as notes; ``sora import`` follows them, so importing an export gives back
the same shots, cast and lines. Delete the notes to have the script broken down
afresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sora_cli.screenplay.draft import SHOT_NOTE, STORYBOARD_NOTE
from sora_cli.screenplay.parse import classify, escape
from sora_cli.screenplay.words import HEADING_TIME
from sora_cli.sound_catalog import EFFECTS
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.rules import world_changes

_ENTRANCE = {"crossfade": "DISSOLVE TO:", "fade_black": "FADE TO BLACK.", "fade_white": "FADE TO WHITE."}
_DELIVERY = {"whisper": "(whispering)", "shout": "(shouting)"}


def export_fountain(sb: Storyboard, move_to: Path | None = None) -> str:
    """The screenplay of ``sb``; with ``move_to``, asset paths are rewritten to work from that folder."""
    move = _mover(sb, move_to)
    out: list[str] = []
    title_lines = sb.title.splitlines() or [sb.title]
    out.append(f"Title: {escape(title_lines[0])}")
    out += [f"    {escape(line)}" for line in title_lines[1:]]
    out += ["Credit: storyboard exported by sora", ""]
    head = sb.model_dump(mode="json", exclude_defaults=True, exclude={"shots", "title", "version"})
    for character in head.get("world", {}).get("characters", {}).values():
        if "reference" in character:
            character["reference"] = [move(ref) for ref in character["reference"]]
    audio = head.get("audio", {})
    if "music" in audio:
        audio["music"]["file"] = move(audio["music"]["file"])
    if audio.get("ambience", "auto") not in ("auto", "none"):
        audio["ambience"] = move(audio["ambience"])
    out += [f"[[{STORYBOARD_NOTE} {note_json(head)}]]", ""]
    place = (sb.world.location, sb.world.time_of_day)
    shown: tuple[str, str] | None = None
    for index, shot in enumerate(sb.shots):
        for _, parts, value in world_changes(shot.set):
            if parts == ("location",):
                place = (str(value), place[1])
            elif parts == ("time_of_day",):
                place = (place[0], str(value))
        if shot.transition.type != "cut":
            entrance = "FADE IN:" if index == 0 and shot.transition.type == "fade_black" else None
            out += [entrance or _ENTRANCE[shot.transition.type], ""]
        if place != shown:
            out += [heading(*place), ""]
            shown = place
        note = shot.model_dump(mode="json", exclude_defaults=True, exclude={"action", "dialogue"})
        note["id"] = shot.id
        for sfx in note.get("sfx", []):
            sfx["sound"] = sfx["sound"] if sfx["sound"] in EFFECTS else move(sfx["sound"])
        extras = [
            line.model_dump(mode="json", exclude_defaults=True, include={"at", "audio", "translations"})
            for line in shot.dialogue
        ]
        for extra in extras:
            if "audio" in extra:
                extra["audio"] = move(extra["audio"])
        if any(extras):
            note["lines"] = extras
        out += [f"[[{SHOT_NOTE} {note_json(note)}]]", ""]
        out += _action(shot.action)
        previous = None
        for line in shot.dialogue:
            out += _dialogue(line.speaker, line.line, line.delivery, previous == line.speaker)
            previous = line.speaker
    return "\n".join(out).rstrip("\n") + "\n"


def _mover(sb: Storyboard, move_to: Path | None) -> Callable[[str], str]:
    """Asset paths are relative to the storyboard's folder; the script may live in another."""
    source = sb.source
    if move_to is None or source is None:
        return lambda path: path
    start, target = Path(source.base_dir).resolve(), move_to.resolve()
    if start == target:
        return lambda path: path

    def move(path: str) -> str:
        return path if Path(path).is_absolute() else os.path.relpath(start / path, target)

    return move


def heading(location: str, time_of_day: str) -> str:
    """``("lamp room, interior", "night")`` -> ``INT. LAMP ROOM - NIGHT``."""
    place = " ".join(location.split())
    for suffix, prefix in ((", interior and exterior", "INT./EXT. "), (", interior", "INT. "), (", exterior", "EXT. ")):
        if place.endswith(suffix):
            text = prefix + place[: -len(suffix)].upper()
            break
    else:
        text = "." + place.upper().lstrip(".")
    return f"{escape(text)} - {HEADING_TIME[time_of_day]}"


def note_json(value: Any) -> str:
    """JSON that can sit inside a ``[[ ]]`` note: no ``]]`` and no line break, whatever the strings hold."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_string(str(k))}: {note_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        inner = ", ".join(note_json(v) for v in value)
        return "[" + inner + (" ]" if inner.endswith("]") else "]")
    if isinstance(value, str):
        return _string(value)
    return json.dumps(value)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("]", "\\u005d").replace("\u2028", "\\u2028")


def _action(action: str) -> list[str]:
    if not action:
        return []
    if action.startswith("Title card: ") and "\n" not in action:
        return [f"> {escape(action.removeprefix('Title card: '))} <", ""]
    out: list[str] = []
    for paragraph in action.split("\n\n"):
        lines = paragraph.split("\n")
        for i, line in enumerate(lines):
            text = escape(line)
            element = classify(text.strip(), 1, i == 0, len(lines) == 1) if text.strip() else None
            if element is None or element.kind != "action" or element.forced or text != text.lstrip():
                text = "!" + text
            out.append(text)
        out.append("")
    return out


def _dialogue(speaker: str, line: str, delivery: str, continued: bool) -> list[str]:
    cue = speaker.upper()
    probe = classify(cue, 1, True, False)
    if probe.kind != "cue" or probe.text != cue:
        cue = "@" + cue
    out = [cue + (" (CONT'D)" if continued else "")]
    if delivery in _DELIVERY:
        out.append(_DELIVERY[delivery])
    for text in line.split("\n"):
        text = escape(text.strip())
        if not text:
            out.append("  ")
        elif text.startswith(("(", "~")):
            out.append("\\" + text)
        else:
            out.append(text)
    return [*out, ""]
