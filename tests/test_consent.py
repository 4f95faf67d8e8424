"""Consent by identity: signed records, a revocation list that follows the person, likeness matching, cache purge."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from sora_cli.cameo.consent import record_revocation, sign_record
from tests.conftest import EXAMPLES, MINIMAL, render, run_cli

FACE = EXAMPLES / "cameos" / "ada" / "face_0.png"
CAMEO_SB = MINIMAL.replace('ann: {description: "baker in white"}', "ann: {cameo: ada}").replace(
    "title: Test", "title: Test\noutput: {width: 96, height: 64, fps: 4, subtitles: none}\naudio: {ambience: none}"
)


def _cameo(library: Path, capture: bytes = b"a capture", **changes) -> Path:
    """A signed cameo ``ada`` in ``library``, as `sora cameo add` leaves it (likeness: the example face)."""
    folder = library / "ada"
    folder.mkdir(parents=True)
    shutil.copy(FACE, folder / "face_0.png")
    record = {
        "format": 1,
        "name": "ada",
        "consent": {"by": "Ada L", "on": "2026-01-01", "expires": None},
        "capture_sha256": hashlib.sha256(capture).hexdigest(),
        "likeness": ["face_0.png"],
        "portrait": None,
        "voice": {"voice": "en-gb", "pitch": 60, "rate": 170},
        "revoked_on": None,
        **changes,
    }
    (folder / "cameo.json").write_text(json.dumps(sign_record(record), indent=2))
    return folder / "cameo.json"


def _validate(folder: Path, text: str = CAMEO_SB, *extra: str):
    (folder / "sb.yaml").write_text(text)
    return run_cli("validate", str(folder / "sb.yaml"), *extra)


@pytest.mark.parametrize(
    "edit,why",
    [
        (lambda r: r.update(revoked_on=None), "changed after sora signed it"),
        (lambda r: r["consent"].update(expires="2099-12-31"), "changed after sora signed it"),
        (lambda r: r["consent"].update(by="Someone Else"), "changed after sora signed it"),
        (lambda r: r.pop("signature"), "not signed by sora"),
        (lambda r: r["signature"].update(signer="0" * 64), "a key this machine does not trust"),
    ],
)
def test_a_hand_edited_consent_record_is_refused(tmp_path: Path, edit, why: str):
    manifest = _cameo(tmp_path / "cameos", revoked_on="2026-02-01", consent={"by": "Ada L", "expires": "2026-06-30"})
    assert _validate(tmp_path).code == 2  # revoked, signed: refused as revoked
    record = json.loads(manifest.read_text())
    edit(record)
    manifest.write_text(json.dumps(record))
    result = _validate(tmp_path)
    assert result.code == 2
    assert "world.characters.ann.cameo: cameo 'ada' cannot be used: not trusted: it " in result.stderr
    assert why in result.stderr
    assert str(manifest) in result.stderr
    [listed] = json.loads(run_cli("cameo", "list", "--library", str(tmp_path / "cameos"), "--json").stdout)
    assert listed["usable"] is False and why in listed["state"]


def test_the_shipped_example_cameo_is_trusted_anywhere():
    assert run_cli("validate", str(EXAMPLES / "polar.yaml")).code == 0
    [ada] = json.loads(run_cli("cameo", "list", "--library", str(EXAMPLES / "cameos"), "--json").stdout)
    assert ada["usable"] is True


def test_revocation_follows_the_person_into_a_copied_library(tmp_path: Path, own_config: Path):
    _cameo(tmp_path / "cameos")
    copy = tmp_path / "copy-made-before-revoking"
    shutil.copytree(tmp_path / "cameos", copy)
    assert _validate(tmp_path).code == 0
    assert run_cli("cameo", "revoke", "ada", "--library", str(tmp_path / "cameos")).code == 0
    result = _validate(tmp_path, CAMEO_SB, "--cameos", str(copy))
    assert result.code == 2
    assert "cameo 'ada' cannot be used: revoked on" in result.stderr and "revocation list" in result.stderr
    render_result = run_cli("render", str(tmp_path / "sb.yaml"), "--cameos", str(copy), "-q", "--no-cache")
    assert render_result.code == 2 and not (tmp_path / "sb.mp4").exists()
    listing = json.loads(run_cli("cameo", "list", "--library", str(copy), "--json").stdout)
    assert listing[0]["usable"] is False
    saved = json.loads((own_config / "revoked-cameos.json").read_text())
    assert saved["revoked"][0]["capture_sha256"] == hashlib.sha256(b"a capture").hexdigest()


def test_a_copy_of_a_revoked_face_crop_is_refused_as_a_reference(tmp_path: Path, own_config: Path):
    _cameo(tmp_path / "cameos")
    (tmp_path / "assets").mkdir()
    shutil.copy(FACE, tmp_path / "assets" / "exact.png")
    with Image.open(FACE) as face:
        face.convert("RGB").resize((180, 180)).save(tmp_path / "assets" / "resized.jpg", quality=60)
    shutil.copy(EXAMPLES / "assets" / "nora.png", tmp_path / "assets" / "someone-else.png")
    assert run_cli("cameo", "revoke", "ada", "--library", str(tmp_path / "cameos")).code == 0
    for name, refused in (("exact.png", True), ("resized.jpg", True), ("someone-else.png", False)):
        text = MINIMAL.replace('ann: {description: "baker in white"}', f'ann: {{reference: ["assets/{name}"]}}')
        result = _validate(tmp_path, text)
        assert (result.code == 2) is refused, (name, result.stderr)
        if refused:
            assert f"likeness image '{name}' shows revoked cameo 'ada'" in result.stderr


def test_a_revoked_capture_cannot_make_a_cameo_again(tmp_path: Path, own_config: Path):
    capture = tmp_path / "capture.mp4"
    capture.write_bytes(b"the same capture file")
    record_revocation("ada", hashlib.sha256(capture.read_bytes()).hexdigest(), [])
    result = run_cli(
        "cameo", "add", "ada", "--from", str(capture), "--consent-by", "Ada L", "--library", str(tmp_path / "lib")
    )
    assert result.code == 2 and "was revoked on" in result.stderr


def test_revoking_purges_the_cached_shots_that_show_the_cameo(tmp_path: Path, own_config: Path):
    _cameo(tmp_path / "cameos")
    (tmp_path / "sb.yaml").write_text(CAMEO_SB)
    report = render(tmp_path / "sb.yaml")
    cache = tmp_path / ".sora-cache" / "shots"
    by_shot = {s["id"]: s["content_hash"] for s in report["shots"]}
    assert (cache / by_shot["two"][:2] / f"{by_shot['two']}.mp4").is_file()  # shot "two" shows ann (the cameo)
    assert run_cli("cameo", "revoke", "ada", "--library", str(tmp_path / "cameos")).code == 0
    assert not (cache / by_shot["two"][:2] / f"{by_shot['two']}.mp4").exists()
    assert (cache / by_shot["one"][:2] / f"{by_shot['one']}.mp4").is_file()  # no cameo in it: kept
