"""The shot cache: content-addressed shot files (and their carries).

A shot's key hashes everything that can change its pixels: the planned shot
without its place in the film (start, index), the cast's identities, the
content of every asset it draws from, the backend's identity and options, the
video settings, the watermark, and, for a ``continue`` shot, the key of the shot
it continues. Invalidation is exact by construction: there is no list of
"fields that matter" to keep in sync by hand. An asset counts by its content, never
by where it lies: a project moved or checked out in another folder (a CI runner's
workspace) finds its shots.

Every entry is a data file plus a record ``FILE.sum`` (its sha256 and size),
written after the file is in place. An entry is used only when its content
matches the record: a corrupt, truncated or swapped file is discarded with a
warning and made again. Carries are stored as data (``.npz`` arrays plus a
JSON tree, loaded with ``allow_pickle=False``): nothing in the cache can run
code. The records' modification times are the last-use times for the
least-recently-used eviction that keeps the cache under its size bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sora_cli import npz
from sora_cli.atomic import atomic_path
from sora_cli.digests import RECORD, discard, file_digest, record_path, seal, verified
from sora_cli.errors import UsageError
from sora_cli.plan.model import PlannedShot
from sora_cli.render.backend import Carry
from sora_cli.render.encode import ENCODER_THREADS, VideoSettings

CACHE_FORMAT = 3  # 2: carries as data, digest records, LRU bound; 3: assets by content, not by path
#: fields of a planned shot that place it in the film without changing its pixels
POSITION_FIELDS = {"index", "start", "start_frame", "sfx"}


def shot_key(
    shot: PlannedShot,
    backend: dict[str, Any],
    video: VideoSettings,
    watermark: bool,
    previous_key: str | None,
    hears_takes: bool = False,
) -> str:
    """``hears_takes``: the backend's picture depends on a recorded take's sound (see ``Backend.hears_takes``);
    otherwise a take counts through the mouth shapes taken from it, and a take made louder redraws nothing."""
    data = shot.model_dump(mode="json", exclude=POSITION_FIELDS)
    cast = set(shot.cast)
    world = data["world"]
    world["characters"] = {cid: c for cid, c in world["characters"].items() if cid in cast}
    for character in world["characters"].values():  # (the plan's paths are absolute: their folder is not hashed)
        character["reference"] = [file_digest(ref) for ref in character["reference"]]
        if character.get("voice_sample"):
            character["voice_sample"] = file_digest(character["voice_sample"])
    for line in data["dialogue"]:
        line.pop("start"), line.pop("end")
        if line.get("audio"):
            line["audio"] = file_digest(line["audio"]) if hears_takes else True
        # lip-sync in shot time: the same shot elsewhere in the film keeps its key
        line["visemes"] = [[round(v["t"] - shot.start, 6), v["shape"]] for v in line.get("visemes", [])]
    line_lengths = [round(line.end - line.start, 6) for line in shot.dialogue]
    payload = {
        "format": CACHE_FORMAT,
        "shot": data,
        "line_lengths": line_lengths,
        "backend": backend,
        "video": asdict(video),
        "encoder_threads": ENCODER_THREADS,
        "watermark": watermark,
        "continues": previous_key,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- entries: a data file and its digest record -----------------------------------------------

#: the default size bound (``--cache-size``, ``SORA_CACHE_SIZE``)
DEFAULT_CACHE_SIZE = 4 << 30


# --- carries as data ----------------------------------------------------------------------------


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON tree for ``value``; arrays and numpy scalars go to ``arrays`` (types kept exactly)."""
    if isinstance(value, np.ndarray | np.generic):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise TypeError("a carry may not hold object arrays")
        name = f"a{len(arrays)}"
        arrays[name] = array
        return {"s" if isinstance(value, np.generic) else "a": name}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list):
        return {"t" if isinstance(value, tuple) else "l": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"m": {k: _encode(v, arrays) for k, v in value.items()}}
    raise TypeError(f"a carry may hold arrays, numbers, text, lists and dicts, not {type(value).__name__}")


def _decode(tree: Any, arrays: Any) -> Any:
    if not isinstance(tree, dict):
        return tree
    ((tag, value),) = tree.items()
    if tag == "a":
        return arrays[value].copy()
    if tag == "s":
        return arrays[value][()]
    if tag in ("t", "l"):
        items = [_decode(v, arrays) for v in value]
        return tuple(items) if tag == "t" else items
    if tag == "m":
        return {k: _decode(v, arrays) for k, v in value.items()}
    raise ValueError(f"unknown carry tag {tag!r}")


def write_carry(path: Path, carry: Carry) -> None:
    """Store ``carry`` as an ``.npz`` of plain arrays (no pickled objects) with a JSON tree."""
    arrays: dict[str, np.ndarray] = {}
    tree = {
        "shot_id": carry.shot_id,
        "state": _encode(carry.state, arrays),
        "latents": _encode(carry.latents, arrays),
        "audio": _encode(carry.audio, arrays),
        "audio_rate": int(carry.audio_rate),
    }
    meta = np.frombuffer(json.dumps(tree).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, meta=meta, last_frame=carry.last_frame, **arrays)


def read_carry(path: Path) -> Carry:
    with npz.opened(path, allow_pickle=False) as data:
        tree = json.loads(bytes(data["meta"]).decode("utf-8"))
        arrays = {name: data[name] for name in data.files}
        return Carry(
            str(tree["shot_id"]),
            arrays["last_frame"],
            _decode(tree["state"], arrays),
            latents=_decode(tree.get("latents"), arrays),
            audio=_decode(tree.get("audio"), arrays),
            audio_rate=int(tree.get("audio_rate", 0)),
        )


