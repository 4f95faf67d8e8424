"""Reading scripts and writing what import and export make, for the command line.

Outputs go to stdout unless ``-o`` names a file; an existing file is replaced
only with ``--force`` (sora never overwrites a file it was not asked to), and
atomically, so a failed run leaves the old file whole.
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
