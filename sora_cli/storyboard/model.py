"""The typed model of a storyboard, version 1 (``shared/storyboard-format.md``).

Field-level rules live here (types, enums, ranges, id patterns); rules that
relate fields to each other (a speaker must be a character, ``continue`` is
not allowed first, ...) live in :mod:`sora_cli.storyboard.rules` because they
need the whole document and its source marks to explain themselves.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, WithJsonSchema, field_validator

from sora_cli.storyboard.limits import MAX_FPS, MAX_SHOTS, MAX_TEXT_CHARS

TimeOfDay = Literal["dawn", "day", "golden_hour", "dusk", "night"]
Weather = Literal["clear", "cloudy", "rain", "snow", "blizzard", "fog", "storm"]
Framing = Literal["extreme_wide", "wide", "medium", "close_up", "extreme_close_up"]
Move = Literal[
    "static", "pan_left", "pan_right", "tilt_up", "tilt_down",
    "zoom_in", "zoom_out", "dolly_in", "dolly_out", "handheld",
]  # fmt: skip
Continuity = Literal["cut", "continue"]
TransitionType = Literal["cut", "crossfade", "fade_black", "fade_white"]
Delivery = Literal["normal", "whisper", "shout"]
SubtitleMode = Literal["none", "sidecar", "soft", "burn"]
WatermarkMode = Literal["auto", "on", "off"]

Name = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=64)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$", max_length=32)]  # an espeak-ng language
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Seconds = Annotated[float, Field(ge=0, le=3600)]
Decibels = Annotated[float, Field(ge=-80, le=24)]

_SUBTITLE_ENUM = {"enum": ["none", "sidecar", "soft", "burn"]}
_SUBTITLES_SCHEMA = {"anyOf": [_SUBTITLE_ENUM, {"type": "array", "items": _SUBTITLE_ENUM}], "default": "sidecar"}

#: Default transition length when a non-cut transition gives none.
DEFAULT_TRANSITION_SECONDS = 0.5


class Strict(BaseModel):
    """Every model forbids unknown keys: a typo must never silently do nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Output(Strict):
    width: int = Field(1280, ge=64, le=4096, multiple_of=2)
    height: int = Field(720, ge=64, le=4096, multiple_of=2)
    fps: int = Field(24, ge=1, le=MAX_FPS)
    loudness: float | None = Field(
        None, ge=-70, le=-5, description="integrated LUFS target of the final mix (default: the profile's, -14 for web)"
    )
    profile: str = Field(
        "web",
        min_length=1,
        description="delivery profile: web | ebu-r128 | ebu-r128-s1 | atsc-a85 | social-9x16 | "
        "social-1x1, or a profile .yaml file",
    )
    subtitles: Annotated[list[SubtitleMode], WithJsonSchema(_SUBTITLES_SCHEMA)] = Field(
        default_factory=lambda: ["sidecar"], description="none | sidecar | soft | burn, or a list"
    )
    watermark: WatermarkMode = "auto"

    @field_validator("subtitles", mode="before")
    @classmethod
    def _one_mode_is_a_list(cls, value: Any) -> Any:
        """``subtitles: soft`` is the one-element list ``[soft]``."""
        return [value] if isinstance(value, str) else value

    @property
    def subtitle_modes(self) -> frozenset[str]:
        return frozenset(self.subtitles) - {"none"}


class Backend(Strict):
    name: Name = "animatic"
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


class Voice(Strict):
    """How a character sounds; the speech engine maps these as closely as it can."""

    voice: str | None = Field(None, description="engine voice, e.g. en-us, en-gb+f3")
    pitch: int | None = Field(None, ge=0, le=99)
    rate: int | None = Field(None, ge=80, le=450, description="words per minute")
    range: int | None = Field(None, ge=0, le=99, description="pitch variation")
    engine: Name | None = Field(None, description="speech engine; the default one when absent")


