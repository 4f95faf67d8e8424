"""A matrix of masters with a real (tiny) model: each is generated at its own shape, never cropped from another."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json

import pytest

pytest.importorskip("diffusers")

from sora_cli.testing import make_tiny_pipeline
from tests.conftest import decode_video, run_cli

CAMPAIGN = """\
version: 1
title: Two shapes
seed: 3
output: {{width: 192, height: 108, fps: 12, subtitles: none}}
backend: {{name: diffusers, model: {model}, options: {{steps: 2, frames_per_chunk: 9, max_sequence_length: 16}}}}
world: {{location: "a harbour at dawn"}}
audio: {{ambience: none}}
shots:
  - {{id: a, duration: 0.5, action: "waves break"}}
  - {{id: b, duration: 0.5}}
deliverables:
  - {{name: wide, width: 192, height: 108}}
  - {{name: tall, width: 108, height: 192}}
"""


def test_each_deliverable_is_generated_at_its_own_shape(tmp_path, monkeypatch):
    import diffusers

    model = make_tiny_pipeline(tmp_path / "model", "ltx")
    asked: list[tuple[int, int]] = []
    original = diffusers.LTXPipeline.__call__

    def recording(self, *args, **kwargs):
        asked.append((kwargs["width"], kwargs["height"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(diffusers.LTXPipeline, "__call__", recording)
    board = tmp_path / "campaign.yaml"
    board.write_text(CAMPAIGN.format(model=model))
    out = tmp_path / "masters"
    result = run_cli("render", str(board), "--all-deliverables", "-o", str(out), "--jobs", "1", "-q", "--no-cache")
    assert result.code == 0, result.stderr[-2000:]
    # LTX's multiple is 32: each shape at the film's area, rounded down (192x108 -> 192x96, 108x192 -> 96x192)
    assert sorted(set(asked)) == [(96, 192), (192, 96)]
    for name, generated, shape in (("wide", [192, 96], (108, 192, 3)), ("tall", [96, 192], (192, 108, 3))):
        report = json.loads((out / f"{name}.report.json").read_text())
        assert [s["conditioning"]["size"] for s in report["shots"]] == [generated, generated]
        frames = decode_video(out / f"{name}.mp4")
        assert len(frames) == 12 and frames[0].shape == shape


OVERRIDDEN = """\
version: 1
title: Overridden
seed: 5
output: {width: 64, height: 64, fps: 12, subtitles: none}
backend: {name: animatic, options: {steps: 1, frames_per_chunk: 9, max_sequence_length: 8}}
world: {location: "a harbour"}
audio: {ambience: none}
shots:
  - {id: a, duration: 0.5, action: "waves break"}
deliverables:
  - {name: wide, width: 96, height: 64}
  - {name: tall, width: 64, height: 96}
"""


@pytest.mark.parametrize("which", [("--all-deliverables",), ("--deliverable", "tall")])
def test_backend_and_model_from_the_command_line_hold_for_every_master(tmp_path, which):
    # the storyboard names another backend and no model: --backend/--model decide for each master
    model = make_tiny_pipeline(tmp_path / "model", "ltx")
    board = tmp_path / "over.yaml"
    board.write_text(OVERRIDDEN)
    out = tmp_path / "masters"
    args = ("--backend", "diffusers", "--model", str(model), "-o", str(out), "--jobs", "1", "-q", "--no-cache")
    result = run_cli("render", str(board), *which, *args)
    assert result.code == 0, result.stderr[-2000:]
    names = ["wide", "tall"] if which[0] == "--all-deliverables" else ["tall"]
    assert sorted(p.stem for p in out.glob("*.mp4")) == sorted(names)
    for name in names:
        report = json.loads((out / f"{name}.report.json").read_text())
        assert (report["backend"]["name"], report["backend"]["model"]) == ("diffusers", str(model))
        assert report["shots"][0]["conditioning"]["pipeline"] == "LTXPipeline"
