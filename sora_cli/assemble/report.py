"""The machine-readable report written beside every film (``NAME.report.json``)."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from sora_cli import __version__
from sora_cli.atomic import atomic_write_text

#: Report fields that hold paths; written relative to the report's folder (:mod:`sora_cli.portable`).
PATH_FIELDS = frozenset({"file", "film", "files", "outputs", "srt", "vtt", "otio", "reference", "model_folder"})


def write_report(path: Path, report: dict[str, Any]) -> None:
    """The report beside the film, with no absolute path of the user's machine in it."""
    from sora_cli.portable import portable_paths

    portable = portable_paths(report, path.parent.absolute(), PATH_FIELDS)
    atomic_write_text(path, json.dumps(portable, indent=2, ensure_ascii=False) + "\n")


def tool_info() -> dict[str, Any]:
    from sora_cli.ffmpeg import ffmpeg_version

    return {"name": "sora", "version": __version__, "python": platform.python_version(), "ffmpeg": ffmpeg_version()}
