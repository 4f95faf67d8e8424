"""Consent that follows the person, not the folder.

Three mechanisms, each closing a way around a revocation:

- **Signed records.** ``sora cameo add`` and ``revoke`` sign ``cameo.json`` with
  the local C2PA key (:func:`sora_cli.provenance.credentials`); a record whose
  signature does not verify (a hand edit such as ``revoked_on: null`` or a
  later ``expires``) or that has none is refused. The example cameo shipped in
  ``storyboards/cameos`` is signed by sora's example key, whose private half
  was discarded after signing it.
- **A revocation list** in the user's config folder (``SORA_CONFIG_DIR``),
  keyed by the capture's sha256: a copy of the library made before revoking,
  under any ``--cameos`` folder, is still refused. It also keeps the exact and
  perceptual (difference) hashes of the deleted face crops, so a likeness image
  that is a copy of one (even resized or re-encoded) is refused.
- **Shot-cache purge.** Renders note which cached shot files show which cameo
  (by capture hash, in the config folder); revoking deletes them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sora_cli.atomic import atomic_write_text
from sora_cli.digests import file_version
from sora_cli.errors import SoraError
from sora_cli.provenance import config_dir, credentials

SIGNATURE = "signature"
REVOKED_FILE = "revoked-cameos.json"
CACHE_NOTES_FILE = "cameo-shots.jsonl"
#: Two difference hashes this close (of 64 bits) are the same picture, resized or re-encoded.
DHASH_DISTANCE = 10
#: ... and whose 8x8 colour thumbnails differ by at most this much per channel (0-255) on average.
THUMB_DISTANCE = 10

#: sora's example signer: it signed the fictional example cameo in storyboards/cameos and was
#: then discarded, so it vouches for that record and can sign nothing else.
EXAMPLE_SIGNER_PEM = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEm0IjppS/GJw2TBzrJsFVQOstRoEA
+RgRXlY+oY6YZkbJlf1wn2hyc1v22pTv4o7SWV8YVGnCAiBaBgHIOGhB6w==
-----END PUBLIC KEY-----
"""


def _config_dir() -> Path:
    return config_dir()


# --- signatures -----------------------------------------------------------------------------------


