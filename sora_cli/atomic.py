"""Atomic writes: a reader sees the old file or the new one, never half of one.

Every output goes to a temp file in the same folder, is flushed and fsynced,
then renamed over the target (rename is atomic on POSIX within a filesystem).

Temp files have one recognisable name, ``.NAME.sora-PID-RANDOM.EXT.part``, so
the sweep after a ``kill -9`` removes only files sora made (whose writer is
dead), only in the folder it is given, never below it. Files are created with
the user's umask (``mkstemp`` alone would make them 0600).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sora_cli.errors import STORAGE_ERRORS, storage_error_at
from sora_cli.temp_names import PART, TEMP_NAME


def file_mode() -> int:
    """The mode a plain ``open(..., "w")`` would give a new file: 0o666 less the umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def folder_of(target: Path) -> str:
    """The folder a rename to ``target`` lands in, as the kernel finds it (for a temp file beside ``target``).

    tempfile folds ``..`` as text: given ``link/..`` it makes its file in the folder that holds ``link``,
    while a rename to ``link/../name`` follows the link first and lands in the link target's parent.
    """
    return os.path.realpath(target.parent)


#: what :func:`symlink_loop` finds, in words, for messages ("-o x/y.mp4: a symlink loop (...)")
SYMLINK_LOOP = "a symlink loop (a link that leads back to itself)"


def symlink_loop(path: Path) -> bool:
    """``path``, or a folder on the way to it, is a chain of symlinks with no end (nothing there can be read
    or written, and pathlib's ``resolve`` raises)."""
    try:
        path.resolve()
    except RuntimeError:  # (pathlib's "Symlink loop"; 3.13 raises OSError ELOOP instead)
        return True
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def temp_beside(target: Path, suffix: str | None = None) -> Path:
    """Create an empty temp file beside ``target`` with sora's temp name and the user's umask."""
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.sora-{os.getpid()}-",
        suffix=(suffix if suffix is not None else target.suffix) + PART,
        dir=folder_of(target),
    )
    os.fchmod(fd, file_mode())
    os.close(fd)
    return Path(tmp_name)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (best effort where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(target, suffix)
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def sweep_stale(folder: Path) -> int:
    """Remove sora's temp files left directly in ``folder`` by processes that no longer run.

    A write interrupted by ``kill -9`` cannot clean up after itself; its temp
    file names the writer's pid, so the next run can tell it is abandoned. Only
    :data:`TEMP_NAME` entries directly in ``folder`` are considered (files, and
    the temp media folders of ``--otio``), never a name sora does not make.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    with os.scandir(folder) as entries:
        for entry in entries:
            match = TEMP_NAME.match(entry.name)
            if not match or _alive(int(match.group(1))):
                continue
            if entry.is_dir(follow_symlinks=False):  # a staged or replaced media folder (see outputs.py)
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:  # a zombie (dead, not yet reaped: orphans in containers whose init never reaps) is dead
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def naming(target: Path) -> Iterator[None]:
    """Name ``target`` in a storage failure (a full disk, ``ulimit -f``) raised inside that names no file.

    A failed ``write``, ``flush`` or ``fsync`` names no file, and :func:`sora_cli.errors.internal_error`
    could only say ``cannot write: File too large``; sora's temp file is gone by the time it is said, so a
    failure naming one is named by ``target`` too. Then it reads ``cannot write TARGET: reason``, as every
    other storage error does. Other errors pass untouched (nothing is named that may not be the culprit).
    """
    try:
        yield
    except OSError as exc:
        temp = exc.filename is not None and TEMP_NAME.match(os.path.basename(str(exc.filename)))
        if exc.errno in STORAGE_ERRORS and (exc.filename is None or temp):
            raise storage_error_at(exc, str(target)) from exc
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` as ``target``; a storage failure names ``target`` (:func:`naming`)."""
    with naming(target), atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
