"""Reading the scripts ``sora import`` breaks down (a file, or stdin for ``-``), located when unreadable.

What import and export make is written by :func:`sora_cli.api.write_text`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sora_cli.errors import located_read


def read_script(path: str) -> tuple[bytes, str, Path]:
    """The script's bytes, its display name and the folder it sits in; ``-`` is stdin."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>", Path.cwd()
    p = Path(path)
    with located_read(str(p), "a Fountain script"):
        return p.read_bytes(), str(p), p.resolve().parent
