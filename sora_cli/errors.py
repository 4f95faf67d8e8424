"""The two kinds of failure a user can meet, and nothing else.

A :class:`StoryboardError` means the input is wrong: it carries every
:class:`Problem` found (file, line, column, field path, message) so the user
fixes them all in one go, and the CLI exits 2. A :class:`SoraError` is any
other failure the tool understands (ffmpeg failed, a cluster is unreachable):
one line, exit 1. Anything else is a bug and is reported as one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a storyboard, located as precisely as we can."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

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
