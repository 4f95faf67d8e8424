"""The shot cache: content-addressed shot files (and their carries).

A shot's key hashes everything that can change its pixels: the planned shot
without its place in the film (start, index), the cast's identities, the
content of every asset it draws from, the backend's identity and options, the
video settings, the watermark, and, for a ``continue`` shot, the key of the shot
it continues. Invalidation is exact by construction: there is no list of
"fields that matter" to keep in sync by hand.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sora_cli.atomic import atomic_path
from sora_cli.plan.model import PlannedShot
from sora_cli.render.backend import Carry
from sora_cli.render.encode import ENCODER_THREADS, VideoSettings

CACHE_FORMAT = 1
#: fields of a planned shot that place it in the film without changing its pixels
POSITION_FIELDS = {"index", "start", "start_frame", "sfx"}


@functools.lru_cache(maxsize=1024)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """sha256 of a file's content (memoised per path, size and mtime)."""
    st = os.stat(path)
    return _file_digest(str(path), st.st_size, st.st_mtime_ns)


def shot_key(
    shot: PlannedShot,
    backend: dict[str, Any],
    video: VideoSettings,
    watermark: bool,
    previous_key: str | None,
) -> str:
    data = shot.model_dump(mode="json", exclude=POSITION_FIELDS)
    cast = set(shot.cast)
    world = data["world"]
    world["characters"] = {cid: c for cid, c in world["characters"].items() if cid in cast}
    for line in data["dialogue"]:
        line.pop("start"), line.pop("end")
        # lip-sync in shot time: the same shot elsewhere in the film keeps its key
        line["visemes"] = [[round(v["t"] - shot.start, 6), v["shape"]] for v in line.get("visemes", [])]
    line_lengths = [round(line.end - line.start, 6) for line in shot.dialogue]
    assets = {ref: file_digest(ref) for cid in sorted(cast) for ref in shot.world.characters[cid].reference}
    payload = {
        "format": CACHE_FORMAT,
        "shot": data,
        "line_lengths": line_lengths,
        "assets": assets,
        "backend": backend,
        "video": asdict(video),
        "encoder_threads": ENCODER_THREADS,
        "watermark": watermark,
        "continues": previous_key,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ShotCache:
    """``DIR/shots/ab/abcdef....mp4`` and ``....carry`` beside it."""

    def __init__(self, root: Path):
        self.root = root

    def video(self, key: str) -> Path:
        return self.root / "shots" / key[:2] / f"{key}.mp4"

    def carry_path(self, key: str) -> Path:
        return self.root / "shots" / key[:2] / f"{key}.carry"

    def has(self, key: str) -> bool:
        return self.video(key).is_file()

    def load_carry(self, key: str) -> Carry | None:
        """The carry stored with a shot (our own pickle, in our own cache folder)."""
        path = self.carry_path(key)
        if not path.is_file():
            return None
        try:
            with open(path, "rb") as fh:
                carry = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None
        return carry if isinstance(carry, Carry) else None

    def store_carry(self, key: str, carry: Carry) -> None:
        with atomic_path(self.carry_path(key)) as tmp, open(tmp, "wb") as fh:
            pickle.dump(carry, fh, protocol=pickle.HIGHEST_PROTOCOL)
