"""The ffmpeg binary (from the imageio-ffmpeg wheel) and how we call it.

Every call passes arguments as a list (never a shell string), so no text from a
storyboard can become part of a command. Text that must reach ffmpeg goes
through files we write (subtitles, concat lists); filtergraph option values
are escaped by :func:`filter_value`. Failures raise one :class:`SoraError`
naming what failed, with the relevant lines of ffmpeg's stderr.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Sequence
from pathlib import Path

from sora_cli.errors import SoraError


@functools.cache
def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SoraError("ffmpeg is missing: pip install imageio-ffmpeg") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0].split(" Copyright")[0] if out else "unknown"


def stderr_tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_ffmpeg(args: Sequence[str | Path], what: str, cwd: Path | None = None) -> None:
    """Run ffmpeg to completion; raise a one-message SoraError on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0:
        raise SoraError(f"ffmpeg failed while {what}:\n{stderr_tail(proc.stderr)}")


def filter_value(text: str) -> str:
    """Escape a value for a filtergraph option (both levels: option and graph)."""
    for ch in "\\':":
        text = text.replace(ch, "\\" + ch)
    text = f"'{text}'" if text else "''"
    out = ""
    for ch in text:
        out += "\\" + ch if ch in "\\'[],;" else ch
    return out
