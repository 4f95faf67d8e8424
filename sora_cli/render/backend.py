"""The backend contract: the one place that knows how pixels are made.

A backend is opened once per render with the film's settings (it prepares each
character's conditioning there, once), then renders shots in order. Rendering a
shot takes the planned shot and the :class:`Carry` of the shot it continues
(``None`` for a cut), yields frames as they are made, and leaves the new carry
on the returned :class:`ShotRender` once the frames are exhausted.

Frames are ``uint8`` arrays of shape ``(height, width, 3 or 4)`` (RGB or RGBA).
A yielded frame is only valid until the next one is requested: backends may
draw every frame into the same buffer, and consumers write it out at once.

Backends are found by name in the ``sora_cli.backends`` entry-point group, so
a third party adds one by installing a package. A backend whose pixels depend
on more than its name, version, options and model (say, the content of its
weights) adds a classmethod ``identity_for(film) -> dict`` for the cache keys;
one that makes generative imagery sets ``generative = True`` (it is watermarked).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from sora_cli.errors import UsageError, choice_list, did_you_mean
from sora_cli.plan.model import Plan, PlannedShot, ResolvedCharacter
from sora_cli.textfit import DEFAULT_SAFE, profile_fractions

ENTRY_POINT_GROUP = "sora_cli.backends"


def plan_safe_area(plan: Plan) -> tuple[float, float, float, float]:
    """The title-safe area of the plan's delivery profile (the default one when it cannot be read:
    validate reports a bad profile; the picture still needs somewhere to put its text)."""
    from sora_cli.profiles import ProfileError, load_profile

    try:
        return profile_fractions(load_profile(plan.profile, Path(plan.base_dir)))
    except (ProfileError, OSError):
        return DEFAULT_SAFE


@dataclass(frozen=True)
class Film:
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

    @classmethod
    def from_plan(cls, plan: Plan, width: int | None = None, height: int | None = None, fps: int | None = None) -> Film:
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
        )


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


@runtime_checkable
class Backend(Protocol):
    name: ClassVar[str]
    version: ClassVar[str]

    def open(self, film: Film, progress: Callable[[str], None] | None = None) -> None:
        """Prepare for a film: load models, prepare character conditioning once."""

    def render_shot(self, shot: PlannedShot, carry: Carry | None) -> ShotRender:
        """Frames of one shot; ``carry`` is the previous shot's when it continues."""
        ...

    def key_frame(self, shot: PlannedShot) -> np.ndarray:
        """One representative frame of the shot (for the storyboard sheet)."""
        ...

    def close(self) -> None: ...


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


@functools.cache
def installed_backends() -> dict[str, Any]:
    """The registered backends, read once per process: scanning every installed distribution's
    entry points costs ~50 ms, and a render asks five times (``sora watch`` on every update)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if "animatic" not in found:  # running from a source tree that was not pip-installed
        found["animatic"] = None
    return found


def backend_class(name: str | type) -> type:
    """The backend class registered as ``name``, or an exit-2 error listing the installed ones.

    A class is returned as it is (the Python API and tests may pass one directly).
    """
    if isinstance(name, type):
        return name
    found = installed_backends()
    if name not in found:
        names = sorted(found)
        raise UsageError(f"no backend {name!r}{did_you_mean(name, names)} (installed: {choice_list(names)})")
    if found[name] is None:
        from sora_cli.render.animatic import AnimaticBackend

        return AnimaticBackend
    return found[name].load()
