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
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from sora_cli.atomic import atomic_write_text
from sora_cli.provenance import config_dir

RECORD = ".sum"


def file_version(st: os.stat_result) -> tuple[int, ...]:
    """What tells one state of a file from another without reading it, for the memos of what a file holds.

    Its size and modification time alone were not enough: a take or a likeness swapped by renames
    with another of the same size, both given one modification time (``touch -d``, a copy with its
    times kept, a build that normalises them), looked unchanged to a long-lived ``sora watch``, which
    drew the old face or mixed the old take. The inode tells a replaced file, and the change time moves
    with every write, rename or touch (no program can set it back).
    """
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def path_version(path: str | Path) -> tuple[int, ...] | None:
    """:func:`file_version` of the file at ``path``; None when there is none to read (missing, a dangling link)."""
    try:
        return file_version(os.stat(path))
    except OSError:
        return None


@functools.lru_cache(maxsize=1024)
def _file_digest(path: str, version: tuple[int, ...]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_digest(path: str | Path) -> str:
    """sha256 of a file's content (memoised per path and :func:`file_version`)."""
    return _file_digest(str(path), file_version(os.stat(path)))


def record_path(path: Path) -> Path:
    return path.with_name(path.name + RECORD)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.cache
def _secret(folder: Path) -> bytes:
    """This user's cache key (made on first use, readable by the user only).

    When it cannot be read or made (a read-only config folder, a broken file), a key
    for this process only: what it seals is trusted within the render, and measured
    again by the next one.
    """
    path = folder / "cache.key"
    try:
        if not path.is_file():
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cache.key.", dir=folder)
            try:
                os.write(fd, secrets.token_hex(32).encode())
                os.close(fd)
                with contextlib.suppress(FileExistsError):  # two renders at once: the first key in place wins
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        key = path.read_bytes().strip()
    except OSError:
        key = b""
    return key if len(key) >= 32 else secrets.token_hex(32).encode()


def _mac(record: dict) -> str:
    message = f"{record['entry']}:{record['sha256']}:{record['bytes']}".encode()
    return hmac.new(_secret(config_dir()), message, hashlib.sha256).hexdigest()


def seal(path: Path, keyed: bool = False) -> None:
    """Record ``path``'s digest: from now on it is a cache entry that can be checked.

    The record names its entry, so an entry swapped for another (its record copied with
    it) is caught: entries are named by their key, and a record vouches for that key only.
    ``keyed``: the record also carries an HMAC under this user's cache key, for entries
    whose content cannot be checked against what they stand for (a measurement of a
    film: a forged one would pass a film that fails its checks). A shot file or a sound
    block needs none: what it holds is in the film, and the checks measure the film.
    """
    record: dict = {"entry": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size}
    if keyed:
        record["mac"] = _mac(record)
    atomic_write_text(record_path(path), json.dumps(record))


_unsealed_said = False  # whether this process has warned of an entry sealed with another user's key


def discard(path: Path, why: str, quiet: bool = False) -> None:
    """Remove an entry that failed its check, saying so unless ``quiet`` (it will be made again)."""
    if not quiet:
        sys.stderr.write(f"sora: warning: cache entry {path.name} {why}; discarded, it will be made again\n")
    for p in (path, record_path(path)):
        if p.is_dir() and not p.is_symlink():  # a folder where a file belongs: gone too, or nothing could be stored
            shutil.rmtree(p, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            p.unlink()


def verified(path: Path, keyed: bool = False) -> bool:
    """``path`` is a cache entry whose content matches its record (and is marked as used now).

    A missing file is simply a miss; a file without a record (a write cut short),
    with another size or another digest is discarded with a warning. ``keyed``: the
    record must also carry this user's HMAC (see :func:`seal`).
    """
    global _unsealed_said
    if not path.is_file():
        return False
    try:
        record = json.loads(record_path(path).read_text(encoding="utf-8"))
        expected, size, entry = str(record["sha256"]), int(record["bytes"]), record["entry"]
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError):
        discard(path, "has no valid digest record")
        return False
    if entry != path.name:
        discard(path, f"holds the record of another entry ({str(entry)[:16]}...)")
        return False
    if path.stat().st_size != size or _sha256(path) != expected:
        discard(path, "does not match the digest recorded when it was written")
        return False
    if keyed and not hmac.compare_digest(str(record.get("mac", "")), _mac(record)):
        # said once: a cache restored on a fresh CI runner has dozens, all for the one reason
        discard(path, "was not sealed with this user's cache key (copied from another user or machine, or"
                " forged; others like it go without a word)", quiet=_unsealed_said)  # fmt: skip
        _unsealed_said = True
        return False
    with contextlib.suppress(OSError):
        os.utime(record_path(path))  # last used: now (for the LRU bound)
    return True
