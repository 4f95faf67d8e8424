"""``deliverables:``: one storyboard, several masters (sizes, rates, profiles, cut-downs).

A deliverable is the storyboard with its ``output`` changed and, for a
cut-down, only some shots kept. The copy is an ordinary storyboard, so every
stage after this one (plan, render, sound, assemble, qc) treats a master
exactly as a film; shots and soundtracks equal in content and size hit the
same cache entries.

A cut-down re-joins what it keeps sensibly: each kept shot is entered by its
own transition; a ``continue`` shot whose predecessor was dropped becomes a
cut (it cannot carry on from a shot that is not there); world changes
(``set:``) of dropped shots still apply from the next kept shot on.
"""

from __future__ import annotations

import functools
from typing import Any

from sora_cli.errors import Problem, UsageError, choice_list, did_you_mean
from sora_cli.profiles import ProfileError, load_profile
from sora_cli.speech.engine import engine, installed_engines
from sora_cli.speech.voice import DEFAULT_ENGINE
from sora_cli.storyboard.model import Character, Deliverable, Shot, Storyboard, Voice
from sora_cli.storyboard.rules import _check_voice
from sora_cli.storyboard.source import SourceMap


def _profile_size(spec: str, source: SourceMap | None) -> tuple[int | None, int | None]:
    try:
        picture = load_profile(spec, source.base_dir if source else None).picture
    except (ProfileError, OSError):
        return None, None
    return picture.width, picture.height


def output_of(sb: Storyboard, d: Deliverable) -> dict[str, Any]:
    """The ``output`` a deliverable renders with."""
    out = sb.output
    profile = d.profile or out.profile
    pw, ph = _profile_size(profile, sb.source) if d.profile else (None, None)
    return {
        "width": d.width or pw or out.width,
        "height": d.height or ph or out.height,
        "fps": d.fps or out.fps,
        "profile": profile,
        "subtitles": list(d.subtitles) if d.subtitles is not None else list(out.subtitles),
    }


def _cut_down(sb: Storyboard, keep: list[str]) -> list[Any]:
    by_id = {shot.id: i for i, shot in enumerate(sb.shots)}
    shots = []
    previous: int | None = None
    for sid in keep:
        i = by_id[sid]
        shot = sb.shots[i]
        update: dict[str, Any] = {}
        if shot.continuity == "continue" and previous != i - 1:
            update["continuity"] = "cut"
        start = 0 if previous is None else previous + 1
        if start < i:  # world changes of the shots skipped since the last kept one
            changes: dict[str, Any] = {}
            for skipped in sb.shots[start:i]:
                changes.update(skipped.set)
            if changes:
                update["set"] = {**changes, **shot.set}
        shots.append(shot.model_copy(update=update) if update else shot)
        previous = i
    return shots


def voice_in(char: Character, language: str) -> Voice:
    """A character's voice in ``language``: its ``voices`` entry, else its voice (pitch, rate, range, engine)
    speaking that language."""
    if language in char.voices:
        return char.voices[language]
    base = char.voice or Voice()
    return base.model_copy(update={"voice": language_voice(language, base.engine)})


#: language codes espeak-ng spells otherwise (``zh`` is Mandarin: ``cmn``)
ESPEAK_LANGUAGES = {"zh": "cmn", "zh-cn": "cmn", "zh-tw": "cmn"}


@functools.lru_cache(maxsize=256)
def language_voice(language: str, engine_name: str | None = None) -> str:
    """The engine's voice for a language code: ``fr`` -> ``fr-fr``, ``en`` -> ``en-us``, ``ar`` -> ``ar``
    (the code itself when the engine has nothing closer; validate then says it is not a voice)."""
    name = engine_name or DEFAULT_ENGINE
    if name not in installed_engines():
        return language
    language = ESPEAK_LANGUAGES.get(language, language) if name == DEFAULT_ENGINE else language
    voices = set(engine(name).voice_names())
    for candidate in (language, f"{language}-{language}", f"{language}-us"):
        if candidate in voices:
            return candidate
    return next((v for v in sorted(voices) if v.startswith(language + "-")), language)


def _translated(shot: Shot, language: str) -> Shot:
    lines = [
        line.model_copy(update={"line": line.translations[language], "audio": None, "translations": {}})
        for line in shot.dialogue
    ]
    return shot.model_copy(update={"dialogue": lines})


def _in_language(sb: Storyboard, shots: list[Shot], language: str) -> dict[str, Any]:
    characters = {
        cid: c if c.cameo else c.model_copy(update={"voice": voice_in(c, language), "voices": {}})
        for cid, c in sb.world.characters.items()
    }
    return {
        "shots": [_translated(shot, language) for shot in shots],
        "world": sb.world.model_copy(update={"characters": characters}),
    }


def for_deliverable(sb: Storyboard, name: str) -> Storyboard:
    """The storyboard as deliverable ``name`` renders it (a :class:`UsageError` for an unknown name)."""
    names = [d.name for d in sb.deliverables]
    if name not in names:
        if not names:
            raise UsageError(f"--deliverable {name}: the storyboard has no deliverables: list")
        raise UsageError(f"--deliverable: no deliverable {name!r}{did_you_mean(name, names)} ({choice_list(names)})")
    d = sb.deliverables[names.index(name)]
    update: dict[str, Any] = {"output": sb.output.model_copy(update=output_of(sb, d))}
    if d.shots:
        update["shots"] = _cut_down(sb, list(d.shots))
    if d.language:
        update.update(_in_language(sb, update.get("shots", list(sb.shots)), d.language))
    copy = sb.model_copy(update=update)
    copy._source, copy._sha256 = sb.source, sb.sha256
    return copy


