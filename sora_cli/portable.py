"""Paths as a report or a plan shows them: relative to its folder, never the user's machine layout.

A report travels with the film (to a client, into a CI artifact); ``sora plan
--json`` is pasted into tickets. Neither should reveal where the user keeps
things: a path under the base folder is written relative to it, any other
absolute path as ``.../FOLDER/NAME``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def portable_path(value: str, base: Path) -> str:
    """``value`` relative to ``base`` when under it; an absolute path elsewhere as ``.../parent/name``.

    ``..`` and ``.`` are folded first, as ``os.path.abspath`` folds them: a report's folder comes from
    tempfile in that form, so ``-o sb/../x.mp4`` names the film beside its report ``x.mp4`` (it was
    ``sb/../x.mp4`` in ``outputs`` and ``qc.film`` alike).
    """
    if not os.path.isabs(value):
        return value
    path = Path(os.path.normpath(value))
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(base.resolve()).as_posix() or "."
    except (ValueError, OSError):
        return f".../{path.parent.name}/{path.name}" if path.parent.name else f".../{path.name}"


def portable_paths(data: Any, base: Path, keys: frozenset[str]) -> Any:
    """A copy of ``data`` with every string under one of ``keys`` (at any depth) made portable."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in keys:
                out[key] = _convert(value, base)
            else:
                out[key] = portable_paths(value, base, keys)
        return out
    if isinstance(data, list):
        return [portable_paths(item, base, keys) for item in data]
    return data


def _convert(value: Any, base: Path) -> Any:
    if isinstance(value, str):
        return portable_path(value, base)
    if isinstance(value, list):
        return [_convert(item, base) for item in value]
    if isinstance(value, dict):
        return {key: _convert(item, base) for key, item in value.items()}
    return value
