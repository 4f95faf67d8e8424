"""Atomic writes: a reader sees the old file or the new one, never half of one.

Every output goes to a temp file in the same folder, is flushed and fsynced,
then renamed over the target (rename is atomic on POSIX within a filesystem).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.",
        suffix=suffix if suffix is not None else target.suffix + PART,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


PART = ".part"


def sweep_stale(folder: Path) -> int:
    """Remove temp files left in ``folder`` (recursively) by processes that no longer run.

    A write interrupted by ``kill -9`` cannot clean up after itself; its temp
    file names the writer's pid, so the next run can tell it is abandoned.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.rglob(f".*{PART}"):
        parts = path.name.split(".")
        pid = next((int(p) for p in parts if p.isdigit()), None)
        if pid is None or _alive(pid):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))
