"""Start-up stays light: a command that draws nothing never loads the heavy libraries.

``sora --version`` and ``sora sounds`` once took 3-5 s because importing the CLI
imported every stage (scipy.signal alone is 1.6 s). The check is on what a fresh
interpreter has loaded (``sys.modules``), not on a time, so it cannot flake.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy", "cv2", "skia", "av", "torch", "ray", "diffusers")

_PROBE = f"""
import json, sys
sys.argv = ["sora", *json.loads(sys.argv[1])]
if sys.argv[1:] == ["<import>"]:
    import sora_cli.cli
else:
    from sora_cli.entry import main
    try:
        main()
    except SystemExit:
        pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {HEAVY!r})), file=sys.stderr)
"""


def loaded_by(args: list[str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["<import>"], ["--version"], ["sounds"]], ids=["import-cli", "version", "sounds"])
def test_a_light_command_loads_no_heavy_library(args: list[str]):
    assert loaded_by(args) == []


def test_the_probe_sees_a_heavy_library_when_one_is_loaded():
    """The probe is not blind: ``sora schema`` reads the storyboard model, which loads Skia (text fitting)."""
    assert "skia" in {name.split(".")[0] for name in loaded_by(["schema"])}


def test_a_render_forks_its_workers_before_scipy_or_opencv_is_loaded():
    """What a render imports before its workers fork (sora_cli.film) leaves scipy (0.9 s) and OpenCV to the
    stages that use them: the sound worker, the checks' thread, the burned-caption check."""
    probe = "import json, sys, sora_cli.film; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert not loaded & {"scipy", "cv2", "pyloudnorm", "opentimelineio"}  # (OpenTimelineIO: only for --otio)
    assert {"skia", "av"} <= loaded  # (the probe sees what the picture workers need)


_RENDER_TWICE = """
import json, shutil, sys
from pathlib import Path
from sora_cli.film import RenderRequest, render_film
path = Path(sys.argv[1])
first = render_film(RenderRequest(path, jobs=1))
shutil.rmtree(path.parent / ".sora-cache" / "qc" / "audio")  # the soundtrack stays stored, its measurement goes
second = render_film(RenderRequest(path, jobs=1))
print(json.dumps([first["qc"], second["qc"], "scipy.signal" in sys.modules, second["reused"]]))
"""


def test_a_stored_soundtrack_without_its_measurement_is_measured_by_the_sound_worker(storyboard_dir):
    """The soundtrack is copied from the cache but its measurement for the checks was lost (a pruned or
    wiped check cache): the sound worker measures it, so the conductor still never loads scipy, and the
    checks say exactly what they said with the measurement at hand."""
    from tests.conftest import example_text

    path = storyboard_dir / "polar_small.yaml"
    path.write_text(example_text("polar"))
    done = subprocess.run(
        [sys.executable, "-c", _RENDER_TWICE, str(path)], capture_output=True, text=True, timeout=600, check=True
    )
    first, second, scipy_loaded, reused = json.loads(done.stdout.strip().splitlines()[-1])
    assert reused and not scipy_loaded
    second["film"] = first["film"]
    assert second == first
