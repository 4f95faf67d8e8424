"""The two kinds of failure a user can meet, and nothing else.

A :class:`StoryboardError` means the input is wrong: it carries every
:class:`Problem` found (file, line, column, field path, message) so the user
fixes them all in one go, and the CLI exits 2. A :class:`SoraError` is any
other failure the tool understands (ffmpeg failed, a cluster is unreachable):
one line, exit 1. Anything else is a bug and is reported as one.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sora_cli.temp_names import shown_path

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` with every line break and control character written as an escape.

    Messages are one line each (``FILE:LINE:COL: path: message``) so that editors
    and CI annotators can parse them; a key, value or file name holding a newline
    must not split a message in two.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs", "Cn") or char in ("\ufeff",):
            out.append(_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"))
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a storyboard, located as precisely as we can."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{one_line(self.file)}:{self.line}:{self.column}"
        message = one_line(self.message)
        return f"{where}: {one_line(self.path)}: {message}" if self.path else f"{where}: {message}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class StoryboardError(Exception):
    """The storyboard breaks one or more rules; nothing has been rendered."""

    exit_code = 2

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command line or the environment asks for something impossible (exit 2)."""

    exit_code = 2


class SoraError(Exception):
    """A failure the tool understands but the input did not cause (exit 1)."""

    exit_code = 1


@contextlib.contextmanager
def located_read(path: str, what: str) -> Iterator[None]:
    """Reading an input file (a storyboard, a script): a missing file, a folder or an unreadable file
    becomes a located problem at ``path:1:1``, exit 2, never a traceback."""
    try:
        yield
    except FileNotFoundError:
        raise StoryboardError([Problem(path, 1, 1, "", "no such file")]) from None
    except IsADirectoryError:
        raise StoryboardError([Problem(path, 1, 1, "", f"is a folder, not {what}")]) from None
    except OSError as exc:
        raise StoryboardError([Problem(path, 1, 1, "", f"cannot read: {exc.strerror}")]) from None


#: what a full disk, a size limit (``ulimit -f``), a quota, a read-only or failing disk raise while sora writes
STORAGE_ERRORS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EIO})


def storage_error_at(exc: OSError, filename: str) -> OSError:
    """``exc`` (a storage failure) said of ``filename``: a new error, since some libraries' errors (PyAV's)
    do not let their ``filename`` be changed; raise it ``from exc``."""
    return OSError(exc.errno, os.strerror(exc.errno) if exc.errno else str(exc), filename)


def internal_error(exc: BaseException) -> str:
    """What sora says of an exception that reached the top (the CLI, its entry point and ``sora watch`` alike):
    a bug of its own, in one line with how to get the traceback (``--debug`` works before or after the
    command); or, for the storage failing under it (anywhere, a worker's write included), what failed."""
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRORS:
        # a copy's error names its source first and the file it was writing second (shutil's sendfile path),
        # and a temp file by the name it was to have
        failed = exc.filename2 or exc.filename
        where = f" {shown_path(Path(os.fsdecode(failed)))}" if failed else ""
        return f"cannot write{where}: {os.strerror(exc.errno)}"
    return f"internal error: {type(exc).__name__}: {exc} (add --debug to the command for the traceback, and report it)"


def detail_lines(text: str) -> list[str]:
    """A tool failure's message (:class:`SoraError`: a headline, then the tool's own stderr lines) as the lines
    it is shown on, each made one line by :func:`one_line`: the lines stay lines, and nothing in one of them
    can break it further or show as a literal ``\\n``."""
    return [one_line(line.rstrip()) for line in text.split("\n") if line.strip()] or [""]


def yaml_problem(exc: Exception) -> str:
    """A YAML parser's error as one line: ``line L, column C: what`` (PyYAML's own text spans several lines,
    quoting the source with a caret, which a one-line message would show as literal ``\\n``)."""
    what = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if not what:
        return " ".join(str(exc).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}" if mark is not None else str(what)


# Hints for messages: every stage that reports a problem words "what would be valid" the same way.


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'kim'?"`` or ``""`` when nothing is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def show(value: Any) -> str:
    """A short, quoted rendering of a user's value for a message."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def choice_list(choices: Sequence[str]) -> str:
    return ", ".join(choices) if choices else "none defined"
