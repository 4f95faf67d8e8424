"""The Plan: the single, frozen source of truth for everything after ``plan/``.

Times are kept in frames as well as seconds: picture is cut on frames, so the
plan decides frame counts once and every later stage (render, sound, assemble)
places its work by them. Nothing downstream re-derives timing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from sora_cli.portable import portable_paths
from sora_cli.speech.voice import ResolvedVoice


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ResolvedCharacter(Frozen):
    id: str
    description: str
    reference: tuple[str, ...]  # absolute paths of likeness images (a cameo's included)
    voice: ResolvedVoice
    color: str  # '#rrggbb', stable for the whole film
    cameo: str | None = None
    cameo_hash: str | None = None  # the capture's hash, never its data
    voice_sample: str | None = None  # absolute path of a cameo's recorded voice (its record's voice_sample), if any


class WorldFacts(Frozen):
    """The physical facts of a shot's world, resolved once (``plan/facts.py``) and obeyed by every stage.

    Nothing downstream reads the place from the location's words again: the
    picture draws this place and lets this weather reach the camera, the
    ambience plays this place and hears the weather as said here.
    """

    place: str  # ice, mountains, city, market, interior, forest, sea, desert, neutral
    indoors: bool
    surface: str  # what the cast stands on: floor, snow, ice, sand, grass, asphalt, deck, ground
    light_sources: tuple[str, ...]  # named sources (lamp, lantern, neon, ...) and sun, moon or windows
    weather_at_camera: str  # what falls between the camera and the cast: the weather outdoors, clear indoors
    weather_beyond_windows: str  # indoors: the weather seen through the windows ("" outdoors)
    weather_heard: str  # full (outdoors), muffled (indoors, through the walls) or none
    windows: bool = True  # indoors: False for "a room with no windows" (nothing of the outside is seen)
    reason: str = ""  # which rule of plan/place_kinds.py decided the place ("head noun: hallway", ...)


class ResolvedWorld(Frozen):
    location: str
    time_of_day: str
    weather: str
    lighting: str
    characters: dict[str, ResolvedCharacter]
    props: dict[str, str]  # prop id -> description, as changed by `set:`
    facts: WorldFacts


class Viseme(Frozen):
    """A mouth shape (Rhubarb Lip Sync letter, see ``plan/visemes.py``) from film time ``t`` on."""

    t: float  # seconds from the film's start, on a frame
    shape: str


class PlannedLine(Frozen):
    speaker: str
    line: str
    delivery: str
    at: float  # seconds from the shot's start
    start: float  # seconds from the film's start
    end: float
    audio: str | None = None  # absolute path of a recorded take
    visemes: tuple[Viseme, ...] = ()  # lip-sync: shape changes in film time, ending at rest (X)


class PlannedSfx(Frozen):
    sound: str  # built-in name, or absolute path of a file
    is_file: bool
    at: float
    start: float
    gain: float


class PlannedTransition(Frozen):
    type: str
    duration: float  # seconds, 0 for a cut
    frames: int


class Camera(Frozen):
    framing: str
    move: str


class PlannedShot(Frozen):
    id: str
    index: int
    start: float
    duration: float
    start_frame: int
    frames: int
    continuity: str
    continues: str | None  # id of the shot this one continues
    transition: PlannedTransition
    seed: int
    world: ResolvedWorld
    cast: tuple[str, ...]
    props: tuple[str, ...]
    action: str
    camera: Camera
    prompt: str
    negative: str
    dialogue: tuple[PlannedLine, ...]
    sfx: tuple[PlannedSfx, ...]
    shows_cameo: bool

    @property
    def end(self) -> float:
        return self.start + self.duration


class PlannedAudio(Frozen):
    music: str | None
    music_gain: float
    music_duck: bool
    music_loop: bool
    ambience: str  # auto | none | absolute path


class PlannedBackend(Frozen):
    name: str
    model: str | None
    options: dict[str, Any]


class Plan(Frozen):
    title: str
    storyboard: str  # the file it came from (display name)
    storyboard_hash: str  # sha256 of the storyboard text
    base_dir: str
    seed: int
    width: int
    height: int
    fps: int
    frames: int
    duration: float
    loudness: float
    profile: str = "web"  # a built-in profile's name or the absolute path of a profile file
    true_peak: float = -1.0  # the profile's true-peak ceiling, dBTP: the mix's limiter aims under it
    subtitles: tuple[str, ...]
    watermark: str
    backend: PlannedBackend
    audio: PlannedAudio
    characters: dict[str, ResolvedCharacter]
    shots: tuple[PlannedShot, ...]

    def shot(self, shot_id: str) -> PlannedShot:
        for shot in self.shots:
            if shot.id == shot_id:
                return shot
        raise KeyError(shot_id)

    def summary(self) -> dict[str, Any]:
        """The documented ``sora plan --json`` shape (a superset of it), paths relative to the storyboard."""
        keys = frozenset({"storyboard", "base_dir", "reference", "music", "ambience", "audio", "sound", "voice_sample"})
        return portable_paths(self.model_dump(mode="json"), Path(self.base_dir), keys)
