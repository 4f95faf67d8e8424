"""The ``animatic`` backend: a procedural previz renderer, deterministic to the byte.

The backend class is :class:`sora_cli.render.animatic.backend.AnimaticBackend`;
the modules beside it draw one part each (place, sky, weather, figures, props,
tags, camera, motion, staging). This package file imports nothing when it
is imported, so the parts import each other without passing through it;
``from sora_cli.render.animatic import AnimaticBackend`` still works, loading
the class on first use (the module ``__getattr__`` below).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["AnimaticBackend"]


def __getattr__(name: str) -> Any:
    """``AnimaticBackend``, imported from its module when first asked for (no cycle at package import)."""
    if name == "AnimaticBackend":
        return import_module("sora_cli.render.animatic.backend").AnimaticBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
