"""Reading scripts and writing what import and export make, for the command line.

Outputs go to stdout unless ``-o`` names a file; an existing file is replaced
only with ``--force`` (sora never overwrites a file it was not asked to), and
atomically, so a failed run leaves the old file whole.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sora_cli.atomic import atomic_write_text
from sora_cli.errors import UsageError, located_read


def read_script(path: str) -> tuple[bytes, str, Path]:
    """The script's bytes, its display name and the folder it sits in; ``-`` is stdin."""
    if path == "-":
        return sys.stdin.buffer.read(), "<stdin>", Path.cwd()
    p = Path(path)
    with located_read(str(p), "a Fountain script"):
        return p.read_bytes(), str(p), p.resolve().parent


def write_output(text: str, output: Path | None, force: bool) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if output.exists() and not force:
        raise UsageError(f"{output} already exists (use --force to replace it)")
    if output.exists() and not output.is_file():
        raise UsageError(f"{output} is not a file")

    atomic_write_text(output, text)