def frames(sb: Storyboard) -> list[tuple[str, int, int, str, tuple[str, ...] | None]]:
    """Every frame the storyboard is drawn at: (deliverable name or "", width, height, profile, kept shot ids
    or None for all)."""
    out: list[tuple[str, int, int, str, tuple[str, ...] | None]] = [
        ("", sb.output.width, sb.output.height, sb.output.profile, None)
    ]
    for d in sb.deliverables:
        o = output_of(sb, d)
        out.append((d.name, o["width"], o["height"], o["profile"], tuple(d.shots) if d.shots else None))
    return out


def check_deliverables(sb: Storyboard, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = _modes_once(list(sb.output.subtitles), ("output", "subtitles"), source)
    seen: set[str] = set()
    ids = [shot.id for shot in sb.shots]
    for k, d in enumerate(sb.deliverables):
        base = ("deliverables", k)
        problems += _modes_once(list(d.subtitles or []), base + ("subtitles",), source)
        if d.name in seen:
            problems.append(source.problem(base + ("name",), f"deliverable {d.name!r} is listed twice"))
        seen.add(d.name)
        for j, sid in enumerate(d.shots or []):
            if sid not in ids:
                problems.append(
                    source.problem(
                        base + ("shots", j), f"{sid!r} is not a shot{did_you_mean(sid, ids)} ({choice_list(ids)})"
                    )
                )
            elif list(d.shots or []).count(sid) > 1 and list(d.shots or []).index(sid) != j:
                problems.append(source.problem(base + ("shots", j), f"shot {sid!r} is kept twice"))
        if d.language:
            problems.extend(_check_language(sb, d, base, source))
        if d.profile:
            try:
                load_profile(d.profile, source.base_dir)
            except (ProfileError, OSError) as exc:
                problems.append(source.problem(base + ("profile",), str(exc)))
        if d.profile or d.width or d.height or d.fps:
            problems.extend(_check_profile_picture(sb, d, base, source))
    return problems


def _modes_once(modes: list[str], at: tuple[Any, ...], source: SourceMap) -> list[Problem]:
    """A subtitle mode listed twice is a mistake (``[burn, burn]``), not a request to do it twice."""
    return [
        source.problem(at + (j,), f"{mode!r} is listed twice; list each mode once (none, sidecar, soft, burn)")
        for j, mode in enumerate(modes)
        if mode in modes[:j]
    ]


def _check_profile_picture(sb: Storyboard, d: Deliverable, base: tuple[Any, ...], source: SourceMap) -> list[Problem]:
    """A profile that fixes the frame size or rates (``social-9x16``: 1080x1920) against the deliverable's own
    ``width``/``height``/``fps``: a master that cannot pass its own profile's qc is refused here, not after
    it is rendered."""
    out = output_of(sb, d)
    try:
        picture = load_profile(out["profile"], source.base_dir).picture
    except (ProfileError, OSError):
        return []  # reported with the profile
    problems = []
    for key in ("width", "height"):
        need = getattr(picture, key)
        if need is not None and out[key] != need:
            at = base + (key,) if getattr(d, key) else base + ("profile",)
            problems.append(
                source.problem(
                    at,
                    f"deliverable {d.name!r}: the {out['profile']} profile needs a {key} of {need} "
                    f"(a {picture.width or 'any'}x{picture.height or 'any'} frame), got {out[key]}; "
                    f"leave {key} out to take the profile's",
                )
            )
    if picture.fps and not any(abs(out["fps"] - f) < 1e-3 for f in picture.fps):
        at = base + ("fps",) if d.fps else base + ("profile",)
        allowed = ", ".join(f"{f:g}" for f in picture.fps)
        problems.append(
            source.problem(
                at,
                f"deliverable {d.name!r}: the {out['profile']} profile allows {allowed} fps, got {out['fps']:g}; set fps: to one",
            )
        )
    return problems


def _check_language(sb: Storyboard, d: Deliverable, base: tuple[Any, ...], source: SourceMap) -> list[Problem]:
    """Every line the deliverable keeps has its translation; every speaker has a voice for the language."""
    language = d.language or ""
    kept = set(d.shots) if d.shots else None
    problems: list[Problem] = []
    speakers: set[str] = set()
    for i, shot in enumerate(sb.shots):
        if kept is not None and shot.id not in kept:
            continue
        for j, line in enumerate(shot.dialogue):
            speakers.add(line.speaker)
            if language not in line.translations:
                have = ", ".join(sorted(line.translations)) or "none"
                problems.append(
                    source.problem(
                        ("shots", i, "dialogue", j),
                        f"deliverable {d.name!r} speaks {language}, but this line has no translations.{language} "
                        f"(translations: {have})",
                    )
                )
    for cid in sorted(speakers):
        char = sb.world.characters.get(cid)
        if char is None or char.cameo:
            continue
        at = ("world", "characters", cid, "voices", language) if language in char.voices else base + ("language",)
        problems.extend(_check_voice(voice_in(char, language), at, source))
    return problems
