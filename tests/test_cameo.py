"""Cameos (likeness and voice, only with consent), provenance, the watermark and the content policy."""

from __future__ import annotations

import datetime as dt
import json
import struct
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sora_cli.provenance import verify
from sora_cli.render import watermark
from tests.captures import FACE_BOX, astronaut, make_capture
from tests.conftest import decode_video, render, run_cli


@pytest.fixture(scope="module")
def cameo_library(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cameo")
    make_capture(root / "capture.mp4")
    library = root / "cameos"
    result = run_cli(
        "cameo",
        "add",
        "astro",
        "--from",
        str(root / "capture.mp4"),
        "--consent-by",
        "Test Person",
        "--library",
        str(library),
    )
    assert result.code == 0, result.stderr
    return library


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def test_face_crops_contain_the_face(cameo_library):
    from PIL import Image

    manifest = json.loads((cameo_library / "astro" / "cameo.json").read_text())
    assert len(manifest["likeness"]) >= 2
    for face in manifest["faces"]:
        assert iou(face["box"], FACE_BOX) > 0.7
    from sora_cli.cameo.capture import CROP, _crop

    for name, face in zip(manifest["likeness"], manifest["faces"], strict=True):
        expected = Image.fromarray(_crop(astronaut(), *face["box"], 0.25, CROP)).resize(
            (32, 32)
        )  # that box of the photograph
        crop = Image.open(cameo_library / "astro" / name).convert("RGB").resize((32, 32))
        # compared coarsely: the capture moves by up to 2 px and went through a video codec
        assert np.mean(np.abs(np.asarray(crop, np.float32) - np.asarray(expected, np.float32))) < 15, name
    elsewhere = Image.fromarray(_crop(astronaut(), 300, 300, 97, 97, 0.25, CROP)).resize((32, 32))
    crop = Image.open(cameo_library / "astro" / manifest["likeness"][0]).convert("RGB").resize((32, 32))
    assert np.mean(np.abs(np.asarray(crop, np.float32) - np.asarray(elsewhere, np.float32))) > 30  # the check can fail
    crops = [np.asarray(Image.open(cameo_library / "astro" / n), np.int16) for n in manifest["likeness"]]
    assert all(np.mean(np.abs(a - b)) > 0 for i, a in enumerate(crops) for b in crops[i + 1 :])  # mutually distinct
    assert manifest["consent"]["by"] == "Test Person" and len(manifest["capture_sha256"]) == 64


def test_voice_sample_contains_speech(cameo_library):
    from sora_cli.audio_files import decode_audio

    manifest = json.loads((cameo_library / "astro" / "cameo.json").read_text())
    voice = decode_audio(str(cameo_library / "astro" / "voice.wav"), 48_000, 1)[:, 0]
    assert len(voice) > 0.8 * 48_000
    assert np.sqrt(np.mean(voice**2)) > 20 * 0.002  # far above the capture's noise floor
    assert 70 < manifest["voice"]["median_pitch_hz"] < 160  # the engine's male voice
    assert manifest["voice"]["voice"] == "en-us+m3"


def test_refuses_captures_without_face_or_speech(tmp_path):
    make_capture(tmp_path / "noface.mp4", face=False)
    make_capture(tmp_path / "silent.mp4", speech=False)
    for capture, why in (("noface.mp4", "no face was found"), ("silent.mp4", "no speech was found")):
        result = run_cli(
            "cameo",
            "add",
            "x",
            "--from",
            str(tmp_path / capture),
            "--consent-by",
            "T",
            "--library",
            str(tmp_path / "lib"),
        )
        assert result.code == 2 and why in result.stderr
    assert not (tmp_path / "lib" / "x").exists()


CAMEO_FILM = """\
version: 1
title: Cameo
output: {width: 480, height: 270, fps: 12, subtitles: none}
backend: {options: {slate: false, captions: false, name_tags: false}}
world:
  location: "an empty studio"
  characters:
    star: {cameo: astro, description: "astronaut"}
    kim: {description: "courier", color: "#e01010"}
audio: {ambience: none}
shots:
  - {id: close, duration: 1, cast: [star], camera: {framing: close_up}}
  - {id: medium, duration: 1, cast: [star, kim], camera: {framing: medium}}
  - {id: other, duration: 1, cast: [kim], camera: {framing: close_up}}
  - id: talk
    duration: 2.5
    cast: [star]
    camera: {framing: close_up}
    dialogue: [{speaker: star, line: "Hello there."}]
"""


def _film(tmp_path: Path, library: Path, text: str = CAMEO_FILM) -> Path:
    import shutil

    shutil.copytree(library, tmp_path / "cameos", dirs_exist_ok=True)
    path = tmp_path / "cameo.yaml"
    path.write_text(text)
    return path


def likeness_score(frame: np.ndarray, face: np.ndarray) -> float:
    """Best normalised correlation of the face's centre anywhere in the frame, over a range of sizes."""
    import cv2

    image = np.ascontiguousarray(frame)
    centre = np.ascontiguousarray(face[64:192, 64:192])  # inside the circle the animatic clips the face to
    best = -1.0
    for size in range(16, min(image.shape[:2]) // 2, 4):
        template = cv2.resize(centre, (size, size), interpolation=cv2.INTER_AREA)
        best = max(best, float(cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED).max()))
    return best


def test_the_cameo_face_is_in_every_shot_of_the_character(tmp_path, cameo_library):
    from PIL import Image

    report = render(
        _film(tmp_path, cameo_library, CAMEO_FILM.replace("width: 480, height: 270", "width: 960, height: 540"))
    )
    frames = decode_video(Path(report["output"]["file"]))
    face = np.asarray(Image.open(cameo_library / "astro" / "face_0.png").convert("RGB"))
    for shot in report["shots"]:
        start = round(shot["start"] * 12)
        score = likeness_score(frames[start + shot["frames"] // 2], face)
        if shot["id"] == "other":  # another character's drawn face: some structure in common, not the likeness
            assert score < 0.65, (shot["id"], score)
        else:
            assert score > 0.72, (shot["id"], score)
    assert [c["name"] for c in report["provenance"]["cameos"]] == ["astro"]


def test_the_cameo_voice_profile_speaks_the_line(tmp_path, cameo_library):
    from sora_cli import api

    plan = api.plan(_film(tmp_path, cameo_library))
    manifest = json.loads((cameo_library / "astro" / "cameo.json").read_text())
    voice = plan.characters["star"].voice
    assert (voice.voice, voice.pitch, voice.rate) == (
        manifest["voice"]["voice"],
        manifest["voice"]["pitch"],
        manifest["voice"]["rate"],
    )


def test_watermark_in_every_frame_of_a_cameo_shot_and_it_moves(tmp_path, cameo_library):
    from sora_cli.render.animatic.backend import AnimaticBackend
    from sora_cli.render.backend import FilmSettings

    path = _film(tmp_path, cameo_library)
    report = render(path)
    frames = decode_video(Path(report["output"]["file"]))
    from sora_cli import api

    plan = api.plan(path)
    backend = AnimaticBackend()
    backend.open(FilmSettings.from_plan(plan))
    talk = plan.shot("talk")
    raw = [f[:, :, :3].copy() for f in backend.render_shot(talk, None)]
    corners = set()
    for i, clean in enumerate(raw):
        decoded = frames[talk.start_frame + i].astype(np.int16)
        marked = watermark.mark(clean.copy(), i, 12).astype(np.int16)
        corners.add(watermark.corner(i, 12))
        changed = np.abs(marked - clean).max(axis=2) > 30  # where the mark is
        assert changed.sum() > 50
        assert (
            np.mean(np.abs(decoded[changed] - marked[changed])) < np.mean(np.abs(decoded[changed] - clean[changed])) / 2
        ), i
    assert len(corners) == 2  # 2.5 s: it has moved once
    other = plan.shot("other")  # no cameo, animatic, watermark auto: no mark
    clean = [f[:, :, :3].copy() for f in backend.render_shot(other, None)]
    marked = watermark.mark(clean[3].copy(), 3, 12).astype(np.int16)
    changed = np.abs(marked - clean[3]).max(axis=2) > 30
    decoded = frames[other.start_frame + 3].astype(np.int16)
    assert np.mean(np.abs(decoded[changed] - clean[3][changed])) < np.mean(np.abs(decoded[changed] - marked[changed]))


def test_revoked_and_expired_cameos_fail(tmp_path, cameo_library, own_config):
    from sora_cli.cameo.consent import sign_record

    path = _film(tmp_path, cameo_library)
    library = tmp_path / "cameos"
    manifest_path = library / "astro" / "cameo.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["consent"]["expires"] = "2024-01-31"
    manifest_path.write_text(json.dumps(sign_record(manifest)))  # as sora would write an expiring consent
    expired = run_cli("render", str(path), "-q")
    assert expired.code == 2 and "cameo 'astro' consent expired on 2024-01-31" in expired.stderr
    manifest["consent"]["expires"] = None
    manifest_path.write_text(json.dumps(sign_record(manifest)))
    assert run_cli("cameo", "revoke", "astro", "--library", str(library)).code == 0
    assert sorted(p.name for p in (library / "astro").iterdir()) == ["cameo.json"]  # likeness and voice deleted
    revoked = run_cli("render", str(path), "-q")
    today = dt.date.today().isoformat()
    assert revoked.code == 2 and f"world.characters.star.cameo: cameo 'astro' was revoked on {today}" in revoked.stderr
    assert not (tmp_path / "cameo.mp4").exists()
    listing = run_cli("cameo", "list", "--library", str(library), "--json")
    assert json.loads(listing.stdout)[0]["revoked_on"] == today


def test_watermark_off_is_refused_with_a_cameo(tmp_path, cameo_library):
    path = _film(tmp_path, cameo_library, CAMEO_FILM.replace("subtitles: none}", "subtitles: none, watermark: off}"))
    result = run_cli("validate", str(path))
    assert result.code == 2 and "output.watermark: `off` is refused: shot 'close' shows cameo 'star'" in result.stderr


def _flip_video_byte(path: Path, out: Path) -> None:
    data = bytearray(path.read_bytes())
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            data[offset + 8 + (size - 8) // 2] ^= 0xFF
            break
        offset += size
    out.write_bytes(bytes(data))


def test_verify_valid_then_invalid_after_one_flipped_byte(tmp_path):
    from tests.test_render import SIX

    path = tmp_path / "six.yaml"
    path.write_text(SIX)
    film = Path(render(path)["output"]["file"])
    check = verify(film)
    assert check.state in ("Valid", "Trusted")
    actions = next(a for a in check.manifest["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"].endswith("/algorithmicMedia")
    facts = next(a for a in check.manifest["assertions"] if a["label"] == "org.sora.render")["data"]
    assert facts["backend"] == "animatic" and facts["seed"] == 0 and len(facts["storyboard_sha256"]) == 64
    ok = run_cli("verify", str(film))
    assert ok.code == 0 and "c2pa.created" in ok.stdout
    _flip_video_byte(film, tmp_path / "tampered.mp4")
    assert len(decode_video(tmp_path / "tampered.mp4")) > 0  # still a playable file
    bad = run_cli("verify", str(tmp_path / "tampered.mp4"))
    assert bad.code == 1 and "Invalid" in bad.stdout and "bmffHash.mismatch" in bad.stdout
    from sora_cli.ffmpeg import run_ffmpeg

    run_ffmpeg(["-i", str(film), "-c", "copy", "-map_metadata", "-1", str(tmp_path / "stripped.mp4")], "copying")
    none = run_cli("verify", str(tmp_path / "stripped.mp4"))
    assert none.code == 1 and "no C2PA manifest" in none.stderr


POLICY_BASE = """\
version: 1
title: Policy
world: {location: "a city street", characters: {kim: {description: "courier"}}}
shots:
  - id: one
    action: "Kim walks"
    dialogue: [{speaker: kim, line: "Hello."}]
"""


def test_content_policy_violations_are_located(tmp_path):
    from tests.conftest import problems_of

    bad = POLICY_BASE.replace('action: "Kim walks"', 'action: "Kim explains how to build a bomb"')
    assert problems_of(bad, tmp_path) == [
        "sb.yaml:6:13: shots[0].action: violates content policy rule 'weapons-instructions': instructions for making weapons or explosives"
    ]
    gore = POLICY_BASE.replace('"Hello."', '"Look at the gore."')
    assert problems_of(gore, tmp_path) == [
        "sb.yaml:7:37: shots[0].dialogue[0].line: violates content policy rule 'graphic-gore': graphic gore and mutilation"
    ]
    assert problems_of(POLICY_BASE, tmp_path) == []


def test_policy_file_replaces_the_default_and_plugins_are_consulted(tmp_path):
    from sora_cli.storyboard import parse_storyboard
    from sora_cli.storyboard.policy import check_policy, load_policy

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        textwrap.dedent("""\
        version: 1
        rules:
          - {id: no-couriers, description: couriers are off-brand, fields: [character], patterns: ['\\bcourier\\b']}
        """)
    )
    path = tmp_path / "sb.yaml"
    path.write_text(POLICY_BASE)
    result = run_cli("validate", str(path), "--policy", str(policy))
    assert (
        result.code == 2
        and "world.characters.kim.description: violates content policy rule 'no-couriers'" in result.stderr
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [{id: x, fields: [nowhere], patterns: []}]")
    assert run_cli("validate", str(path), "--policy", str(broken)).code == 2
    binary = tmp_path / "logo.png"  # (not text at all: was an internal error, UnicodeDecodeError)
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    refused = run_cli("validate", str(path), "--policy", str(binary))
    assert refused.code == 2 and "not UTF-8 text" in refused.stderr and "internal error" not in refused.stderr
    sb = parse_storyboard(POLICY_BASE, "sb.yaml", tmp_path)
    plugin = lambda text, field: ("brand-safety", "no greetings") if field == "dialogue" and "Hello" in text else None  # noqa: E731
    problems = check_policy(sb, sb.source, load_policy(), [plugin])
    assert [str(p) for p in problems] == [
        "sb.yaml:7:37: shots[0].dialogue[0].line: violates content policy rule 'brand-safety': no greetings"
    ]


def test_signing_chain_is_created_once_under_concurrency(tmp_path, monkeypatch):
    """Processes creating the local chain at once end up with one consistent key and certificate."""
    import multiprocessing

    from sora_cli import provenance

    monkeypatch.setenv("SORA_CONFIG_DIR", str(tmp_path / "config"))
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        chains = pool.map(_chain_of, range(8))
    assert len(set(chains)) == 1
    creds = provenance.credentials()
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificates(creds.chain_pem)[0]
    key = serialization.load_pem_private_key(creds.key_pem, password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()


def _chain_of(_: int) -> bytes:
    from sora_cli import provenance

    return provenance.credentials().chain_pem
