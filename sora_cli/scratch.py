"""One scratch folder per render, in the system temp folder, gone on every exit path.

Everything a render needs only while it runs (the raw mix and its headroom,
stitched and burned pictures, overlaps without a cache) goes under
``$TMPDIR/sora-render-PID-RANDOM/``. The folder is removed when the render ends,
however it ends; a render killed with ``kill -9`` cannot remove it, so the next
render removes every such folder whose process is gone. The folder is also
published in ``$SORA_SCRATCH`` so worker processes put their scratch in it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sora_cli.atomic import _alive

ENV = "SORA_SCRATCH"
PREFIX = "sora-render-"
NAME = re.compile(rf"^{PREFIX}(\d+)-[a-z0-9_]{{4,}}$")


def scratch_dir() -> str | None:
    """The running render's scratch folder (for ``tempfile``'s ``dir=``), or None outside a render."""
    folder = os.environ.get(ENV)
    return folder if folder and os.path.isdir(folder) else None


def sweep_scratch(root: Path | None = None) -> int:
    """Remove the scratch folders of renders that no longer run; how many were removed."""
    root = Path(root or tempfile.gettempdir())
    removed = 0
    with contextlib.suppress(OSError), os.scandir(root) as found:
        for entry in found:
            match = NAME.match(entry.name)
            if match and not _alive(int(match.group(1))) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
    return removed


@contextlib.contextmanager
def render_scratch() -> Iterator[Path]:
    """A fresh scratch folder for one render (after sweeping those of killed renders)."""
    sweep_scratch()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    before = os.environ.get(ENV)
    os.environ[ENV] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = before
        shutil.rmtree(folder, ignore_errors=True)
