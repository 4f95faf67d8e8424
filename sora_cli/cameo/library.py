"""Where cameos live and whether one may be used.

A cameo is a folder ``NAME/`` holding ``cameo.json`` (the manifest with the
consent record) and the likeness and voice data. Consent is checked every time
a storyboard names a cameo: a revoked or expired cameo can never be rendered.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "cameo.json"


def library_dirs(storyboard_dir: Path, override: Path | None = None) -> list[Path]:
    """Search order: ``--cameos``/``$SORA_CAMEOS``, ``cameos/`` beside the storyboard, the user's data dir."""
    if override is not None:
        return [override]
    if env := os.environ.get("SORA_CAMEOS"):
        return [Path(env)]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return [storyboard_dir / "cameos", data_home / "sora" / "cameos"]


def default_library() -> Path:
    """Where `sora cameo` works: ``$SORA_CAMEOS``, else ``./cameos`` if it exists, else the user's data dir."""
    if env := os.environ.get("SORA_CAMEOS"):
        return Path(env)
    if (Path.cwd() / "cameos").is_dir():
        return Path.cwd() / "cameos"
    return library_dirs(Path.cwd())[-1]


def list_cameos(library: Path) -> list[dict[str, Any]]:
    out = []
    for manifest in sorted(library.glob(f"*/{MANIFEST}")):
        try:
            out.append(json.loads(manifest.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            out.append({"name": manifest.parent.name, "error": "unreadable manifest"})
    return out


@dataclass(frozen=True)
class Cameo:
    name: str
    folder: Path
    manifest: dict[str, Any]

    @property
    def likeness(self) -> list[Path]:
        return [self.folder / p for p in self.manifest.get("likeness", [])]

    @property
    def voice(self) -> dict[str, Any]:
        return dict(self.manifest.get("voice") or {})

    @property
    def content_hash(self) -> str:
        return str(self.manifest.get("capture_sha256", ""))


class CameoRefused(Exception):
    """The cameo cannot be used; the message says why in the user's terms."""


def find_cameo(name: str, dirs: list[Path], today: dt.date | None = None) -> Cameo:
    """Return the usable cameo ``name`` or raise :class:`CameoRefused`."""
    today = today or dt.date.today()
    for root in dirs:
        manifest_path = root / name / MANIFEST
        if not manifest_path.is_file():
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CameoRefused(f"cameo {name!r} has an unreadable manifest ({manifest_path}): {exc}") from None
        if revoked := manifest.get("revoked_on"):
            raise CameoRefused(f"cameo {name!r} was revoked on {revoked}")
        consent = manifest.get("consent") or {}
        if not consent.get("by"):
            raise CameoRefused(f"cameo {name!r} has no consent record; it cannot be used")
        expires = consent.get("expires")
        if expires and dt.date.fromisoformat(str(expires)) < today:
            raise CameoRefused(f"cameo {name!r} consent expired on {expires}")
        return Cameo(name=name, folder=root / name, manifest=manifest)
    searched = ", ".join(str(d) for d in dirs)
    raise CameoRefused(
        f"cameo {name!r} not found (searched {searched}); make one with "
        f'`sora cameo add {name} --from CAPTURE.mp4 --consent-by "FULL NAME"`'
    )
