"""The backend contract, whole, in one file: a third-party backend author reads only this.

A backend is a subclass of :class:`Backend` registered in the ``sora_cli.backends``
entry-point group (``[project.entry-points."sora_cli.backends"] NAME = "pkg.mod:Class"``),
so installing a package adds it. Per render it is made once per worker, opened
once with the film's :class:`FilmSettings` (prepare each character's
conditioning there, once), asked for shots in order, and closed.

Rendering a shot takes the planned shot and the :class:`Carry` of the shot it
continues (``None`` for a cut), yields frames as they are made, and leaves the
new carry on the returned :class:`ShotRender` once the frames are exhausted.
Frames are ``uint8`` arrays of shape ``(height, width, 3 or 4)`` (RGB or RGBA),
exactly ``shot.frames`` of them. A yielded frame is only valid until the next
one is requested: backends may draw every frame into the same buffer.

Everything else has a default a backend overrides when it needs to: the checks
run before anything renders (``check_options``, ``check_model``, ``check_film``),
whether its imagery is generative (then it is watermarked and labelled so), its
cache identity (``identity_for``), and whether its model makes sound
(``model_audio``). Progress inside a shot (a denoising step) is reported through
the ``on_step`` callback ``render_shot`` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sora_cli.errors import did_you_mean
from sora_cli.plan.model import Plan, PlannedShot, ResolvedCharacter
from sora_cli.profiles import ProfileError, load_profile
from sora_cli.textfit import DEFAULT_SAFE, profile_fractions, subtitle_band_top


def plan_safe_area(plan: Plan) -> tuple[float, float, float, float]:
    """The title-safe area of the plan's delivery profile (the default one when it cannot be read:
    validate reports a bad profile; the picture still needs somewhere to put its text)."""
    try:
        return profile_fractions(load_profile(plan.profile, Path(plan.base_dir)))
    except (ProfileError, OSError):
        return DEFAULT_SAFE


@dataclass(frozen=True)
class FilmSettings:
    """What a backend needs to know about the whole film (a slice of the Plan)."""

    width: int
    height: int
    fps: int
    characters: dict[str, ResolvedCharacter]
    options: dict[str, Any]
    model: str | None
    base_dir: Path
    negative: str = ""
    #: where text may go: the profile's title-safe area as shares of the frame (see :mod:`sora_cli.textfit`)
    safe: tuple[float, float, float, float] = DEFAULT_SAFE
    #: drawn labels keep above this share of the height: the top of the burned subtitles' band (1.0: none)
    text_bottom: float = 1.0

    @classmethod
    def from_plan(
        cls, plan: Plan, width: int | None = None, height: int | None = None, fps: int | None = None
    ) -> FilmSettings:
        return cls(
            width=width or plan.width,
            height=height or plan.height,
            fps=fps or plan.fps,
            characters=dict(plan.characters),
            options=dict(plan.backend.options),
            model=plan.backend.model,
            base_dir=Path(plan.base_dir),
            negative=plan.shots[0].negative if plan.shots else "",
            safe=plan_safe_area(plan),
            text_bottom=subtitle_band_top(width or plan.width, height or plan.height, plan_safe_area(plan))
            if "burn" in plan.subtitles
            else 1.0,
        )


Film = FilmSettings  # the name before issue 12, for code written against it; say FilmSettings


@dataclass
class Carry:
    """State handed from a shot to the ``continue`` shot after it.

    ``last_frame`` is always there; ``state`` is whatever the backend needs to
    continue exactly (camera pose, positions, particles, RNG). It must pickle,
    because chains may move between processes. ``latents`` is a generative
    backend's last latents (a plain float32 array on the CPU, never a tensor),
    for families that continue from latents rather than frames. ``audio`` is
    the sound a model generated with the shot's picture (float32, samples x
    channels, at ``audio_rate``), for the mix.
    """

    shot_id: str
    last_frame: np.ndarray
    state: dict[str, Any] = field(default_factory=dict)
    latents: np.ndarray | None = None
    audio: np.ndarray | None = None
    audio_rate: int = 0


class ShotRender:
    """Iterate it for frames; afterwards ``carry`` holds the state to continue from."""

    def __init__(self, frames: Generator[np.ndarray, None, Carry]):
        self._frames = frames
        self.carry: Carry | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        self.carry = yield from self._frames


#: reports progress inside a shot: (steps done, steps in all), e.g. denoising steps
OnStep = Callable[[int, int], None]


class Backend:
    """Subclass this: ``name``, ``version`` and :meth:`render_shot` are required, the rest has defaults.

    Class-level parts are read before any instance exists (by ``sora validate``,
    the cache keys, the report); instance methods run in the render's workers.
    """

    #: the name storyboards use (``backend.name``) and the report shows
    name: ClassVar[str]
    #: bump whenever the pixels or the carried state change: it is part of every shot's cache key
    version: ClassVar[str]
    #: True for imagery a trained model makes: the film is watermarked and its manifest says so
    generative: ClassVar[bool] = False
    #: True when the picture depends on a recorded take's sound itself (a line's ``audio``), not only on the
    #: mouth shapes the plan takes from it (every shot's key holds those): the take's content then joins the key
    hears_takes: ClassVar[bool] = False
    #: the channels every frame has (3: RGB, 4: RGBA) when known before drawing: the shot's encoder then
    #: starts before the first frame, so ffmpeg loads while the shot is set up (None: at the first frame)
    frame_channels: ClassVar[int | None] = None

    # --- checked before anything renders (``sora validate`` and every render) -----------------

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        """Problems with ``backend.options`` as (option, message); :func:`check_option_types` helps.

        The default accepts any options.
        """
        return []

    @classmethod
    def check_model(cls, model: str | None, base_dir: Path) -> str | None:
        """Why ``backend.model`` cannot be used (a located problem), or None; the default accepts any."""
        return None

    @classmethod
    def check_film(
        cls,
        model: str | None,
        base_dir: Path,
        options: dict[str, Any],
        width: int,
        height: int,
        fps: int,
        longest: float | None = None,
    ) -> list[tuple[tuple[str, ...], str]]:
        """Film settings the backend cannot honour, as (storyboard field path, message); default none.

        ``longest``: the longest shot's seconds when every shot says its duration (else None).
        """
        return []

    # --- what the rest of the render needs to know -------------------------------------------

    @classmethod
    def identity_for(cls, film: FilmSettings) -> dict[str, Any]:
        """Everything besides the plan that changes the pixels: hashed into every shot's cache key.

        Override to add what else does (the content of a model's weights, say).
        """
        return {"name": cls.name, "version": cls.version, "options": film.options, "model": film.model}

    @classmethod
    def model_audio(cls, model: str | None, base_dir: Path, options: dict[str, Any]) -> str | None:
        """``"ambience"`` or ``"all"`` when the model makes sound (left in :attr:`Carry.audio`); default None."""
        return None

    # --- a render ----------------------------------------------------------------------------

    def open(self, film: FilmSettings) -> None:
        """Prepare for a film: load models, prepare character conditioning once."""

    def render_shot(self, shot: PlannedShot, carry: Carry | None, on_step: OnStep | None = None) -> ShotRender:
        """The frames of one shot; ``carry`` is the previous shot's when it continues (else None)."""
        raise NotImplementedError

    def key_frame(self, shot: PlannedShot) -> np.ndarray:
        """One representative frame (RGB) of the shot, for the storyboard sheet: by default its middle frame."""
        frames = [frame[:, :, :3].copy() for frame in self.render_shot(shot, None)]
        return frames[len(frames) // 2]

    def close(self) -> None:
        """Release what :meth:`open` took (models, GPU memory)."""


def check_option_types(backend: str, options: dict[str, Any], types: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with a backend's ``options`` as (key, message): unknown keys (with a hint) and wrong types.

    ``types`` maps each option to its type (or tuple of types); a bool is not
    accepted where a number is asked for.
    """
    problems = []
    for key, value in options.items():
        if key not in types:
            problems.append(
                (key, f"unknown {backend} option {key!r}{did_you_mean(key, types)} (options: {', '.join(types)})")
            )
            continue
        expected = types[key] if isinstance(types[key], tuple) else (types[key],)
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            names = " or ".join("true or false" if t is bool else "text" if t is str else "a number" for t in expected)
            problems.append((key, f"expected {names}, got {value!r}"))
    return problems
