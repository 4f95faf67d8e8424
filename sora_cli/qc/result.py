"""What a check reports: a measured value, its limit, pass/fail and the times it failed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MAX_TIMES = 20  # violation times listed per check


@dataclass(frozen=True)
class Check:
    id: str
    passed: bool
    value: Any
    limit: Any
    at: tuple[float, ...] = ()
    unit: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "passed": self.passed,
            "value": _plain(self.value),
            "limit": _plain(self.limit),
            "at": [round(t, 3) for t in self.at[:MAX_TIMES]],
            "unit": self.unit,
            **({"note": self.note or _unmeasured(self.value)} if self.note or _unmeasured(self.value) else {}),
        }


def _unmeasured(value: Any) -> str:
    """Why a value is written as null: JSON has no NaN or infinity (a silent soundtrack's level is -inf dB)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "null: silence, no level to measure (-inf dB)" if value < 0 else f"null: not measurable ({value})"
    return ""


@dataclass
class QcResult:
    film: str
    profile: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "film": self.film,
            "profile": self.profile,
            "passed": self.passed,
            "checks": [c.to_json() for c in self.checks],
        }


def _plain(value: Any) -> Any:
    """JSON-safe: rounded floats, None for NaN and infinities."""
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def runs(flags: list[bool], times: list[float], step: float) -> list[tuple[float, float]]:
    """(start, length in seconds) of every run of true flags; ``times`` are the flags' start times."""
    out: list[tuple[float, float]] = []
    start = None
    for flag, t in zip([*flags, False], [*times, (times[-1] + step) if times else 0.0], strict=True):
        if flag and start is None:
            start = t
        elif not flag and start is not None:
            out.append((start, t - start))
            start = None
    return out
