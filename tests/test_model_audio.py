"""LTX-2 makes sound with its picture: the model's audio is a stem of sora's mix (tiny random pipelines)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

from sora_cli.audio_files import MIX_RATE
from sora_cli.testing import make_tiny_pipeline
from tests.conftest import decode_audio, decode_video, run_cli

STORYBOARD = """\
version: 1
title: Sound with the picture
seed: 5
output: {{width: 64, height: 64, fps: 12, subtitles: none}}
backend: {{name: diffusers, options: {{width: 32, height: 32, steps: 2, frames_per_chunk: 9, max_sequence_length: 16{audio}}}}}
world: {{location: "a harbour at night"}}
audio: {{ambience: none}}
shots:
  - {{id: a, duration: 1, action: "waves break"}}
  - {{id: b, duration: 1, continuity: continue}}
  - {{id: c, duration: 1}}
"""


@pytest.fixture(scope="module")
def ltx2(tmp_path_factory) -> Path:
    return make_tiny_pipeline(tmp_path_factory.mktemp("ltx2") / "model", "ltx2-condition")


def _render(tmp_path: Path, model: Path, audio: str | None) -> tuple[dict, np.ndarray]:
    path = tmp_path / f"{audio}.yaml"
    path.write_text(STORYBOARD.format(audio="" if audio is None else f", audio: {audio}"))
    result = run_cli("render", str(path), "--model", str(model), "--json", "-q", "--jobs", "1")
    assert result.code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    return report, decode_audio(Path(report["output"]["file"]))  # (samples, 2) at the mix rate


def _rms_per_second(samples: np.ndarray, rate: int) -> list[float]:
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    return [float(np.sqrt(np.mean(mono[i : i + rate] ** 2))) for i in range(0, len(mono) - rate // 2, rate)]


def test_the_models_sound_is_in_the_mix_unless_audio_is_none(tmp_path, ltx2):
    with_sound, heard = _render(tmp_path, ltx2, "ambience")
    _, heard_default = _render(tmp_path, ltx2, None)  # ambience is the default for a model with sound
    silent, quiet = _render(tmp_path, ltx2, "none")
    loud = _rms_per_second(heard, MIX_RATE)
    assert len(loud) == 3 and min(loud) > 0.01  # every shot's second has the model's sound (measured decoded)
    assert np.sqrt(np.mean(quiet**2)) < 1e-4  # audio: none: nothing but sora's own sound, and there is none
    assert np.array_equal(heard, heard_default)
    shots = with_sound["shots"]
    assert [s["conditioning"]["model_audio"]["mode"] for s in shots] == ["ambience"] * 3
    assert [s["conditioning"]["model_audio"]["mode"] for s in silent["shots"]] == ["none"] * 3
    assert shots[1]["conditioning"]["carried"] == "latents"
    assert shots[1]["conditioning"]["first_chunk"]["previous_latents"] == 2
    frames = decode_video(Path(with_sound["output"]["file"]))
    assert len(frames) == 36 and frames[0].shape == (64, 64, 3)


def test_audio_for_a_model_without_sound_is_exit_2(tmp_path):
    model = make_tiny_pipeline(tmp_path / "wan", "wan")
    path = tmp_path / "film.yaml"
    path.write_text(STORYBOARD.format(audio=", audio: all"))
    result = run_cli("render", str(path), "--model", str(model), "-q")
    assert result.code == 2
    assert "backend.options.audio: WanPipeline makes no sound" in result.stderr


def test_ltx2_continue_shot_starts_from_the_latents_the_previous_shot_made(tmp_path, ltx2, monkeypatch):
    """The first transformer call of a ``continue`` shot holds shot a's last latents, exactly; no VAE encode."""
    import torch

    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.render.diffusion.latents import _ltx2_modular
    from sora_cli.storyboard.overrides import Overrides, overridden

    path = tmp_path / "film.yaml"
    path.write_text(STORYBOARD.format(audio=""))
    plan = make_plan(overridden(api.load(path), Overrides(model=str(ltx2))))
    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    pipe = backend.pipe
    runner = _ltx2_modular(pipe)
    made: list = []

    def recording(**kwargs):
        out = runner(**kwargs)
        made.append(out.latents.clone())  # packed (B, tokens, C), as the model left them
        return out

    pipe._sora_modular = recording
    shot_a = backend.render_shot(plan.shot("a"), None)
    for _ in shot_a:
        pass
    last_call = made[-1]  # shot a's last call
    seen: list = []
    hook = pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["hidden_states"].clone()), with_kwargs=True
    )
    encoded: list[int] = []
    monkeypatch.setattr(pipe.vae, "encode", lambda *a, **k: encoded.append(1))
    try:
        shot_b = backend.render_shot(plan.shot("b"), shot_a.carry)
        next(iter(shot_b))
    finally:
        hook.remove()
    carried = shot_a.carry.latents  # (C, F, H, W), float32 numpy
    assert isinstance(carried, np.ndarray) and carried.dtype == np.float32
    _, f, h, w = carried.shape
    produced = last_call[:, -f * h * w :]  # the last latent frames shot a made, as tokens
    assert torch.equal(seen[0][:1, : f * h * w], produced)  # exactly what shot a made, bit for bit
    assert encoded == []  # the previous frames were never encoded again


@pytest.mark.parametrize(("family", "carried"), [("ltx2", "text"), ("ltx2-i2v", "frames")])
def test_the_other_ltx2_families_render_with_their_sound(tmp_path, family, carried):
    """LTX-2 text-to-video and image-to-video: the model's sound in the report and in the mix (decoded)."""
    model = make_tiny_pipeline(tmp_path / family, family)
    path = tmp_path / "film.yaml"
    path.write_text(STORYBOARD.format(audio="").replace("duration: 1", "duration: 0.5"))
    result = run_cli("render", str(path), "--model", str(model), "--json", "-q", "--jobs", "1", "--no-qc")
    assert result.code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    shots = report["shots"]
    assert [s["conditioning"]["model_audio"]["mode"] for s in shots] == ["ambience"] * 3
    assert all(s["conditioning"]["model_audio"]["seconds"] == 0.5 for s in shots)
    assert shots[1]["conditioning"]["carried"] == carried
    heard = decode_audio(Path(report["output"]["file"]))
    assert min(_rms_per_second(heard, MIX_RATE // 2)) > 0.01  # every half second has the model's sound
