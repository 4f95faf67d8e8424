"""A third-party backend written from ``sora_cli/render/backend.py`` alone, installed through the entry point.

The package below imports nothing of sora but that file, registers itself in the
``sora_cli.backends`` entry-point group the way ``pip install`` would (a
``dist-info`` folder on the path), and renders a film with ``sora render``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from tests.conftest import decode_video

PLUGIN = '''
"""A backend that paints every frame one colour per shot, and counts its steps."""

import numpy as np

from sora_cli.render.backend import Backend, Carry, FilmSettings, ShotRender


class Solid(Backend):
    name = "solid"
    version = "1"

    @classmethod
    def check_options(cls, options):
        return [(key, f"unknown solid option {key!r} (options: shade)") for key in options if key != "shade"]

    def open(self, film: FilmSettings) -> None:
        self.film = film

    def render_shot(self, shot, carry, on_step=None):
        def frames():
            shade = (40 + 100 * shot.index) % 256
            frame = np.full((self.film.height, self.film.width, 3), shade, np.uint8)
            for i in range(shot.frames):
                if on_step is not None:
                    on_step(i + 1, shot.frames)
                yield frame
            return Carry(shot.id, frame)

        return ShotRender(frames())
'''

STORYBOARD = """\
version: 1
title: Plugin
output: {width: 160, height: 96, fps: 12}
backend: {name: solid}
world:
  location: "an empty room"
shots:
  - id: first
    duration: 1
    action: A grey frame.
  - id: second
    duration: 1
    action: A lighter frame.
"""


def _install(site: Path) -> None:
    """What ``pip install`` of a package declaring the entry point leaves on the path."""
    (site / "sora_solid.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    info = site / "sora_solid-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sora-solid\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[sora_cli.backends]\nsolid = sora_solid:Solid\n", encoding="utf-8")


def _sora(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).parents[1])])}
    code = "import sys; from sora_cli.cli import run; sys.argv = ['sora', *sys.argv[1:]]; run()"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)


def test_a_backend_built_from_the_contract_file_alone_renders_a_film(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install(site)
    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")

    listed = _sora(site, "validate", str(board))
    assert listed.returncode == 0, listed.stderr

    done = _sora(site, "render", str(board), "--json", "--no-qc", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["backend"]["name"] == "solid" and report["backend"]["version"] == "1"
    frames = decode_video(tmp_path / "film.mp4")
    assert len(frames) == 24
    # each shot is its own shade (x264 and BT.709 limited range move a flat grey by a step or two)
    first, second = float(np.mean(frames[3])), float(np.mean(frames[20]))
    assert abs(first - 40) < 4 and abs(second - 140) < 4

    # the defaults it did not write are there, and its own check runs before anything renders
    board.write_text(STORYBOARD.replace("{name: solid}", "{name: solid, options: {hue: 3}}"), encoding="utf-8")
    refused = _sora(site, "validate", str(board))
    assert refused.returncode == 2
    assert "backend.options.hue: unknown solid option 'hue'" in refused.stderr
