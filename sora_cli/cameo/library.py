"""Where cameos live and whether one may be used.

A cameo is a folder ``NAME/`` holding ``cameo.json`` (the manifest with the
consent record) and the likeness and voice data. Consent is checked every time
a storyboard names a cameo: a revoked or expired cameo can never be rendered.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sora_cli.cameo.consent import revocation_of, signature_problem
from sora_cli.errors import UsageError

MANIFEST = "cameo.json"
#: A cameo record is a small JSON file; anything larger is not one of ours.
MAX_MANIFEST_BYTES = 1024 * 1024
_FILE_NAME = r"^[A-Za-z0-9_.-]+$"  # a file inside the cameo's own folder, never a path out of it


class _Consent(BaseModel):
    model_config = ConfigDict(extra="allow")
    by: str = ""
    on: dt.date | None = None
    expires: dt.date | None = None


class _Record(BaseModel):
    """The fields of ``cameo.json`` that decide whether and how a cameo is used."""

    model_config = ConfigDict(extra="allow")
    format: int = 1
    name: str = ""
    consent: _Consent = Field(default_factory=_Consent)
    capture_sha256: str = Field("", pattern=r"^([0-9a-f]{64})?$")
    likeness: list[Annotated[str, Field(pattern=_FILE_NAME)]] = Field(default_factory=list)
    portrait: Annotated[str, Field(pattern=_FILE_NAME)] | None = None
    voice: dict[str, Any] | None = None
    revoked_on: dt.date | None = None


class BrokenRecord(Exception):
    """A ``cameo.json`` that cannot be read or has the wrong shape; the message names the file."""


def read_record(path: Path) -> dict[str, Any]:
    """A cameo's record, checked for shape; :class:`BrokenRecord` says what is wrong and where."""
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise BrokenRecord(f"{path}: larger than {MAX_MANIFEST_BYTES // 1024} KiB; not a cameo record")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BrokenRecord(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, RecursionError) as exc:
        raise BrokenRecord(f"{path}: not valid JSON ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(data, dict):
        raise BrokenRecord(f"{path}: a cameo record is a JSON object")
    try:
        _Record.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in err["loc"]) or "record"
        raise BrokenRecord(f"{path}: {where}: {err['msg']}") from None
    return data


def record_state(record: dict[str, Any], today: dt.date | None = None) -> str:
    """``usable``, or why not: ``revoked on D``, ``expired on D``, ``no consent``."""
    today = today or dt.date.today()
    checked = _Record.model_validate(record)
    if checked.revoked_on:
        return f"revoked on {checked.revoked_on}"
    if not checked.consent.by.strip():
        return "no consent"
    if checked.consent.expires and checked.consent.expires < today:
        return f"expired on {checked.consent.expires}"
    return "usable"


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


def cameo_name(name: str) -> str:
    """``name`` when it can name a cameo (its folder): lowercase letters, digits, ``_`` and ``-``."""
    if not re.fullmatch(r"[a-z0-9_-]{1,64}", name):
        raise UsageError(f"{name!r} is not a valid cameo name: use lowercase letters, digits, '_' and '-'")
    return name


def cameo_record_text(name: str, library: Path) -> str:
    """The text of cameo ``name``'s record as stored (``sora cameo show``); a usage error when there is none."""
    path = library / cameo_name(name) / MANIFEST
    if not path.is_file():
        raise UsageError(f"no cameo {name!r} in {library}")
    return path.read_text(encoding="utf-8")


def list_cameos(library: Path) -> list[dict[str, Any]]:
    """Every cameo in ``library`` with its ``state`` (``usable`` or why not); broken records included."""
    out = []
    for manifest in sorted(library.glob(f"*/{MANIFEST}")):
        try:
            record = read_record(manifest)
        except BrokenRecord as exc:
            out.append({"name": manifest.parent.name, "state": "broken", "usable": False, "error": str(exc)})
            continue
        state = identity_state(record) or record_state(record)
        out.append({**record, "name": manifest.parent.name, "state": state, "usable": state == "usable"})
    return out


def identity_state(record: dict[str, Any]) -> str | None:
    """Why the record cannot be trusted or its person is revoked whatever the folder, or None.

    A signature that does not verify comes first (a tombstone is signed too); a
    tombstone (``revoked_on`` set) is then reported by :func:`record_state`; last,
    the user's revocation list.
    """
    if why := signature_problem(record):
        return f"not trusted: {why}"
    if record.get("revoked_on"):
        return None
    if entry := revocation_of(str(record.get("capture_sha256") or "")):
        return f"revoked on {entry.get('revoked_on')} (on the revocation list, in another library)"
    return None


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
    def voice_sample(self) -> Path | None:
        """The recorded voice (``voice.wav``) the record names, when the file is there."""
        name = self.manifest.get("voice_sample")
        path = self.folder / name if isinstance(name, str) and re.fullmatch(_FILE_NAME, name) else None
        return path if path is not None and path.is_file() else None

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
            manifest = read_record(manifest_path)
        except BrokenRecord as exc:
            raise CameoRefused(f"cameo {name!r} cannot be used: its record is broken ({exc})") from None
        if identity := identity_state(manifest):
            raise CameoRefused(f"cameo {name!r} cannot be used: {identity} ({manifest_path})")
        state = record_state(manifest, today)
        if state.startswith("revoked"):
            raise CameoRefused(f"cameo {name!r} was {state}")
        if state == "no consent":
            raise CameoRefused(f"cameo {name!r} has no consent record; it cannot be used")
        if state.startswith("expired"):
            raise CameoRefused(f"cameo {name!r} consent {state}")
        return Cameo(name=name, folder=root / name, manifest=manifest)
    searched = ", ".join(str(d) for d in dirs)
    raise CameoRefused(
        f"cameo {name!r} not found (searched {searched}); make one with "
        f'`sora cameo add {name} --from CAPTURE.mp4 --consent-by "FULL NAME"`'
    )
