"""`validate` checks everything `render` checks before drawing: backend, options, model, every asset decodes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from sora_cli.audio_files import write_wav
from tests.conftest import MINIMAL, run_cli

SB = MINIMAL.replace("title: Test", "title: Test\noutput: {width: 64, height: 64, fps: 4}")


def _tone(path: Path, seconds: float = 1.0) -> Path:
    t = np.arange(int(48_000 * seconds)) / 48_000
    write_wav(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return path


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height: its IDAT is a few bytes of a zlib stream, never decoded here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)))
    return path


def _both(tmp_path: Path, text: str, *extra: str):
    """validate's and render's answers to the same storyboard."""
    path = tmp_path / "sb.yaml"
    path.write_text(text)
    validate = run_cli("validate", str(path), *extra)
    render = run_cli("render", str(path), "-q", "-o", str(tmp_path / "film.mp4"), "--no-cache", *extra)
    assert not (tmp_path / "film.mp4").exists()
    return validate, render


@pytest.mark.parametrize(
    "asset,where",
    [
        ("music", "audio.music.file"),
        ("ambience", "audio.ambience"),
        ("take", "shots[0].dialogue[0].audio"),
        ("sfx", "shots[1].sfx[0].sound"),
    ],
)
@pytest.mark.parametrize("damage", ["random", "truncated", "empty", "image"])
def test_bad_audio_is_refused_by_validate_and_render_alike(tmp_path: Path, asset: str, where: str, damage: str):
    path = tmp_path / "bad.wav"
    if damage == "random":
        path.write_bytes(np.random.default_rng(0).bytes(20_000))
    elif damage == "truncated":
        data = _tone(tmp_path / "whole.wav", 2.0).read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        write_wav(path, np.zeros(0, np.float32))
    else:
        _png_header_only(path, 8, 8)
    text = {
        "music": SB + "audio: {music: {file: bad.wav}}\n",
        "ambience": SB + "audio: {ambience: bad.wav}\n",
        "take": SB.replace('line: "Hello there."}', 'line: "Hello there.", audio: bad.wav}'),
        "sfx": SB.replace("cast: [ann]", "cast: [ann]\n    sfx: [{sound: bad.wav}]"),
    }[asset]
    validate, render = _both(tmp_path, text)
    assert validate.code == 2 and render.code == 2, (validate.stderr, render.stderr)
    [line] = validate.stderr.splitlines()
    assert f": {where}: " in line and "'bad.wav'" in line
    assert line in render.stderr  # the same problem, the same words


def test_a_truncated_wav_names_both_lengths(tmp_path: Path):
    data = _tone(tmp_path / "whole.wav", 2.0).read_bytes()
    (tmp_path / "bad.wav").write_bytes(data[: 44 + 48_000])  # 0.5 s of 2 s
    (tmp_path / "sb.yaml").write_text(SB + "audio: {music: {file: bad.wav}}\n")
    result = run_cli("validate", str(tmp_path / "sb.yaml"))
    assert "is truncated: its header says 2.00 s, the file holds 0.50 s" in result.stderr


@pytest.mark.parametrize(
    "make,why",
    [
        (lambda p: p.write_bytes(b"this is not an image at all"), "is not an image Pillow can decode"),
        (lambda p: _png_header_only(p, 30_000, 30_000), "30000x30000 (900,000,000 pixels)"),
        (lambda p: _png_header_only(p, 13_000, 13_000), "13000x13000 (169,000,000 pixels)"),
        (lambda p: _png_header_only(p, 64, 64), "is not an image Pillow can decode"),  # IDAT too short
    ],
)
def test_bad_likeness_images_are_refused_before_drawing(tmp_path: Path, make, why: str):
    make(tmp_path / "face.png")
    text = SB.replace('kim: {description: "courier in green"}', 'kim: {description: "courier", reference: [face.png]}')
    validate, render = _both(tmp_path, text)
    assert validate.code == 2 and render.code == 2
    [line] = validate.stderr.splitlines()
    assert "world.characters.kim.reference[0]: likeness image 'face.png'" in line and why in line
    assert line in render.stderr


def test_a_good_image_and_good_audio_pass(tmp_path: Path):
    from PIL import Image

    Image.new("RGB", (32, 32), (200, 100, 50)).save(tmp_path / "face.png")
    _tone(tmp_path / "music.wav")
    text = SB.replace('kim: {description: "courier in green"}', 'kim: {description: "c", reference: [face.png]}')
    (tmp_path / "sb.yaml").write_text(text + "audio: {music: {file: music.wav}}\n")
    assert run_cli("validate", str(tmp_path / "sb.yaml")).code == 0


def test_validate_checks_the_backend_its_options_and_model(tmp_path: Path):
    text = SB.replace("title: Test", "title: Test\nbackend: {name: animatc}")
    validate, render = _both(tmp_path, text)
    assert validate.code == 2 and render.code == 2
    assert "backend.name: no backend 'animatc'; did you mean 'animatic'?" in validate.stderr
    text = SB.replace("title: Test", "title: Test\nbackend: {options: {slat: true}}")
    validate, render = _both(tmp_path, text)
    assert validate.code == 2 and "backend.options.slat:" in validate.stderr
    assert validate.stderr.splitlines()[0] in render.stderr
    text = SB.replace("title: Test", "title: Test\nbackend: {name: diffusers, model: no-such-folder}")
    validate, _ = _both(tmp_path, text)
    assert validate.code == 2 and "backend.model:" in validate.stderr
