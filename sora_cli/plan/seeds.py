"""Per-shot seeds: derived from the film seed and the shot id, not its index,
so inserting or reordering shots leaves every other shot's pixels alone."""

from __future__ import annotations

import hashlib


def shot_seed(film_seed: int, shot_id: str) -> int:
    digest = hashlib.sha256(f"sora/{film_seed}/{shot_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
