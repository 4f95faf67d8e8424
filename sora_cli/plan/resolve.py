"""Resolve a checked storyboard into a frozen :class:`Plan`.

Pure apart from reading the assets that timing depends on (recorded takes'
lengths, cameo manifests) and synthesising speech to measure it.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from sora_cli.audio_files import MIX_RATE, AudioFileError, load_take
from sora_cli.cameo.library import Cameo, find_cameo, library_dirs
from sora_cli.errors import Problem, StoryboardError
from sora_cli.plan.colors import outfit_color
from sora_cli.plan.facts import world_facts
from sora_cli.plan.model import (
    Camera,
    Plan,
    PlannedAudio,
    PlannedBackend,
    PlannedLine,
    PlannedSfx,
    PlannedShot,
    PlannedTransition,
    ResolvedCharacter,
    ResolvedWorld,
    Viseme,
)
from sora_cli.plan.prompt import compose_prompt
from sora_cli.plan.seeds import shot_seed
from sora_cli.plan.timing import LineTime, overflow, place_lines, shot_frames, start_frames
from sora_cli.plan.visemes import Segment, from_audio, from_phonemes, on_frames
from sora_cli.plan.voices import assign_voices
from sora_cli.profiles import MIN_PEAK_TO_LOUDNESS, PROFILES, ProfileError, load_profile, loudest_target
from sora_cli.sound_catalog import EFFECTS
from sora_cli.speech.engine import EspeakEngine, speak, speak_ahead
from sora_cli.speech.scripts import unreadable
from sora_cli.speech.voice import ResolvedVoice
from sora_cli.storyboard.limits import MAX_FILM_SECONDS
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.rules import world_changes

SILENT_TAKE = 0.004  # a recorded take whose peak stays below this (-48 dBFS) holds no line


def identity_color(char_id: str, description: str = "") -> str:
    """The colour a character is recognised by when it gives none.

    The first colour its description says for the clothes ("grey parka" ->
    grey; "red hair in a blue suit" -> blue, the red is the hair's), else a
    saturated hue derived from its id.
    """
    if named := outfit_color(description):
        return "#{:02x}{:02x}{:02x}".format(*named)
    h = int.from_bytes(hashlib.sha256(char_id.encode()).digest()[:2], "big") / 65535
    r, g, b = colorsys.hsv_to_rgb(h, 0.72, 0.86)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _profile(sb: Storyboard, problems: list[Problem]) -> tuple[str, float, float]:
    """``output.profile``: a built-in name or a profile file (made absolute); its loudness target and ceiling.

    ``output.loudness`` must leave the mix room under the profile's true-peak
    ceiling (:func:`~sora_cli.profiles.loudest_target`): a louder target
    would be missed (or crush the dialogue), so it is refused here.
    """
    spec = sb.output.profile
    try:
        profile = load_profile(spec, sb.source.base_dir)
    except ProfileError as exc:
        problems.append(sb.source.problem(("output", "profile"), str(exc)))
        return spec, -14.0, -1.0
    ceiling = profile.loudness.true_peak
    wanted = sb.output.loudness
    if wanted is not None and wanted > loudest_target(ceiling):
        problems.append(
            sb.source.problem(
                ("output", "loudness"),
                f"{wanted:g} LUFS is too loud for the {profile.name} profile's {ceiling:g} dBTP true-peak ceiling: "
                f"a mix needs {MIN_PEAK_TO_LOUDNESS:g} LU under it; use -70 to {loudest_target(ceiling):g} LUFS",
            )
        )
    name = spec if spec in PROFILES else str(sb.source.resolve_asset(spec))
    return name, profile.loudness.target, ceiling


def make_plan(sb: Storyboard, cameo_dirs: Path | None = None) -> Plan:
    """The frozen plan of a checked storyboard, in five phases; every problem found is raised at once.

    characters (cameos, voices, colours) -> worlds (``set:`` carried forward, facts
    resolved) -> timing (lines measured from real speech, shot lengths) ->
    transitions -> shots (film times, prompts, lip-sync, effects).
    """
    problems: list[Problem] = []
    characters = resolve_characters(sb, cameo_dirs)
    worlds = resolve_worlds(sb, characters)
    timing = time_shots(sb, characters, problems)
    transitions = plan_transitions(sb, timing.frames, problems)
    profile_name, profile_target, profile_ceiling = _profile(sb, problems)
    if problems:
        raise StoryboardError(problems)
    shots = place_shots(sb, characters, worlds, timing, transitions)
    total = shots[-1].start_frame + shots[-1].frames
    if total / sb.output.fps > MAX_FILM_SECONDS:
        raise StoryboardError(
            [
                sb.source.problem(
                    ("shots",),
                    f"the film would last {total / sb.output.fps / 3600:.1f} hours;"
                    f" at most {MAX_FILM_SECONDS // 3600} hours",
                )
            ]
        )
    source = sb.source
    music = sb.audio.music
    ambience = sb.audio.ambience
    return Plan(
        title=sb.title,
        storyboard=source.file,
        storyboard_hash=sb.sha256,
        base_dir=str(source.base_dir),
        seed=sb.seed,
        width=sb.output.width,
        height=sb.output.height,
        fps=sb.output.fps,
        frames=total,
        duration=total / sb.output.fps,
        loudness=sb.output.loudness if sb.output.loudness is not None else profile_target,
        profile=profile_name,
        true_peak=profile_ceiling,
        subtitles=tuple(sorted(sb.output.subtitle_modes)),
        watermark=sb.output.watermark,
        backend=PlannedBackend(name=sb.backend.name, model=sb.backend.model, options=dict(sb.backend.options)),
        audio=PlannedAudio(
            music=str(source.resolve_asset(music.file)) if music else None,
            music_gain=music.gain if music else 0.0,
            music_duck=music.duck if music else False,
            music_loop=music.loop if music else False,
            ambience=ambience if ambience in ("auto", "none") else str(source.resolve_asset(ambience)),
        ),
        characters=characters,
        shots=tuple(shots),
    )


def resolve_characters(sb: Storyboard, cameo_dirs: Path | None = None) -> dict[str, ResolvedCharacter]:
    """Phase 1: each character's likeness, voice and identity colour (a cameo gives likeness and voice)."""
    source = sb.source
    cameos: dict[str, Cameo] = {
        cid: find_cameo(c.cameo, library_dirs(source.base_dir, cameo_dirs))
        for cid, c in sb.world.characters.items()
        if c.cameo
    }
    voices = assign_voices(sb.world.characters, {cid: cameo.voice for cid, cameo in cameos.items()})
    return {
        cid: ResolvedCharacter(
            id=cid,
            description=c.description,
            reference=tuple(
                str(p)
                for p in (cameos[cid].likeness if cid in cameos else [source.resolve_asset(r) for r in c.reference])
            ),
            voice=voices[cid],
            color=(c.color or identity_color(cid, c.description)).lower(),
            cameo=c.cameo,
            cameo_hash=cameos[cid].content_hash if cid in cameos else None,
            voice_sample=str(cameos[cid].voice_sample) if cid in cameos and cameos[cid].voice_sample else None,
        )
        for cid, c in sorted(sb.world.characters.items())
    }


def resolve_worlds(sb: Storyboard, characters: dict[str, ResolvedCharacter]) -> list[ResolvedWorld]:
    """Phase 2: each shot's world, ``set:`` changes carried forward, and its facts decided once."""
    state = {
        "location": sb.world.location,
        "time_of_day": sb.world.time_of_day,
        "weather": sb.world.weather,
        "lighting": sb.world.lighting,
    }
    props = {pid: p.description for pid, p in sorted(sb.world.props.items())}
    worlds: list[ResolvedWorld] = []
    for shot in sb.shots:
        for _key, parts, value in world_changes(shot.set):
            if parts[0] == "props":
                props[parts[1]] = str(value)
            else:
                state[parts[0]] = value
        in_shot = {pid: props.get(pid, "") for pid in shot.props}  # a lamp in the shot lights it
        facts = world_facts(**state, props=in_shot)
        worlds.append(ResolvedWorld(**state, characters=characters, props=dict(props), facts=facts))
    return worlds


@dataclass
class Timing:
    """Phase 3's result: every line placed in its shot, its lip-sync segments, each shot's length in frames."""

    placed: list[list[LineTime]] = field(default_factory=list)
    sounds: list[list[Segment]] = field(default_factory=list)  # of every line, in storyboard order
    frames: list[int] = field(default_factory=list)


def _unreadable(text: str, voice: ResolvedVoice) -> str | None:
    """Why espeak-ng cannot speak the line in this voice (it would spell it); other engines read their own."""
    return unreadable(text, voice.voice) if voice.engine == EspeakEngine.name else None


def time_shots(sb: Storyboard, characters: dict[str, ResolvedCharacter], problems: list[Problem]) -> Timing:
    """Phase 3: lines measured (recorded takes read, the rest spoken), placed, and each shot's length."""
    source = sb.source
    fps = sb.output.fps
    timing = Timing()
    speak_ahead(
        [
            (line.line, characters[line.speaker].voice, line.delivery)
            for shot in sb.shots
            for line in shot.dialogue
            if not line.audio and _unreadable(line.line, characters[line.speaker].voice) is None
        ]
    )
    for i, shot in enumerate(sb.shots):
        lengths = []
        for j, line in enumerate(shot.dialogue):
            if line.audio:
                try:
                    take = load_take(source.resolve_asset(line.audio))
                    if not len(take) or float(abs(take).max()) < SILENT_TAKE:
                        raise AudioFileError(
                            "it is silent (no sound above -48 dBFS): record the line, or drop `audio:` to synthesise it"
                        )
                    lengths.append(len(take) / MIX_RATE)  # the spoken length, silence trimmed
                    timing.sounds.append(from_audio(take, MIX_RATE))
                except AudioFileError as exc:
                    why = str(exc).replace(str(source.resolve_asset(line.audio)), "the file")
                    problems.append(
                        source.problem(("shots", i, "dialogue", j, "audio"), f"cannot read recorded take: {why}")
                    )
                    lengths.append(0.0)
                    timing.sounds.append([])
            elif (why := _unreadable(line.line, characters[line.speaker].voice)) is not None:
                problems.append(source.problem(("shots", i, "dialogue", j, "line"), why))
                lengths.append(0.0)
                timing.sounds.append([])
            else:
                speech = speak(line.line, characters[line.speaker].voice, line.delivery)
                lengths.append(speech.duration)
                timing.sounds.append(
                    from_phonemes(speech.phonemes) if speech.phonemes else from_audio(speech.samples, speech.rate)
                )
        lines = place_lines([line.at for line in shot.dialogue], lengths)
        timing.placed.append(lines)
        n = shot_frames(shot.duration, lines, fps)
        timing.frames.append(n)
        if shot.duration is not None:
            for j, over in overflow(n / fps, lines):
                problems.append(
                    source.problem(
                        ("shots", i, "dialogue", j),
                        f"line {shot.dialogue[j].line!r} ends at {lines[j].end:.2f} s, {math.ceil(over * 100) / 100:.2f} s past the end of "
                        f"shot {shot.id!r} ({n / fps:g} s); lengthen the shot, drop its duration, or start the line earlier",
                    )
                )
        for j, sfx in enumerate(shot.sfx):
            if sfx.at >= n / fps:
                problems.append(
                    source.problem(
                        ("shots", i, "sfx", j, "at"),
                        f"{sfx.at:g} s is past the end of shot {shot.id!r} ({n / fps:g} s)",
                    )
                )
    return timing


def plan_transitions(sb: Storyboard, frames: list[int], problems: list[Problem]) -> list[PlannedTransition]:
    """Phase 4: each shot's entry transition in whole frames, no longer than the shots it joins."""
    fps = sb.output.fps
    transitions: list[PlannedTransition] = []
    for i, shot in enumerate(sb.shots):
        t = shot.transition
        if t.type == "cut":
            transitions.append(PlannedTransition(type="cut", duration=0.0, frames=0))
            continue
        tf = max(1, round(t.duration * fps))
        limit = frames[i] if i == 0 else min(frames[i - 1], frames[i])
        if tf > limit:
            problems.append(
                sb.source.problem(
                    ("shots", i, "transition", "duration"),
                    f"a {t.duration:g} s {t.type} is longer than the shots it joins ({limit / fps:g} s)",
                )
            )
        transitions.append(PlannedTransition(type=t.type, duration=tf / fps, frames=tf))
    for i in range(len(sb.shots) - 1):  # a shot's entry and exit overlap it from either end: they must not meet
        entering, leaving = sb.shots[i].transition, sb.shots[i + 1].transition
        if not (transitions[i].frames and transitions[i + 1].frames):
            continue
        # judged on the storyboard's own seconds, so a draft's frame rate never changes the verdict
        length = sb.shots[i].duration or frames[i] / fps
        if entering.duration + leaving.duration > length + 1e-9:
            if max(transitions[i].frames, transitions[i + 1].frames) <= frames[i]:  # (else said above)
                problems.append(
                    sb.source.problem(
                        ("shots", i + 1, "transition", "duration"),
                        f"this {leaving.type} and the {entering.type} entering shot {sb.shots[i].id!r} overlap it "
                        f"from both ends ({leaving.duration:g} s + {entering.duration:g} s), longer than its "
                        f"{round(length, 3):g} s: together they must fit in it",
                    )
                )
        elif (over := transitions[i].frames + transitions[i + 1].frames - frames[i]) > 0:
            # they fit in seconds, but rounding to whole frames made them meet: the exit gives up the frame
            tf = transitions[i + 1].frames - over
            transitions[i + 1] = PlannedTransition(type=leaving.type, duration=tf / fps, frames=tf)
    return transitions


def place_shots(
    sb: Storyboard,
    characters: dict[str, ResolvedCharacter],
    worlds: list[ResolvedWorld],
    timing: Timing,
    transitions: list[PlannedTransition],
) -> list[PlannedShot]:
    """Phase 5: every shot at its place in the film, with its prompt, lines (and their mouths) and effects."""
    source = sb.source
    fps = sb.output.fps
    frames = timing.frames
    overlaps = [0] + [tr.frames for tr in transitions[1:]]
    starts = start_frames(frames, overlaps)
    shots: list[PlannedShot] = []
    line_sounds = iter(timing.sounds)
    for i, shot in enumerate(sb.shots):
        start = starts[i] / fps
        camera = Camera(framing=shot.camera.framing, move=shot.camera.move)
        cast = tuple(shot.cast)
        shots.append(
            PlannedShot(
                id=shot.id,
                index=i,
                start=start,
                duration=frames[i] / fps,
                start_frame=starts[i],
                frames=frames[i],
                continuity=shot.continuity,
                continues=sb.shots[i - 1].id if shot.continuity == "continue" else None,
                transition=transitions[i],
                seed=shot_seed(sb.seed, shot.id),
                world=worlds[i],
                cast=cast,
                props=tuple(shot.props),
                action=shot.action,
                camera=camera,
                prompt=compose_prompt(sb.style, worlds[i], cast, tuple(shot.props), shot.action, camera),
                negative=sb.negative,
                dialogue=tuple(
                    PlannedLine(
                        speaker=line.speaker,
                        line=line.line,
                        delivery=line.delivery,
                        at=t.at,
                        start=start + t.at,
                        end=start + t.end,
                        audio=str(source.resolve_asset(line.audio)) if line.audio else None,
                        visemes=tuple(
                            Viseme(t=round((starts[i] + k) / fps, 6), shape=shape)
                            for k, shape in on_frames(next(line_sounds), t.length, t.at, fps)
                        ),
                    )
                    for line, t in zip(shot.dialogue, timing.placed[i], strict=True)
                ),
                sfx=tuple(
                    PlannedSfx(
                        sound=sfx.sound if sfx.sound in EFFECTS else str(source.resolve_asset(sfx.sound)),
                        is_file=sfx.sound not in EFFECTS,
                        at=sfx.at,
                        start=start + sfx.at,
                        gain=sfx.gain,
                    )
                    for sfx in shot.sfx
                ),
                shows_cameo=any(characters[c].cameo for c in cast),
            )
        )
    return shots
