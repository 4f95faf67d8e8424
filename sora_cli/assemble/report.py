"""The machine-readable report written beside every film (``NAME.report.json``).

It says what was made and how: the tool, the storyboard's digest, the backend
and its identity, every shot (rendered or reused from the cache, and how fast),
the sound's measured loudness, the subtitles, and the provenance facts that
the film's C2PA manifest states (:func:`provenance_facts`).
"""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any

from sora_cli import __version__
from sora_cli.atomic import atomic_write_text
from sora_cli.ffmpeg import ffmpeg_version
from sora_cli.json_text import dumps
from sora_cli.outputs import set_paths
from sora_cli.plan.model import Plan
from sora_cli.portable import portable_paths
from sora_cli.render.shots import ShotFile
from sora_cli.sound.mix import MixReport

#: Report fields that hold paths; written relative to the report's folder (:mod:`sora_cli.portable`).
PATH_FIELDS = frozenset({"file", "film", "files", "outputs", "srt", "vtt", "otio", "reference", "model_folder"})


def write_report(path: Path, report: dict[str, Any]) -> None:
    """The report beside the film, with no absolute path of the user's machine in it."""

    portable = portable_paths(report, path.parent.absolute(), PATH_FIELDS)
    atomic_write_text(path, dumps(portable, indent=2, ensure_ascii=False) + "\n")


def tool_info() -> dict[str, Any]:

    return {"name": "sora", "version": __version__, "python": platform.python_version(), "ffmpeg": ffmpeg_version()}


def report_path(output: Path) -> Path:
    """``film.mp4`` -> ``film.report.json`` beside it."""
    return set_paths(output)["report"]


def storyboard_file(name: str) -> str:
    """The storyboard's file as a report names it: absolute (made relative to the report's folder when written);
    ``<stdin>`` as it is."""
    return name if name.startswith("<") else os.path.abspath(name)


def provenance_facts(plan: Plan, backend_name: str, identity: dict[str, Any]) -> dict[str, Any]:
    """What the film's C2PA manifest states about how it was made (cameos by hash only)."""
    appearing = {c for shot in plan.shots for c in shot.cast} | {
        line.speaker for shot in plan.shots for line in shot.dialogue
    }
    cameos = [
        {"name": ch.cameo, "capture_sha256": ch.cameo_hash}
        for cid, ch in sorted(plan.characters.items())
        if ch.cameo and cid in appearing
    ]
    return {
        "storyboard_sha256": plan.storyboard_hash,
        "backend": backend_name,
        "backend_version": identity.get("version"),
        "model": plan.backend.model,
        "seed": plan.seed,
        "cameos": cameos,
    }


def film_report(
    plan: Plan,
    backend_name: str,
    draft: bool,
    identity: dict[str, Any],
    shot_files: dict[str, ShotFile],
    mix: MixReport,
    output: Path,
    staged: Path,
    subtitles: dict[str, str],
    cue_count: int,
) -> dict[str, Any]:
    """The report of a render of ``plan`` into ``output`` (``staged``: the film as written, before it appears).

    A silent soundtrack (no dialogue, sound or music) has no loudness and no peak: -inf dB, which JSON cannot
    hold, so both are null, ``sound.silent`` is true and ``sound.note`` says why.
    """
    silent = not math.isfinite(mix.true_peak_dbtp)  # not one sample above zero
    unmeasured: dict[str, str] = {}
    if not math.isfinite(mix.loudness):
        unmeasured["note"] = (
            "silent soundtrack: no loudness or peak to measure (null)"
            if silent
            else "under BS.1770's -70 LUFS gate: too quiet to measure a loudness (null)"
        )
    shots = []
    for shot in plan.shots:
        f = shot_files[shot.id]
        shots.append(
            {
                "id": shot.id,
                "start": round(shot.start, 6),
                "duration": round(shot.duration, 6),
                "frames": shot.frames,
                "reused": f.reused,
                "render_seconds": None if f.reused else round(f.seconds, 3),
                "render_fps": None if f.reused or not f.seconds else round(shot.frames / f.seconds, 1),
                "content_hash": f.key,
                "worker": f.worker or None,
                "conditioning": f.info or None,
            }
        )
    return {
        "tool": tool_info(),
        "storyboard": {"file": storyboard_file(plan.storyboard), "sha256": plan.storyboard_hash, "title": plan.title},
        "backend": {
            "name": backend_name,
            "model": plan.backend.model,
            **{k: v for k, v in identity.items() if k not in ("name", "model")},
        },
        "seed": plan.seed,
        "draft": draft,
        "output": {
            "file": str(output),
            "bytes": staged.stat().st_size,
            "duration": round(plan.duration, 6),
            "frames": plan.frames,
            "width": plan.width,
            "height": plan.height,
            "fps": plan.fps,
        },
        "sound": {
            "loudness_lufs": round(mix.loudness, 2) if math.isfinite(mix.loudness) else None,
            "target_lufs": plan.loudness,
            "true_peak_dbtp": round(mix.true_peak_dbtp, 2) if math.isfinite(mix.true_peak_dbtp) else None,
            "silent": silent,
            "limited": mix.limited,
            "reused": mix.reused,
            **unmeasured,
        },
        "subtitles": {"modes": list(plan.subtitles), "files": subtitles, "cues": cue_count},
        "outputs": {"film": str(output), **subtitles},
        "shots": shots,
        "reused": [s["id"] for s in shots if s["reused"]],
        "rendered": [s["id"] for s in shots if not s["reused"]],
    }


def stale_files(output: Path, outputs: dict[str, str]) -> list[Path]:
    """Files of the previous set (as its report lists them) that the new set does not have."""
    try:
        previous = json.loads(report_path(output).read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return []
    keep = {Path(p).name for p in outputs.values()}
    names = {p.name for p in set_paths(output).values()}
    return [
        output.with_name(Path(p).name)
        for p in previous.values()
        if isinstance(p, str) and Path(p).name in names and Path(p).name not in keep
    ]
