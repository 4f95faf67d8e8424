"""Render a storyboard's deliverables into one folder, with a manifest of what was made.

Each master is an ordinary :func:`sora_cli.film.render_film` of the storyboard
as :func:`sora_cli.storyboard.deliverables.for_deliverable` rewrites it, so it
gets its report, sidecars and QC under its own profile. They run one after
another on one shot cache: a shot whose planned content and frame size equal
one already drawn, and a soundtrack equal to one already mixed, are taken
from the cache (their keys are content hashes), which is what makes a matrix
cheaper than its separate renders.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from sora_cli.atomic import atomic_write_text
from sora_cli.errors import UsageError
from sora_cli.film import RenderRequest, render_film
from sora_cli.progress import NullProgress, Progress
from sora_cli.storyboard import load_storyboard
from sora_cli.storyboard.deliverables import for_deliverable

MANIFEST = "deliverables.json"


def deliverable_names(request: RenderRequest) -> list[str]:
    sb = load_storyboard(request.storyboard, request.cameo_dirs, request.policy)
    names = [d.name for d in sb.deliverables]
    if not names:
        raise UsageError(f"{request.storyboard}: no deliverables: list to render (see README, Deliverables)")
    return names


def default_folder(storyboard: str | Path) -> Path:
    """``ad.yaml`` -> ``ad.deliverables/`` beside it."""
    p = Path(storyboard)
    return p.with_name(p.stem + ".deliverables") if str(storyboard) != "-" else Path.cwd() / "deliverables"


def render_masters(
    request: RenderRequest, names: list[str], folder: Path, progress: Progress | None = None
) -> dict[str, Any]:
    """``folder/NAME.mp4`` (+ report, sidecars) for each name, and ``folder/deliverables.json``."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: with deliverables, -o names a folder")
    sb = load_storyboard(request.storyboard, request.cameo_dirs, request.policy)
    for name in names:  # every name known before anything is written
        for_deliverable(sb, name)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    entries: list[dict[str, Any]] = []
    for name in dict.fromkeys(names):
        report = render_film(
            dataclasses.replace(request, deliverable=name, output=folder / f"{name}.mp4"), progress or NullProgress()
        )
        out, qc = report["output"], report.get("qc")
        entries.append(
            {
                "name": name,
                "file": f"{name}.mp4",
                "bytes": out["bytes"],
                "settings": {
                    "width": out["width"],
                    "height": out["height"],
                    "fps": out["fps"],
                    "duration": out["duration"],
                    "profile": qc["profile"] if qc else None,
                    "subtitles": report["subtitles"]["modes"],
                    "shots": [s["id"] for s in report["shots"]],
                },
                "qc": {"passed": qc["passed"], "profile": qc["profile"]} if qc else None,
                "outputs": {k: Path(v).name for k, v in report["outputs"].items()},
                "reused_shots": report["reused"],
                "seconds": report["timings"]["total_seconds"],
            }
        )
    manifest = {
        "storyboard": report["storyboard"],
        "deliverables": entries,
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
