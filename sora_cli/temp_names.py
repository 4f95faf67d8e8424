"""The one name sora gives its temp files, and the name each will have: for the sweep and for messages.

A file being written is ``.NAME.sora-PID-RANDOM.EXT.part`` beside the file it becomes
(:mod:`sora_cli.atomic`): the pid tells a sweep whether its writer is alive, and a
message about a failed write names ``NAME``, the file the user knows, not the temp file.
"""

from __future__ import annotations

import re
from pathlib import Path

PART = ".part"
#: the only names :func:`sora_cli.atomic.sweep_stale` ever removes (group 1: the writer's pid)
TEMP_NAME = re.compile(r"^\..+\.sora-(\d+)-[a-z0-9_]{4,}(?:\.[A-Za-z0-9]{1,8})?\.part$")


def shown_name(path: Path) -> str:
    """The name a temp file will have (``.film.mp4.sora-12-ab3d.mp4.part`` -> ``film.mp4``), for messages."""
    if TEMP_NAME.match(path.name):
        return path.name[1:].split(".sora-")[0]
    return path.name


def shown_path(path: Path) -> Path:
    """``path``, or for a temp file the path it will have (the same folder, :func:`shown_name`)."""
    return path.with_name(shown_name(path))
