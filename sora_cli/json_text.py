"""JSON as sora writes it for people and scripts: strict, so any parser reads it.

Python's :func:`json.dumps` writes a non-finite float as ``NaN``/``Infinity``/``-Infinity``, which is not JSON
(``jq``, browsers and most other languages reject the whole document). A measured level can be one: the loudness
and true peak of a silent soundtrack are -inf dB. Every report and ``--json`` output goes through :func:`dumps`,
which writes such a value as ``null`` (the field beside it says why, e.g. ``sound.silent``) and refuses to
write anything else that is not JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (in dicts, lists and tuples, at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """:func:`json.dumps` of :func:`finite` ``value``: never ``NaN`` or ``Infinity`` in the text."""
    return json.dumps(finite(value), allow_nan=False, **kwargs)
