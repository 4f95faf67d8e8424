"""The ffmpeg binary (from the imageio-ffmpeg wheel) and how we call it.

Every call passes arguments as a list (never a shell string), so no text from a
storyboard can become part of a command. Text that must reach ffmpeg goes
through files we write (subtitles, concat lists); filtergraph option values
are escaped by :func:`filter_value`. Failures raise one :class:`SoraError`
naming what failed, with the relevant lines of ffmpeg's stderr.
"""

from __future__ import annotations

import errno
import functools
import importlib.util
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sora_cli.errors import SoraError
from sora_cli.temp_names import shown_path


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg to run: ``$IMAGEIO_FFMPEG_EXE`` if set, else the one binary in the imageio-ffmpeg wheel.

    The wheel's binary is found by looking in its folder, without importing the package or running the
    binary: imageio-ffmpeg's own lookup imports its readers and writers and runs ``ffmpeg -version`` to
    test it, about 60 ms before the first frame of every render could be encoded. A binary that cannot
    run fails on its first use, with its path and the reason (:func:`started`). Where the folder does not
    hold exactly one executable ffmpeg, imageio-ffmpeg's lookup decides (a conda or system ffmpeg).
    """
    if explicit := os.environ.get("IMAGEIO_FFMPEG_EXE"):
        # as an absolute path: some ffmpeg runs start in a scratch folder, where ``./ffmpeg`` is not it
        return os.path.abspath(explicit) if any(sep and sep in explicit for sep in (os.sep, os.altsep)) else explicit
    spec = importlib.util.find_spec("imageio_ffmpeg")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        found = [p for p in (Path(folder) / "binaries").glob("ffmpeg-*") if p.is_file() and os.access(p, os.X_OK)]
        if len(found) == 1:
            return str(found[0])
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise SoraError("no ffmpeg can be found: pip install imageio-ffmpeg (sora doctor checks the install)") from exc


def started(cmd: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(cmd, **popen)``; an ffmpeg that cannot be started (missing, not executable, not a
    program for this machine) is a :class:`SoraError` naming it, not an internal error."""
    try:
        return subprocess.Popen(cmd, **popen)
    except OSError as exc:
        raise SoraError(f"cannot run ffmpeg ({cmd[0]}): {exc.strerror or exc}") from exc


@functools.cache
def ffmpeg_version() -> str:
    with started([ffmpeg_exe(), "-version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        out = proc.communicate()[0].decode("utf-8", "replace")
    return out.splitlines()[0].split(" Copyright")[0] if out else "unknown"


def stderr_tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


#: what ffmpeg says (strerror's words, in its stderr) when the storage under the file it writes fails
_STORAGE_WORDS = {errno.ENOSPC: "No space left on device", errno.EFBIG: "File too large",
                  errno.EDQUOT: "Disk quota exceeded", errno.EROFS: "Read-only file system"}  # fmt: skip


def failure(what: str, returncode: int | None, stderr: str, writing: Path | None = None) -> str:
    """The message of an ffmpeg that failed while doing ``what``: its last stderr lines, or, when it
    said nothing, the signal that killed it (the OOM killer, kill -9, ``ulimit -f``'s SIGXFSZ).

    ``writing``: the file it was writing. When the storage under it failed (a full disk, a quota, a
    read-only disk, or ``ulimit -f``'s SIGXFSZ) the message is the one sora gives every storage failure,
    ``cannot write FILE: reason``, of the file it was to become (not of sora's temp name for it).
    """
    if writing is not None:
        failed = errno.EFBIG if returncode == -getattr(signal, "SIGXFSZ", -1) else None
        failed = failed or next((code for code, words in _STORAGE_WORDS.items() if words in stderr), None)
        if failed is not None:
            return f"cannot write {shown_path(writing)}: {os.strerror(failed)}"
    detail = stderr_tail(stderr)
    if not detail and returncode is not None and returncode < 0:
        detail = f"it was killed by {signal_name(-returncode)}"
    return f"ffmpeg failed while {what}" + (f":\n{detail}" if detail else "")


class StderrTail:
    """What a long-running ffmpeg says on stderr, kept in memory (its last 64 KB) by a thread that drains the pipe.

    :meth:`popen` starts the process with its stderr here; :meth:`text` (after the process ended) is what
    it said, :meth:`close` ends it either way. A temporary file held it before, in $TMPDIR:
    on a full disk ffmpeg's own "No space left on device" was lost with the rest of its words, and sora
    could only say that ffmpeg had failed. A pipe needs no disk, and nothing is left behind.
    """

    LIMIT = 64 * 1024

    def __init__(self) -> None:
        self._read, self.fd = os.pipe()
        self._chunks: deque[bytes] = deque()
        self._kept = 0
        self._thread = threading.Thread(target=self._drain, name="sora-ffmpeg-stderr", daemon=True)

    def popen(self, cmd: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start ``cmd`` with a pipe to its stdin and its stderr kept here."""
        try:
            proc = started(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self.fd)
        except BaseException:
            self.close()
            raise
        os.close(self.fd)  # (the process has its copy: the drain ends when the process does)
        self.fd = -1
        self._thread.start()
        return proc

    def _drain(self) -> None:
        while chunk := os.read(self._read, 65536):
            self._chunks.append(chunk)
            self._kept += len(chunk)
            while self._kept - len(self._chunks[0]) >= self.LIMIT:
                self._kept -= len(self._chunks.popleft())

    def text(self) -> str:
        """Everything it said (up to the last 64 KB), once it has ended."""
        self.close()
        return b"".join(self._chunks).decode("utf-8", "replace")

    def close(self) -> None:
        if self.fd >= 0:  # (never started: the process did not start)
            os.close(self.fd)
            self.fd = -1
        if self._thread.ident is not None:  # (started)
            self._thread.join(timeout=5)
        if self._read >= 0 and not self._thread.is_alive():
            os.close(self._read)
            self._read = -1


def signal_name(number: int) -> str:
    """``SIGKILL (signal 9)``: a name says why; SIGXFSZ says which limit."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    limit = " (a file grew past the size limit, ulimit -f)" if number == getattr(signal, "SIGXFSZ", None) else ""
    return f"{name} (signal {number}){limit}"


def run_ffmpeg(args: Sequence[str | Path], what: str, cwd: Path | None = None) -> None:
    """Run ffmpeg to completion; raise a one-message SoraError on failure (the last argument is its output)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *map(str, args)]
    with started(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd) as proc:
        stderr = proc.communicate()[1].decode("utf-8", "replace")
    if proc.returncode != 0:
        raise SoraError(failure(what, proc.returncode, stderr, (cwd or Path()) / Path(args[-1]) if args else None))


def filter_value(text: str) -> str:
    """Escape a value for a filtergraph option (both levels: option and graph)."""
    for ch in "\\':":
        text = text.replace(ch, "\\" + ch)
    text = f"'{text}'" if text else "''"
    out = ""
    for ch in text:
        out += "\\" + ch if ch in "\\'[],;" else ch
    return out
