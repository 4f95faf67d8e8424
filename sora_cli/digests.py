"""Digests of files: what a file's content is, and a record of it written beside the file.

The shot cache, the sound cache and the stitched overlaps all keep files that a
later run trusts only if their content is what was written: each is *sealed* (a
record ``FILE.sum`` with its sha256, size and name, written after the file is in
place) and *verified* before use. A file that fails its check is discarded with a
warning and made again. Shared by picture, sound and assembly, so it lives on the
ground floor rather than inside one of them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from sora_cli.atomic import atomic_write_text

RECORD = ".sum"


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


def record_path(path: Path) -> Path:
    return path.with_name(path.name + RECORD)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def seal(path: Path) -> None:
    """Record ``path``'s digest: from now on it is a cache entry that can be checked.

    The record names its entry, so an entry swapped for another (its record copied with
    it) is caught: entries are named by their key, and a record vouches for that key only.
    """
    record = {"entry": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
    atomic_write_text(record_path(path), json.dumps(record))


def discard(path: Path, why: str) -> None:
    """Remove an entry that failed its check, saying so (it will be made again)."""
    sys.stderr.write(f"sora: warning: cache entry {path.name} {why}; discarded, it will be rendered again\n")
    for p in (path, record_path(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def verified(path: Path) -> bool:
    """``path`` is a cache entry whose content matches its record (and is marked as used now).

    A missing file is simply a miss; a file without a record (a write cut short),
    with another size or another digest is discarded with a warning.
    """
    if not path.is_file():
        return False
    try:
        record = json.loads(record_path(path).read_text(encoding="utf-8"))
        expected, size, entry = str(record["sha256"]), int(record["bytes"]), record["entry"]
    except (OSError, ValueError, KeyError, TypeError):
        discard(path, "has no valid digest record")
        return False
    if entry != path.name:
        discard(path, f"holds the record of another entry ({str(entry)[:16]}...)")
        return False
    if path.stat().st_size != size or _sha256(path) != expected:
        discard(path, "does not match the digest recorded when it was written")
        return False
    with contextlib.suppress(OSError):
        os.utime(record_path(path))  # last used: now (for the LRU bound)
    return True
