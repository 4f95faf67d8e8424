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


def backend_class(name: str | type) -> type[Backend]:
    """The backend class registered as ``name``, or an exit-2 error listing the installed ones.

    A class is taken as it is (the Python API and tests may pass one directly).
    The result always has the whole contract (:func:`with_contract`).
    """
    if isinstance(name, type):
        return with_contract(name)
    found = installed_backends()
    if name not in found:
        names = sorted(found)
        raise UsageError(f"no backend {name!r}{did_you_mean(name, names)} (installed: {choice_list(names)})")
    entry = found[name]
    return with_contract(entry if isinstance(entry, type) else entry.load())


@functools.cache
def with_contract(cls: type) -> type[Backend]:
    """``cls`` itself when it subclasses :class:`Backend`; else a subclass of both that fills in the defaults.

    Resolved once, here: the rest of sora never asks whether a backend has a
    part of the contract. A class written before ``on_step`` was a parameter
    (``render_shot(shot, carry)``) keeps working: it is given the callback as an
    ``on_step`` attribute, as it was then.
    """
    if issubclass(cls, Backend):
        return cls
    namespace: dict[str, Any] = {"__module__": cls.__module__, "__doc__": cls.__doc__}
    if "on_step" not in inspect.signature(cls.render_shot).parameters:

        def render_shot(self: Any, shot: Any, carry: Carry | None, on_step: OnStep | None = None) -> ShotRender:
            if hasattr(self, "on_step"):
                self.on_step = on_step
            return cls.render_shot(self, shot, carry)

        namespace["render_shot"] = render_shot
    return type(cls.__name__, (cls, Backend), namespace)