#: every folder a render keeps in its cache, relative to the cache's root (shots and the check cache's
#: measures and the transitions are fanned out into folders named by the first two hex digits of their keys)
LAYOUT = ("shots", "transitions", "sound", "sound/blocks", "qc", "qc/spans", "qc/audio")
FANNED = ("shots", "transitions", "qc/spans", "qc/audio")
_FAN = frozenset(f"{i:02x}" for i in range(256))
_WHAT_TO_DO = "move or remove it (sora did not write it), or give another folder with --cache-dir, or use --no-cache"


def _not_a_folder(path: Path) -> bool:
    """There is something at ``path`` (a file, a device, a dangling link) and it is not a folder."""
    return os.path.lexists(path) and not path.is_dir()


def layout_problems(root: Path) -> list[str]:
    """What stands where the cache at ``root`` keeps a folder: a file in place of the cache, of one of its parts
    (:data:`LAYOUT`) or of a fan-out folder, or a file above the cache's root. A render would fail on it half-way
    (a shot drawn, then nowhere to keep it) and must never replace a file it did not write, so it stops first.
    """
    above = root.parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if _not_a_folder(above):
        return [f"{above}: is a file, so the cache folder {root} cannot be made under it; {_WHAT_TO_DO}"]
    if _not_a_folder(root):
        return [f"{root}: the cache folder is a file, not a folder; {_WHAT_TO_DO}"]
    if not root.is_dir():
        return []
    problems = [
        f"{root / part}: the cache's {part!r} folder is a file, not a folder; {_WHAT_TO_DO}"
        for part in LAYOUT
        if _not_a_folder(root / part)
    ]
    for part in FANNED:
        if (root / part).is_dir():
            with os.scandir(root / part) as found:
                problems += [
                    f"{entry.path}: a folder of the cache's {part!r} is a file, not a folder; {_WHAT_TO_DO}"
                    for entry in sorted(found, key=lambda e: e.name)
                    if entry.name in _FAN and not entry.is_dir()
                ]
    return problems


def check_layout(root: Path) -> None:
    """:func:`layout_problems` as a usage error (exit 2), every problem at once, before anything renders."""
    problems = layout_problems(root)
    if problems:
        raise UsageError("; ".join(problems))  # one line: the messages are one line each (errors.one_line)


class ShotCache:
    """``DIR/shots/ab/abcdef....mp4`` and ``....carry`` beside it, each with its ``.sum`` record."""

    def __init__(self, root: Path):
        self.root = root
        self._checked: set[Path] = set()

    def video(self, key: str) -> Path:
        return self.root / "shots" / key[:2] / f"{key}.mp4"

    def carry_path(self, key: str) -> Path:
        return self.root / "shots" / key[:2] / f"{key}.carry"

    def _verified(self, path: Path) -> bool:
        """:func:`verified`, once per entry for the life of this object (one render)."""
        if path in self._checked and path.is_file():
            return True
        ok = verified(path)
        if ok:
            self._checked.add(path)
        return ok

    def has(self, key: str) -> bool:
        return self._verified(self.video(key))

    def stored(self, path: Path) -> None:
        """``path`` (a shot, a carry) was just written: record its digest."""
        seal(path)
        self._checked.add(path)

    def load_carry(self, key: str) -> Carry | None:
        """The carry stored with a shot, or None when it is missing or fails its check."""
        path = self.carry_path(key)
        if not self._verified(path):
            return None
        try:
            return read_carry(path)
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            self._checked.discard(path)
            discard(path, f"cannot be read ({type(exc).__name__})")
            return None

    def store_carry(self, key: str, carry: Carry) -> None:
        write_carry(self.carry_path(key), carry)
        self.stored(self.carry_path(key))


# --- size bound ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    path: Path
    bytes: int
    used: float  # when last used (the record's mtime)


def entries(root: Path) -> Iterator[Entry]:
    """Every complete entry under ``root`` (a data file with its record)."""
    if not root.is_dir():
        return
    for record in root.rglob(f"*{RECORD}"):
        data = record.with_name(record.name[: -len(RECORD)])
        try:
            st, rt = data.stat(), record.stat()
        except FileNotFoundError:
            continue
        yield Entry(data, st.st_size + rt.st_size, rt.st_mtime)


def usage(root: Path) -> tuple[int, int]:
    """(bytes, entries) of the cache at ``root``."""
    found = list(entries(root))
    return sum(e.bytes for e in found), len(found)


def prune(root: Path, limit: int, keep_since: float | None = None) -> tuple[int, int]:
    """Evict least-recently-used entries until the cache holds at most ``limit`` bytes.

    Entries used at or after ``keep_since`` (the render that is finishing) are
    evicted last, and not at all while older ones remain. Returns (bytes, entries) removed.
    """
    found = sorted(entries(root), key=lambda e: e.used)
    total = sum(e.bytes for e in found)
    freed = count = 0
    for entry in found:
        if total - freed <= limit or (keep_since is not None and entry.used >= keep_since):
            break
        for p in (record_path(entry.path), entry.path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        freed += entry.bytes
        count += 1
    return freed, count


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GiB``, ``800000`` -> bytes (powers of 1024)."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise ValueError(f"{text!r} is not a size (use e.g. 800M, 4G)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def cache_size_limit(option: str | None = None) -> int:
    """The bound: ``--cache-size``, else ``$SORA_CACHE_SIZE``, else :data:`DEFAULT_CACHE_SIZE`."""
    text = option or os.environ.get("SORA_CACHE_SIZE")
    return parse_size(text) if text else DEFAULT_CACHE_SIZE
