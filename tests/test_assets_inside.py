"""Assets stay inside the storyboard's folder unless the user names another; nothing leaks absolute paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sora_cli.audio_files import write_wav
from tests.conftest import EXAMPLES, MINIMAL, render, run_cli

SB = MINIMAL.replace("title: Test", "title: Test\noutput: {width: 64, height: 64, fps: 4, subtitles: sidecar}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/project/ (the storyboard's folder) beside tmp/elsewhere/ holding a face and a tone."""
    inside, outside = tmp_path / "project", tmp_path / "elsewhere"
    (inside / "assets").mkdir(parents=True)
    outside.mkdir()
    for folder in (inside / "assets", outside):
        Image.new("RGB", (16, 16), (200, 120, 90)).save(folder / "face.png")
        write_wav(folder / "tone.wav", (0.2 * np.sin(np.arange(24_000) / 8)).astype(np.float32))
    return inside


def _sb(project: Path, reference: str = "assets/face.png", music: str = "assets/tone.wav", sfx: str = "door_knock"):
    text = SB.replace('kim: {description: "courier in green"}', f'kim: {{description: "c", reference: ["{reference}"]}}')
    text = text.replace("cast: [ann]", f'cast: [ann]\n    sfx: [{{sound: "{sfx}"}}]')
    path = project / "sb.yaml"
    path.write_text(text + f'audio: {{music: {{file: "{music}"}}}}\n')
    return path


@pytest.mark.parametrize(
    "field,value",
    [
        ("reference", "../elsewhere/face.png"),
        ("reference", "ABS/face.png"),
        ("music", "../elsewhere/tone.wav"),
        ("music", "ABS/tone.wav"),
        ("sfx", "assets/../../elsewhere/tone.wav"),
        ("reference", "LINK/face.png"),
    ],
)
def test_assets_outside_the_folder_are_exit_2_unless_allowed(project: Path, field: str, value: str):
    outside = project.parent / "elsewhere"
    (project / "assets" / "link").symlink_to(outside, target_is_directory=True)
    value = value.replace("ABS", str(outside)).replace("LINK", "assets/link")
    path = _sb(project, **{field: value})
    refused = run_cli("validate", str(path))
    assert refused.code == 2, refused.stderr
    [line] = refused.stderr.splitlines()
    assert "is outside the storyboard's folder" in line and "--allow-assets" in line
    rendered = run_cli("render", str(path), "-q", "--no-cache")
    assert rendered.code == 2 and line in rendered.stderr
    allowed = run_cli("validate", str(path), "--allow-assets", str(outside))
    assert allowed.code == 0, allowed.stderr


def test_a_symlink_that_stays_inside_is_fine(project: Path):
    (project / "assets" / "same.png").symlink_to(project / "assets" / "face.png")
    assert run_cli("validate", str(_sb(project, reference="assets/same.png"))).code == 0


def test_plan_json_has_no_absolute_paths(project: Path):
    path = _sb(project)
    result = run_cli("plan", str(path), "--json")
    assert result.code == 0, result.stderr
    assert str(project.parent) not in result.stdout
    plan = json.loads(result.stdout)
    assert plan["base_dir"] == "." and plan["audio"]["music"] == "assets/tone.wav"
    assert plan["characters"]["kim"]["reference"] == ["assets/face.png"]


def test_plan_json_of_the_examples_has_no_absolute_paths():
    for example in sorted(EXAMPLES.glob("*.yaml")):
        result = run_cli("plan", str(example), "--json")
        assert result.code == 0 and str(EXAMPLES) not in result.stdout, example


def test_the_written_report_has_no_absolute_paths(project: Path, tmp_path: Path):
    out = tmp_path / "deliver" / "film.mp4"
    out.parent.mkdir()
    report = render(_sb(project), output=out)
    assert Path(report["output"]["file"]).is_file()  # the API's own answer still points at the film
    saved = (out.parent / "film.report.json").read_text()
    assert str(tmp_path) not in saved
    data = json.loads(saved)
    assert data["output"]["file"] == "film.mp4" and data["outputs"]["srt"] == "film.srt"


def test_stdin_reads_assets_from_the_current_folder_only(project: Path, monkeypatch):
    monkeypatch.chdir(project)
    text = _sb(project, reference="../elsewhere/face.png").read_text()
    result = run_cli("validate", "-", stdin=text)
    assert result.code == 2 and "outside the storyboard's folder" in result.stderr
    shutil.rmtree(project.parent / "elsewhere")
