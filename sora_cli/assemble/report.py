"""The machine-readable report written beside every film (``NAME.report.json``)."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from sora_cli import __version__
from sora_cli.atomic import atomic_write_text


def write_report(path: Path, report: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def tool_info() -> dict[str, Any]:
    from sora_cli.ffmpeg import ffmpeg_version

    return {"name": "sora", "version": __version__, "python": platform.python_version(), "ffmpeg": ffmpeg_version()}
