"""Shared test helpers: run the CLI in-process, write storyboards, check them."""

from __future__ import annotations

import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from sora_cli.cli import app
from sora_cli.errors import StoryboardError
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard import parse_storyboard

# property tests draw the same examples on every run (a suite that fails one run in four is a
# defect) and never replay examples saved by an earlier run
settings.register_profile("sora", derandomize=True, database=None)
settings.load_profile("sora")

# tests sign films with their own local C2PA chain, never the user's
os.environ.setdefault("SORA_CONFIG_DIR", tempfile.mkdtemp(prefix="sora-test-config-"))

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "storyboards"

MINIMAL = """\
version: 1
title: Test
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
    ann: {description: "baker in white"}
  props:
    bike: {description: "red bike"}
shots:
  - id: one
    cast: [kim]
    dialogue:
      - {speaker: kim, line: "Hello there."}
  - id: two
    cast: [ann]
"""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def problems_of(text: str, base_dir: Path = EXAMPLES) -> list[str]:
    """Every problem of a storyboard text (load, rules and plan), as printed lines."""
    try:
        make_plan(parse_storyboard(textwrap.dedent(text), "sb.yaml", base_dir))
    except StoryboardError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.fixture
def write_sb(tmp_path: Path):
    def write(text: str, name: str = "sb.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def small(text: str, width: int = 192, height: int = 108, fps: int = 12) -> str:
    """A storyboard text re-targeted to a small, fast output size."""
    import re

    text = re.sub(r"(?m)^output:\n(?:  .*\n)+", "", text)
    text = re.sub(r"(?m)^output: \{.*\}\n", "", text)
    return text.replace("title:", f"output: {{width: {width}, height: {height}, fps: {fps}}}\ntitle:", 1)


def example_text(name: str, **size) -> str:
    return small((EXAMPLES / f"{name}.yaml").read_text(), **size)


def render(path: Path, **kw):
    """Render through the API (no progress), returning the report."""
    from sora_cli.film import RenderRequest, render_film

    kw.setdefault("jobs", 1)
    return render_film(RenderRequest(storyboard=path, **kw))


def decode_video(path: Path) -> list:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def decode_audio(path: Path):
    from sora_cli.audio_files import decode_audio as dec

    dec.cache_clear()
    return dec(str(path))


@pytest.fixture
def storyboard_dir(tmp_path: Path) -> Path:
    """A copy of the examples folder (assets, cameos) to render in."""
    import shutil

    target = tmp_path / "film"
    shutil.copytree(
        EXAMPLES, target, ignore=shutil.ignore_patterns("*.mp4", ".sora-cache", "*.report.json", "*.srt", "*.vtt")
    )
    return target


@pytest.fixture
def own_config(tmp_path_factory, monkeypatch) -> Path:
    """A private SORA_CONFIG_DIR (revocation list, cache notes) holding the session's signing key.

    Revoking writes to the user's config; a test that revokes must not revoke
    the cameo of the tests that run after it in the same process.
    """
    import shutil

    from sora_cli.provenance import config_dir, credentials

    credentials()  # the session's key, made on first use
    folder = tmp_path_factory.mktemp("config")
    shutil.copytree(config_dir() / "c2pa", folder / "c2pa")
    monkeypatch.setenv("SORA_CONFIG_DIR", str(folder))
    return folder