def _payload(record: dict[str, Any]) -> bytes:
    body = {key: value for key, value in record.items() if key != SIGNATURE}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _fingerprint(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _local_key() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(credentials().key_pem, password=None)


def sign_record(record: dict[str, Any], key: Any = None) -> dict[str, Any]:
    """``record`` with a signature over everything else in it (the local key unless ``key``)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = key or _local_key()
    signature = key.sign(_payload(record), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    return {
        **{k: v for k, v in record.items() if k != SIGNATURE},
        SIGNATURE: {
            "alg": "ES256",
            "signer": _fingerprint(key.public_key()),
            "value": base64.b64encode(signature).decode(),
        },
    }


def _trusted_keys() -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    keys = {}
    try:
        example = serialization.load_pem_public_key(EXAMPLE_SIGNER_PEM)
        keys[_fingerprint(example)] = example
    except ValueError:
        pass
    local = _local_key().public_key()
    keys[_fingerprint(local)] = local
    return keys


def signature_problem(record: dict[str, Any]) -> str | None:
    """Why the record's signature does not vouch for it, or None when it does."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    signature = record.get(SIGNATURE)
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return "it is not signed by sora (records are signed when `sora cameo add` writes them)"
    key = _trusted_keys().get(str(signature.get("signer")))
    if key is None:
        return "it was signed with a key this machine does not trust (made elsewhere?); add the cameo here again"
    try:
        key.verify(base64.b64decode(signature["value"], validate=True), _payload(record), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return "it was changed after sora signed it (a hand edit?); add the cameo again with `sora cameo add`"
    return None


# --- the revocation list --------------------------------------------------------------------------


def picture_hashes(path: Path) -> tuple[int, bytes]:
    """A 64-bit difference hash (structure) and an 8x8 RGB thumbnail (colour) of an image.

    Both survive resizing and re-encoding; together they tell two people drawn
    or photographed alike (same structure, other colours) apart.
    """
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB")
        grey = rgb.convert("L").resize((9, 8), Image.Resampling.LANCZOS).tobytes()
        thumb = rgb.resize((8, 8), Image.Resampling.BOX).tobytes()
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | int(grey[row * 9 + col + 1] > grey[row * 9 + col])
    return bits, thumb


def _revocations() -> list[dict[str, Any]]:
    path = _config_dir() / REVOKED_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise SoraError(f"the cameo revocation list {path} cannot be read ({exc}); no cameo can be checked") from None
    entries = data.get("revoked") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def revocation_of(capture_sha256: str) -> dict[str, Any] | None:
    """The revocation-list entry of a capture, if it was revoked (in any library)."""
    if not capture_sha256:
        return None
    return next((e for e in _revocations() if e.get("capture_sha256") == capture_sha256), None)


def record_revocation(name: str, capture_sha256: str, crops: Iterable[Path]) -> None:
    """Add a cameo to the revocation list, with the hashes of its face crops (call before deleting them)."""
    hashes = []
    for crop in crops:
        if crop.is_file():
            structure, colour = picture_hashes(crop)
            hashes.append(
                {
                    "sha256": hashlib.sha256(crop.read_bytes()).hexdigest(),
                    "dhash": f"{structure:016x}",
                    "thumb": colour.hex(),
                }
            )
    entries = [e for e in _revocations() if e.get("capture_sha256") != capture_sha256 or not capture_sha256]
    entries.append(
        {"name": name, "capture_sha256": capture_sha256, "revoked_on": dt.date.today().isoformat(), "crops": hashes}
    )
    folder = _config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / REVOKED_FILE, json.dumps({"format": 1, "revoked": entries}, indent=2) + "\n")


def revoked_likeness(path: Path) -> str | None:
    """The name of the revoked cameo whose face crop ``path`` shows (a copy, or resized/re-encoded), else None."""
    entries = _revocations()
    if not entries:
        return None
    return _match(str(path), file_version(path.stat()), json.dumps(entries, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _match(path: str, version: tuple[int, ...], entries_json: str) -> str | None:
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    structure, colour = picture_hashes(Path(path))
    for entry in json.loads(entries_json):
        for crop in entry.get("crops") or []:
            if crop.get("sha256") == digest:
                return str(entry.get("name"))
            try:
                known, known_colour = int(str(crop.get("dhash")), 16), bytes.fromhex(str(crop.get("thumb")))
            except ValueError:
                continue
            # a nearly flat picture has almost no gradient bits: too little to match on
            if not 8 <= known.bit_count() <= 56 or len(known_colour) != len(colour):
                continue
            colour_gap = sum(abs(a - b) for a, b in zip(known_colour, colour, strict=True)) / len(colour)
            if (known ^ structure).bit_count() <= DHASH_DISTANCE and colour_gap <= THUMB_DISTANCE:
                return str(entry.get("name"))
    return None


# --- cached shots that show a cameo ---------------------------------------------------------------

_CACHE_FILE = re.compile(r"^[0-9a-f]{64}\.(mp4|carry)$")


def note_cached_shots(shots: dict[str, list[Path]]) -> None:
    """Remember which cached shot files show which cameo (capture hash -> files), for revoking."""
    lines = [
        json.dumps({"capture_sha256": capture, "files": sorted({str(p.absolute()) for p in files})}) + "\n"
        for capture, files in sorted(shots.items())
        if capture and files
    ]
    if not lines:
        return
    folder = _config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / CACHE_NOTES_FILE, "a", encoding="utf-8") as fh:  # appends of one line do not interleave
        fh.write("".join(lines))


def purge_cached_shots(capture_sha256: str) -> int:
    """Delete the cached shot files noted for a capture; returns how many were deleted.

    Only files that look like sora's shot-cache entries (a 64-hex name with
    ``.mp4`` or ``.carry``, in a ``shots/`` folder) are touched.
    """
    notes = _config_dir() / CACHE_NOTES_FILE
    if not notes.is_file() or not capture_sha256:
        return 0
    keep, deleted = [], 0
    for line in notes.read_text(encoding="utf-8").splitlines():
        try:
            note = json.loads(line)
        except ValueError:
            continue
        if note.get("capture_sha256") != capture_sha256:
            keep.append(line + "\n")
            continue
        for name in note.get("files") or []:
            video = Path(str(name))
            for path in (video, video.with_suffix(".carry")):
                if _CACHE_FILE.match(path.name) and path.parent.parent.name == "shots" and path.is_file():
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                        deleted += 1
    atomic_write_text(notes, "".join(keep))
    return deleted
