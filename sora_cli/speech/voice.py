"""A voice as the speech engine uses it, and the engine's defaults for what a storyboard leaves out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

DEFAULT_ENGINE = "espeak"
DEFAULT_RATE = 165
DEFAULT_PITCH = 50
DEFAULT_RANGE = 50


class ResolvedVoice(BaseModel):
    """A voice as the speech engine will use it (defaults filled in)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    engine: str
    voice: str
    pitch: int
    rate: int
    range: int
