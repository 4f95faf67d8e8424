"""Backends by name: the built-in animatic and whatever the ``sora_cli.backends`` entry points register.

Kept apart from the contract (:mod:`sora_cli.render.backend`) so that the
contract imports no backend and every backend imports only the contract.
"""

from __future__ import annotations

import functools
import inspect
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from sora_cli.errors import UsageError, choice_list, did_you_mean
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import Backend, Carry, OnStep, ShotRender

ENTRY_POINT_GROUP = "sora_cli.backends"
#: backends that ship with sora, found even in a source tree that was never pip-installed
BUILT_IN: dict[str, type[Backend]] = {AnimaticBackend.name: AnimaticBackend}


@functools.cache
def installed_backends() -> dict[str, EntryPoint | type[Backend]]:
    """Every backend name, with its entry point (or, built in, its class); read once per process:
    scanning every installed distribution's entry points costs ~50 ms, and a render asks several times."""
    found: dict[str, EntryPoint | type[Backend]] = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found.update(BUILT_IN)
    return found


#: where each looked-up class came from (``entry point solid = sora_solid:Solid``), for messages
_ORIGIN: dict[type, str] = {}


def backend_class(name: str | type) -> type[Backend]:
    """The backend class registered as ``name``, or an exit-2 error listing the installed ones.

    A class is taken as it is (the Python API and tests may pass one directly).
    The result always has the whole contract (:func:`with_contract`); a class
    that cannot be loaded or lacks its ``name`` or ``version`` is a one-line
    usage error naming the backend and its entry point, before anything renders.
    """
    if isinstance(name, type):
        return _checked(name, f"backend class {name.__module__}.{name.__qualname__}")
    if not isinstance(name, str):
        raise UsageError(f"backend must be a name or a backend class, not {type(name).__name__}")
    found = installed_backends()
    if name not in found:
        names = sorted(found)
        raise UsageError(f"no backend {name!r}{did_you_mean(name, names)} (installed: {choice_list(names)})")
    entry = found[name]
    if isinstance(entry, type):
        return _checked(entry, f"backend {name!r} (built in)")
    where = f"backend {name!r} (entry point {entry.name} = {entry.value})"
    try:
        loaded = entry.load()
    except Exception as exc:  # a missing module or class, or one that fails on import: the plugin's fault
        raise UsageError(f"{where}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    return _checked(loaded, where)


def _checked(cls: Any, where: str) -> type[Backend]:
    """``cls`` with the whole contract, or a usage error saying what of it is missing."""
    if not isinstance(cls, type):
        raise UsageError(f"{where}: names {type(cls).__name__} {cls!r}, not a class")
    missing = [
        f"`{part}` (a str class attribute)"
        for part in ("name", "version")
        if not isinstance(getattr(cls, part, None), str) or not getattr(cls, part)
    ]
    if not callable(getattr(cls, "render_shot", None)):
        missing.append("`render_shot(self, shot, carry, on_step=None)`")
    if missing:
        raise UsageError(f"{where}: the class has no {' and no '.join(missing)} (see sora_cli.render.backend.Backend)")
    contracted = with_contract(cls)
    _ORIGIN.setdefault(contracted, where)
    return contracted


def origin(cls: type) -> str:
    """``backend 'solid' (entry point solid = sora_solid:Solid)``: how messages name a backend class."""
    return _ORIGIN.get(cls, f"backend {getattr(cls, 'name', cls.__name__)!r}")


def checked_pairs(cls: type, result: Any, part: str) -> list[tuple[str, str]]:
    """A backend's ``check_options``/``check_film`` answer as (field, message) pairs, or a usage error naming it."""
    if result is None:
        return []
    pairs = list(result) if isinstance(result, (list, tuple)) else None
    if pairs is None or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        raise UsageError(
            f"{origin(cls)}: {part} returned {type(result).__name__} {result!r:.60}, not a list of (field, message) pairs"
        )
    return pairs


@functools.cache
def with_contract(cls: type) -> type[Backend]:
    """``cls`` itself when it subclasses :class:`Backend`; else a subclass of both that fills in the defaults.

    Resolved once, here: the rest of sora never asks whether a backend has a
    part of the contract. A class written before ``on_step`` was a parameter
    (``render_shot(shot, carry)``), a subclass of :class:`Backend` or not, keeps
    working: it is given the callback as an ``on_step`` attribute, as it was then.
    """
    old_signature = "on_step" not in inspect.signature(cls.render_shot).parameters
    if issubclass(cls, Backend) and not old_signature:
        return cls
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__doc__": cls.__doc__}
    if old_signature:  # a subclass of Backend written with the old signature too

        def render_shot(self: Any, shot: Any, carry: Carry | None, on_step: OnStep | None = None) -> ShotRender:
            if hasattr(self, "on_step"):
                self.on_step = on_step
            return cls.render_shot(self, shot, carry)

        namespace["render_shot"] = render_shot
    return type(cls.__name__, (cls,) if issubclass(cls, Backend) else (cls, Backend), namespace)
