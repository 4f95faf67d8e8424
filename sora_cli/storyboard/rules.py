"""The rules that relate one part of a storyboard to another.

The model checks each field on its own; these check the document as a whole:
names that must refer to something, the order of continuity, ``set:`` paths,
asset files, cameo consent. Every rule reports a :class:`Problem` located at
the offending value, and all of them run, so one pass shows every mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sora_cli.atomic import SYMLINK_LOOP, symlink_loop
from sora_cli.cameo.library import CameoRefused, find_cameo, library_dirs
from sora_cli.errors import Problem, choice_list, did_you_mean, show
from sora_cli.sound_catalog import EFFECTS
from sora_cli.speech.engine import engine, installed_engines
from sora_cli.speech.voice import DEFAULT_ENGINE
from sora_cli.storyboard.limits import MAX_FRAME_PIXELS
from sora_cli.storyboard.messages import describe
from sora_cli.storyboard.model import Storyboard, Voice, World
from sora_cli.storyboard.source import FieldPath, SourceMap

#: Text in a dialogue line that SRT readers would not read back as written: a line with a
#: timing arrow is taken for a new cue's timing by ffmpeg's SRT demuxer (the cue vanishes).
#: NUL and other control characters are refused for every text when the storyboard loads;
#: ``{\\...}``, ``\\N`` and ``<i>`` are written as they are and read back verbatim (a test
#: checks it with pysrt and ffmpeg's demuxer); WebVTT and ASS escape them.
SUBTITLE_HAZARDS = ((re.compile(r"-->"), "`-->` is the arrow of SRT timing lines"),)

OUTSIDE = (
    "is outside the storyboard's folder; assets must be inside it (no `..`, absolute paths or symlinks "
    "out of it) unless you name their folder with --allow-assets DIR"
)
LOOP = f"is {SYMLINK_LOOP}; name a file"

#: World fields that ``set:`` may change directly.
SETTABLE_WORLD = ("location", "time_of_day", "weather", "lighting")


def world_changes(changes: dict[str, Any]) -> Iterator[tuple[str, tuple[str, ...], Any]]:
    """Flatten a shot's ``set:`` into ``(key as written, path parts, value)``.

    ``props.sled.description: x`` and ``props: {sled: {description: x}}`` mean the
    same; the first form is the format doc's, the nested one is accepted too.
    """
    for key, value in changes.items():
        parts = tuple(str(key).split("."))
        if isinstance(value, dict) and value:
            for _, sub_parts, sub_value in world_changes(value):
                yield key, parts + sub_parts, sub_value
        else:
            yield key, parts, value


def check_rules(sb: Storyboard, source: SourceMap, cameo_dirs: Path | None = None) -> list[Problem]:
    problems: list[Problem] = []

    def fail(path: FieldPath, message: str, *, key: bool = False) -> None:
        problems.append(source.problem(path, message, key=key))

    characters = sorted(sb.world.characters)
    props = sorted(sb.world.props)

    out = sb.output
    if out.width * out.height > MAX_FRAME_PIXELS:
        fail(
            ("output", "width"),
            f"{out.width}x{out.height} is {out.width * out.height:,} pixels a frame; at most {MAX_FRAME_PIXELS:,}"
            " (e.g. 4096x2160 or 3840x2160)",
        )

    def refer(path: FieldPath, name: str, kind: str, choices: list[str]) -> None:
        if name not in choices:
            plural = "characters" if kind == "character" else "props"
            fail(path, f"{name!r} is not a {kind}{did_you_mean(name, choices)} ({plural}: {choice_list(choices)})")

    def asset(path: FieldPath, name: str, what: str, missing: str | None = None) -> None:
        """``name`` is a readable file in the storyboard's folder (or an allowed one); ``missing``: what to
        say when it is not there (by default, where it was looked for)."""
        target = source.resolve_asset(name)
        if symlink_loop(target):
            fail(path, f"{what} {name!r} {LOOP}")
        elif source.outside(target):
            fail(path, f"{what} {name!r} {OUTSIDE}")
        elif not target.is_file():
            fail(path, missing or f"{what} {name!r} not found (looked for {target})")

    # characters: likeness, voice and cameo
    cameo_shown: set[str] = set()
    for char_id, char in sb.world.characters.items():
        base: FieldPath = ("world", "characters", char_id)
        for i, ref in enumerate(char.reference):
            asset(base + ("reference", i), ref, "likeness image")
        if char.voice is not None:
            problems.extend(_check_voice(char.voice, base + ("voice",), source))
        if char.cameo:
            if char.reference:
                fail(base + ("reference",), "a cameo brings its own likeness; give either `cameo` or `reference`")
            if char.voice:
                fail(base + ("voice",), "a cameo brings its own voice; give either `cameo` or `voice`")
            try:
                find_cameo(char.cameo, library_dirs(source.base_dir, cameo_dirs))
                cameo_shown.add(char_id)
            except CameoRefused as exc:
                fail(base + ("cameo",), str(exc))

    # audio assets
    if sb.audio.music:
        asset(("audio", "music", "file"), sb.audio.music.file, "music file")
    if sb.audio.ambience not in ("auto", "none"):
        asset(("audio", "ambience"), sb.audio.ambience, "ambience file (or use auto | none)")

    seen_ids: dict[str, int] = {}
    for i, shot in enumerate(sb.shots):
        base = ("shots", i)
        if shot.id in seen_ids:
            fail(
                base + ("id",), f"shot id {shot.id!r} is already used by shots[{seen_ids[shot.id]}]; ids must be unique"
            )
        seen_ids.setdefault(shot.id, i)
        for j, name in enumerate(shot.cast):
            refer(base + ("cast", j), name, "character", characters)
            if name in shot.cast[:j]:
                fail(base + ("cast", j), f"{name!r} is already in this shot's cast")
        for j, name in enumerate(shot.props):
            refer(base + ("props", j), name, "prop", props)
        for j, line in enumerate(shot.dialogue):
            refer(base + ("dialogue", j, "speaker"), line.speaker, "character", characters)
            if not line.line.strip():
                fail(base + ("dialogue", j, "line"), "a line needs words (it becomes speech and a subtitle)")
            for pattern, why in SUBTITLE_HAZARDS:
                if found := pattern.search(line.line):
                    fail(
                        base + ("dialogue", j, "line"),
                        f"{found.group()!r} cannot be in a subtitle: {why}, and readers would not show it as written",
                    )
            if line.audio:
                asset(base + ("dialogue", j, "audio"), line.audio, "recorded take")
        for j, sfx in enumerate(shot.sfx):
            if sfx.sound not in EFFECTS:
                asset(
                    base + ("sfx", j, "sound"),
                    sfx.sound,
                    "sound file",
                    f"{show(sfx.sound)} is neither a built-in sound nor a file{did_you_mean(sfx.sound, EFFECTS)}"
                    " (`sora sounds` lists the built-in ones)",
                )
        if shot.continuity == "continue":
            if i == 0:
                fail(base + ("continuity",), "the first shot cannot `continue`: there is no shot before it")
            elif shot.transition.type != "cut":
                fail(
                    base + ("transition", "type"),
                    f"a `continue` shot starts exactly where the previous one ended, so it is entered by a cut, "
                    f"not {shot.transition.type!r}",
                )
        if i == 0 and shot.transition.type == "crossfade":
            fail(
                base + ("transition", "type"),
                "the first shot has nothing to crossfade from; use fade_black, fade_white or cut",
            )
        if sb.output.watermark == "off":
            for name in shot.cast:
                if name in cameo_shown:
                    fail(("output", "watermark"), f"`off` is refused: shot {shot.id!r} shows cameo {name!r}")
        problems.extend(_check_set(shot.set, base + ("set",), sb, source))
    return problems


def _check_voice(voice: Voice, base: FieldPath, source: SourceMap) -> list[Problem]:
    name = voice.engine or DEFAULT_ENGINE
    if name not in installed_engines():
        engines = installed_engines()
        return [
            source.problem(
                base + ("engine",),
                f"{name!r} is not an installed speech engine{did_you_mean(name, engines)} (installed: {choice_list(engines)})",
            )
        ]
    if voice.voice and (why := engine(name).check_voice(voice.voice)):
        return [source.problem(base + ("voice",), why)]
    return []


def _check_set(changes: dict[str, Any], base: FieldPath, sb: Storyboard, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    props = sorted(sb.world.props)
    settable = [*SETTABLE_WORLD, *(f"props.{p}.description" for p in props)]
    for key, parts, value in world_changes(changes):
        path = base + (key,)
        head = parts[0]
        if head in SETTABLE_WORLD and len(parts) == 1:
            try:
                TypeAdapter(World.model_fields[head].annotation).validate_python(value)
            except ValidationError as exc:
                message, _ = describe(Storyboard, exc.errors(include_url=False)[0], path)
                problems.append(source.problem(path, message))
        elif head == "props" and len(parts) == 3 and parts[2] == "description":
            if parts[1] not in props:
                problems.append(
                    source.problem(
                        path,
                        f"{parts[1]!r} is not a prop{did_you_mean(parts[1], props)} (props: {choice_list(props)})",
                        key=True,
                    )
                )
            elif not isinstance(value, str):
                problems.append(source.problem(path, f"expected text, got {show(value)}"))
        elif head == "characters":
            problems.append(
                source.problem(path, "characters keep one identity in every shot; `set` cannot change them", key=True)
            )
        else:
            dotted = ".".join(parts)
            problems.append(
                source.problem(
                    path,
                    f"{dotted!r} names nothing in the world{did_you_mean(dotted, settable)} (settable: {choice_list(settable)})",
                    key=True,
                )
            )
    return problems
