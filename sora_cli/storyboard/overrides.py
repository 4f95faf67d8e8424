"""What the command line may change in a storyboard before it is planned: one function, one new storyboard.

``--backend``, ``--model``, ``--draft`` and ``--deliverable`` are applied here and
nowhere else, so the :class:`~sora_cli.plan.model.Plan` made from the result is
the whole truth about what renders (``plan.backend.name`` included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sora_cli.storyboard.deliverables import for_deliverable
from sora_cli.storyboard.model import Storyboard


@dataclass(frozen=True)
class Overrides:
    """The storyboard changes a render asks for (each ``None``/``False`` leaves the storyboard's own)."""

    backend: str | type | None = None  # backend.name (``--backend``); from Python also a backend class
    model: str | None = None  # backend.model (``--model``)
    draft: bool = False  # quarter resolution, at most 12 fps (``--draft``)
    deliverable: str | None = None  # render this entry of ``deliverables:`` (``--deliverable``)


def overridden(sb: Storyboard, overrides: Overrides) -> Storyboard:
    """A new storyboard with ``overrides`` applied (``sb`` itself is not changed).

    The order matters and is fixed: backend and model first, then the
    deliverable (its size and cut-down), then the draft (a quarter of that size).
    An unknown deliverable is a :class:`~sora_cli.errors.UsageError`.
    """
    backend: dict[str, Any] = {}
    if overrides.backend is not None:
        b = overrides.backend
        backend["name"] = b if isinstance(b, str) else b.name
    if overrides.model is not None:
        backend["model"] = overrides.model
    update: dict[str, Any] = {"backend": sb.backend.model_copy(update=backend)} if backend else {}
    out = _copy(sb, update) if update else sb
    if overrides.deliverable:
        out = for_deliverable(out, overrides.deliverable)
    if overrides.draft:
        o = out.output
        draft = {
            "width": max(64, o.width // 4 * 2),
            "height": max(64, o.height // 4 * 2),
            "fps": max(1, min(o.fps, 12)),
        }
        out = _copy(out, {"output": o.model_copy(update=draft)})
    return out


def _copy(sb: Storyboard, update: dict[str, Any]) -> Storyboard:
    """A pydantic copy keeps no private attributes: carry the source map and the file's digest over."""
    copy = sb.model_copy(update=update)
    copy._source, copy._sha256 = sb.source, sb.sha256
    return copy
