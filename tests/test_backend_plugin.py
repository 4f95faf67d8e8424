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
import pytest

from sora_cli.render.backend import Backend, Carry, FilmSettings, ShotRender
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


# --- the contract is checked at lookup and at render ----------------------------------------------------------


def _install_broken(site: Path, value: str, plugin: str = "") -> None:
    """A plugin distribution whose entry point ``solid`` names ``value``."""
    (site / "sora_broken.py").write_text(textwrap.dedent(plugin), encoding="utf-8")
    info = site / "sora_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sora-broken\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[sora_cli.backends]\nsolid = {value}\n", encoding="utf-8")


def test_a_broken_entry_point_is_one_usage_line_at_validate_and_broken_in_doctor(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _install_broken(site, "sora_broken:Missing", "class Nameless:\n    def render_shot(self, shot, carry): ...\n")
    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")

    refused = _sora(site, "validate", str(board), "--backend", "solid")
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert (
        "backend 'solid' (entry point solid = sora_broken:Missing): cannot be loaded: AttributeError" in refused.stderr
    )

    doctor = _sora(site, "doctor")
    assert "backend solid" in doctor.stdout and "broken: backend 'solid'" in doctor.stdout, doctor.stdout


class Nameless:
    """No ``name`` nor ``version``: not a backend."""

    def render_shot(self, shot, carry):
        raise AssertionError("never called")


class Solid:
    """A plugin class written from the contract file alone, not subclassing it (no on_step either)."""

    name = "solid"
    version = "1"
    shade = 90

    def open(self, film: FilmSettings) -> None:
        self.film = film

    def frames_for(self, shot):
        frame = np.full((self.film.height, self.film.width, 3), self.shade, np.uint8)
        for _ in range(shot.frames):
            yield frame
        return Carry(shot.id, frame)

    def render_shot(self, shot, carry):
        return ShotRender(self.frames_for(shot))


class Boom(Solid):
    def render_shot(self, shot, carry):
        raise RuntimeError("boom")


class Short(Solid):
    def frames_for(self, shot):
        frame = np.zeros((self.film.height, self.film.width, 3), np.uint8)
        yield frame
        return Carry(shot.id, frame)


class Skewed(Solid):
    def frames_for(self, shot):
        frame = np.zeros((self.film.height // 2, self.film.width, 3), np.uint8)
        for _ in range(shot.frames):
            yield frame
        return Carry(shot.id, frame)


class Switches(Solid):
    """RGB frames, then RGBA from frame 5: the encoder, fixed at the first frame, cannot take them."""

    def frames_for(self, shot):
        frame = np.full((self.film.height, self.film.width, 3), self.shade, np.uint8)
        for i in range(shot.frames):
            yield frame if i < 5 else np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
        return Carry(shot.id, frame)


class SaysRGBA(Solid):
    """Says its frames are RGBA (so the shot's encoder starts before them for four channels); they are RGB."""

    frame_channels = 4


class Chatty(Solid):
    @classmethod
    def check_options(cls, options):
        return "fine"


class OldSubclass(Backend):
    """A subclass written before on_step was a parameter: it reads ``self.on_step``."""

    name = "old"
    version = "1"
    on_step = None

    def render_shot(self, shot, carry):  # type: ignore[override]
        return self.on_step


def test_a_class_without_name_or_version_is_a_usage_error_naming_it():
    from sora_cli.errors import UsageError
    from sora_cli.render.registry import backend_class

    with pytest.raises(UsageError, match=r"Nameless: the class has no `name` .* and no `version`"):
        backend_class(Nameless)


def test_check_options_of_the_wrong_type_is_a_usage_error_before_anything_renders(tmp_path):
    from sora_cli import api
    from sora_cli.errors import UsageError

    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")
    with pytest.raises(
        UsageError, match=r"Chatty: check_options returned str 'fine', not a list of \(field, message\)"
    ):
        api.plan(board, backend=Chatty)
    assert not (tmp_path / "film.mp4").exists()


def test_a_backend_subclass_with_the_old_signature_is_adapted():
    from sora_cli.render.registry import backend_class

    adapted = backend_class(OldSubclass)
    steps = []
    assert adapted().render_shot(None, None, on_step=steps.append) == steps.append  # given as the attribute


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (Boom, "backend 'solid' failed on shot 'first': RuntimeError: boom"),
        (Short, "backend 'solid' failed on shot 'first': it yielded 1 frames, not the shot's 12"),
        (Skewed, "backend 'solid' failed on shot 'first': frame 0 is ndarray (48, 160, 3) uint8, not uint8 96x160x3"),
        (Switches, "backend 'solid' failed on shot 'first': frame 5 has 4 channels, its first frame 3"),
    ],
)
def test_a_backend_that_fails_in_a_shot_is_named_with_the_shot(tmp_path, cls, message):
    from sora_cli import api
    from sora_cli.errors import SoraError, UsageError

    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")
    request = api.RenderRequest(board, backend=cls, jobs=1, qc=False, use_cache=False)
    with pytest.raises(SoraError) as failed:
        api.render(request)
    assert not isinstance(failed.value, UsageError)
    assert message in str(failed.value) and "\n" not in str(failed.value)
    assert not (tmp_path / "film.mp4").exists()


def test_a_plugin_that_raises_in_a_shot_is_exit_1_with_one_line(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    plugin = PLUGIN.replace("        def frames():", "        raise RuntimeError('boom')\n\n        def frames():")
    _install_broken(site, "sora_broken:Solid", plugin)
    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")
    done = _sora(site, "render", str(board), "--no-qc", "--jobs", "1", "-q")
    assert done.returncode == 1, done.stderr
    # one line and nothing else: a sound worker still starting when the render stops is quiet too
    assert done.stderr.strip() == "sora: backend 'solid' failed on shot 'first': RuntimeError: boom"
    assert not (tmp_path / "film.mp4").exists()


def test_frames_that_are_not_what_the_backend_said_are_encoded_as_they_are(tmp_path):
    """frame_channels starts a shot's encoder before its first frame; a first frame with other channels
    starts it anew, and the film is the one the frames make."""
    from sora_cli import api

    board = tmp_path / "film.yaml"
    board.write_text(STORYBOARD, encoding="utf-8")
    api.render(api.RenderRequest(board, backend=SaysRGBA, jobs=1, qc=False, use_cache=False))
    frames = decode_video(tmp_path / "film.mp4")
    assert len(frames) == 24 and all(abs(float(np.mean(f)) - SaysRGBA.shade) < 4 for f in frames)
