"""One voice per character for the whole film.

Characters that name no voice get one from a palette of clearly different
espeak-ng voices, picked by a hash of the character id (then the next free
one), so adding a character does not re-voice the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sora_cli.speech.voice import DEFAULT_ENGINE, DEFAULT_PITCH, DEFAULT_RANGE, DEFAULT_RATE, ResolvedVoice
from sora_cli.storyboard.model import Character

#: (voice, pitch, rate): distinct in timbre, pitch and pace.
PALETTE: tuple[tuple[str, int, int], ...] = (
    ("en-us+m3", 40, 160),
    ("en-gb+f3", 62, 165),
    ("en-us+m1", 30, 150),
    ("en-gb+f2", 70, 170),
    ("en-gb-scotland+m4", 45, 155),
    ("en-us+f4", 58, 175),
    ("en-gb+m2", 35, 145),
    ("en-us+f1", 66, 160),
)


def _palette_slot(char_id: str) -> int:
    return int.from_bytes(hashlib.sha256(char_id.encode()).digest()[:4], "big") % len(PALETTE)


def assign_voices(
    characters: Mapping[str, Character], cameo_voices: Mapping[str, dict[str, Any]]
) -> dict[str, ResolvedVoice]:
    voices: dict[str, ResolvedVoice] = {}
    taken: set[int] = set()
    for char_id in sorted(characters):
        char = characters[char_id]
        given = dict(cameo_voices.get(char_id) or {})
        if char.voice is not None:
            given.update(char.voice.model_dump(exclude_none=True))
        if given.get("voice"):
            voices[char_id] = ResolvedVoice(
                engine=given.get("engine") or DEFAULT_ENGINE,
                voice=str(given["voice"]),
                pitch=int(given.get("pitch", DEFAULT_PITCH)),
                rate=int(given.get("rate", DEFAULT_RATE)),
                range=int(given.get("range", DEFAULT_RANGE)),
            )
            continue
        slot = _palette_slot(char_id)
        while slot in taken and len(taken) < len(PALETTE):
            slot = (slot + 1) % len(PALETTE)
        taken.add(slot)
        voice, pitch, rate = PALETTE[slot]
        voices[char_id] = ResolvedVoice(
            engine=given.get("engine") or DEFAULT_ENGINE,
            voice=voice,
            pitch=int(given.get("pitch", pitch)),
            rate=int(given.get("rate", rate)),
            range=int(given.get("range", DEFAULT_RANGE)),
        )
    return voices
