"""Shared test helpers: run the CLI in-process, write storyboards, check them."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sora_cli.cli import app
from sora_cli.errors import StoryboardError
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard import parse_storyboard

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