class Character(Strict):
    description: Text = ""
    reference: list[str] = Field(default_factory=list, description="likeness images")
    voice: Voice | None = None
    voices: dict[Language, Voice] = Field(default_factory=dict, description="a voice per deliverable language")
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    cameo: Name | None = None


class Prop(Strict):
    description: Text = ""


class World(Strict):
    location: Text
    time_of_day: TimeOfDay = "day"
    weather: Weather = "clear"
    lighting: Text = "natural"
    characters: dict[Name, Character] = Field(default_factory=dict)
    props: dict[Name, Prop] = Field(default_factory=dict)


class Music(Strict):
    file: str
    gain: Decibels = -18
    duck: bool = True
    loop: bool = True


class Audio(Strict):
    music: Music | None = None
    ambience: str = Field("auto", description="auto | none | a file")


class Camera(Strict):
    framing: Framing = "medium"
    move: Move = "static"


class Transition(Strict):
    type: TransitionType = "cut"
    duration: float = Field(DEFAULT_TRANSITION_SECONDS, gt=0, le=10)


class Line(Strict):
    speaker: Name
    line: Text = Field(min_length=1)
    at: Seconds | None = None
    delivery: Delivery = "normal"
    audio: str | None = Field(None, description="a recorded take used instead of synthesis")
    translations: dict[Language, Text] = Field(default_factory=dict, description="the line in other languages")


class Sfx(Strict):
    sound: str = Field(min_length=1, description="a built-in sound name or a file")
    at: Seconds = 0
    gain: Decibels = 0


class Shot(Strict):
    id: Name
    duration: float | None = Field(None, gt=0, le=600)
    action: Text = ""
    camera: Camera = Camera()
    cast: list[Name] = Field(default_factory=list)
    props: list[Name] = Field(default_factory=list)
    sfx: list[Sfx] = Field(default_factory=list)
    dialogue: list[Line] = Field(default_factory=list)
    continuity: Continuity = "cut"
    transition: Transition = Transition()
    set: dict[str, Any] = Field(default_factory=dict, description="world-state changes from this shot on")


class Deliverable(Strict):
    """One master of a campaign: the film again at another size, rate, profile or length.

    Unset fields keep the storyboard's ``output`` (a size comes from the profile when the
    profile fixes one); ``shots`` keeps those shots, in that order (a cut-down).
    """

    name: Name
    width: int | None = Field(None, ge=64, le=4096, multiple_of=2)
    height: int | None = Field(None, ge=64, le=4096, multiple_of=2)
    fps: int | None = Field(None, ge=1, le=120)
    profile: str | None = Field(None, min_length=1, description="delivery profile (default: output.profile)")
    subtitles: Annotated[list[SubtitleMode] | None, WithJsonSchema(_SUBTITLES_SCHEMA)] = None
    language: Language | None = Field(None, description="speak and subtitle each line's translation")
    shots: list[Name] | None = Field(None, min_length=1, description="a cut-down: the shot ids to keep, in order")

    @field_validator("subtitles", mode="before")
    @classmethod
    def _one_mode_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Storyboard(Strict):
    version: Literal[1]
    title: Text = Field(min_length=1)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    style: Text = ""
    negative: Text = ""
    output: Output = Output()
    backend: Backend = Backend()
    world: World
    audio: Audio = Audio()
    shots: list[Shot] = Field(min_length=1, max_length=MAX_SHOTS)
    deliverables: list[Deliverable] = Field(default_factory=list, description="masters rendered by --deliverable")

    _source: Any = PrivateAttr(default=None)
    _sha256: str = PrivateAttr(default="")

    @property
    def source(self) -> Any:
        """The :class:`~sora_cli.storyboard.source.SourceMap` it was loaded from."""
        return self._source

    @property
    def sha256(self) -> str:
        """Hash of the storyboard's text, recorded in reports and provenance."""
        return self._sha256
