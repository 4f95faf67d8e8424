"""Audio-driven LTX-2 (DFR): a dialogue shot's picture is denoised against the line's own speech.

The speech goes in as audio latents held clean (``freeze_audio``); the film's
dialogue stays sora's speech. Tiny random pipelines, built offline.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json
from pathlib import Path

import numpy as np
import pytest

from sora_cli.testing import make_tiny_pipeline
from tests.conftest import decode_audio, run_cli

diffusers = pytest.importorskip("diffusers")
pytestmark = pytest.mark.skipif(
    not hasattr(diffusers, "LTX2DFRPipeline"), reason="LTX2DFRPipeline needs diffusers >= 0.42.1"
)

STORYBOARD = """\
version: 1
title: Lips that follow
seed: 5
output: {{width: 64, height: 64, fps: 12, subtitles: none}}
backend: {{name: {backend}, options: {{{options}}}}}
world:
  location: "a plain studio"
  characters:
    ann: {{description: "woman in blue", voice: {{voice: en-us}}}}
audio: {{ambience: none}}
shots:
  - {{id: a, cast: [ann], duration: 1.5, dialogue: [{{speaker: ann, line: "Hello there."}}]}}
  - {{id: b, cast: [ann], duration: 1, continuity: continue}}
  - {{id: c, cast: [ann], duration: 1.5, dialogue: [{{speaker: ann, line: "Good morning.", at: 0.25}}]}}
"""
DFR = "width: 32, height: 32, steps: 2, frames_per_chunk: 9, max_sequence_length: 16"


@pytest.fixture(scope="module")
def dfr(tmp_path_factory) -> Path:
    return make_tiny_pipeline(tmp_path_factory.mktemp("dfr") / "model", "ltx2-dfr")


def _expected_latents(pipe, shot, characters, start: float, length: int):
    """The line's speech as the mix places it, from ``start`` s of the shot, log-mel'd by transformers' own
    spectrogram (numpy) and encoded by the model's audio VAE: computed apart from sora's code path."""
    import torch
    from scipy.signal import resample_poly
    from transformers.audio_utils import mel_filter_bank, spectrogram, window_function

    from sora_cli.audio_files import MIX_RATE as RATE
    from sora_cli.speech.lines import line_speech

    rate, hop = 16000, 160
    window = np.zeros(length * hop * 4, np.float32)
    for line in shot.dialogue:
        speech = resample_poly(line_speech(characters[line.speaker].voice, line), rate, RATE)
        at = round((line.at - start) * rate)  # negative: the line began before this stretch
        piece = speech[max(0, -at) :][: len(window) - max(0, at)]
        window[max(0, at) : max(0, at) + len(piece)] = piece
    filters = mel_filter_bank(513, 8, 0.0, rate / 2, rate, norm="slaney", mel_scale="slaney")
    mel = spectrogram(
        window, window_function(1024, "hann"), 1024, hop, power=1.0, mel_filters=filters, mel_floor=1e-5, log_mel="log"
    )  # (mel, frames)
    assert mel.max() > np.log(1e-5) + 5  # the window holds speech, not silence
    tensor = torch.from_numpy(np.stack([mel.T, mel.T]))[None].float()  # (1, 2, frames, mel): the VAE hears stereo
    with torch.no_grad():
        return pipe.audio_vae.encode(tensor).latent_dist.mode()[:, :, :length]


def test_dialogue_shots_give_dfr_the_encoding_of_their_speech(tmp_path, dfr, monkeypatch):
    import torch

    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.render.diffusion.adapters import Adapter
    from sora_cli.storyboard.overrides import Overrides, overridden

    path = tmp_path / "film.yaml"
    path.write_text(STORYBOARD.format(backend="diffusers", options=DFR))
    plan = make_plan(overridden(api.load(path), Overrides(model=str(dfr))))
    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    pipe = backend.pipe
    calls: list[dict] = []  # per pipeline call: its keyword arguments and what the transformer saw of the audio
    original = type(pipe).__call__

    def recording(self, **kwargs):
        calls.append({"kwargs": kwargs, "audio_seen": []})
        return original(self, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", recording)
    hook = pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: calls[-1]["audio_seen"].append(kwargs["audio_hidden_states"].clone()),
        with_kwargs=True,
    )
    requests: list = []
    adapter_call = Adapter.call
    monkeypatch.setattr(Adapter, "call", lambda self, cls, req: (requests.append(req), adapter_call(self, cls, req))[1])
    per_shot: dict[str, list[dict]] = {}
    asked: dict[str, list] = {}  # per shot: the adapter requests
    infos = {}
    carry = None
    try:
        for sid in ("a", "b", "c"):
            start, first_request = len(calls), len(requests)
            render = backend.render_shot(plan.shot(sid), carry if sid == "b" else None)
            for _ in render:
                pass
            carry = render.carry
            per_shot[sid] = calls[start:]
            asked[sid] = requests[first_request:]
            infos[sid] = carry.state["info"]
    finally:
        hook.remove()
    fps, chunk = backend.fps, backend.chunk
    # a dialogue shot: every call gets its own stretch of the line's speech, held clean at every step
    for sid in ("a", "c"):
        shot = plan.shot(sid)
        for k, call in enumerate(per_shot[sid][:2]):
            given = call["kwargs"]["audio_latents"]
            assert call["kwargs"]["freeze_audio"] is True
            start = 0.0 if k == 0 else (chunk - 1) / fps  # the second call opens on the first one's last frame
            expected = _expected_latents(pipe, shot, plan.characters, start, given.shape[2])
            assert torch.allclose(given, expected, atol=1e-5), (sid, k)
            mean, std = pipe.audio_vae.latents_mean, pipe.audio_vae.latents_std
            packed = ((given.transpose(1, 2).flatten(2, 3)) - mean) / std
            assert all(torch.allclose(seen, packed, atol=1e-6) for seen in call["audio_seen"])  # never re-noised
        assert infos[sid]["first_chunk"]["speech"] == {"from": 0.0, "audio_latents": given.shape[2]}
    a0 = per_shot["a"][0]["kwargs"]["audio_latents"]
    assert not torch.allclose(a0, per_shot["c"][0]["kwargs"]["audio_latents"])  # each shot its own line
    # as long as the sound the pipeline makes for itself: picture and speech share one clock
    assert all("audio_latents" not in call["kwargs"] for call in per_shot["b"])  # no dialogue: the model's own
    assert per_shot["b"][0]["audio_seen"][0].shape[1] == a0.shape[2]
    assert infos["a"]["model_audio"]["mode"] == "none"  # its decoded sound never replaces sora's speech
    # the plan's lip-sync track reaches the adapter interface, shot-local
    line = plan.shot("c").dialogue[0]
    track = tuple((round(v.t - plan.shot("c").start, 6), "ann", v.shape) for v in line.visemes)
    assert track and track[0][0] == 0.25 and track[-1][2] == "X"
    assert all(r.visemes == track for r in asked["c"]) and all(r.visemes == () for r in asked["b"])


def test_the_films_dialogue_is_soras_speech(tmp_path, dfr):
    """The DFR film's soundtrack is the one sora mixes without any model: the model's sound never enters it."""
    films = {}
    for backend, options in (("diffusers", DFR), ("animatic", "slate: false")):
        path = tmp_path / f"{backend}.yaml"
        path.write_text(STORYBOARD.format(backend=backend, options=options))
        args = ["render", str(path), "--json", "-q", "--jobs", "1", "-o", str(tmp_path / f"{backend}.mp4")]
        result = run_cli(*args, *(["--model", str(dfr)] if backend == "diffusers" else []))
        assert result.code == 0, result.stderr[-2000:]
        films[backend] = json.loads(result.stdout)
    heard = decode_audio(Path(films["diffusers"]["output"]["file"]))
    assert np.array_equal(heard, decode_audio(Path(films["animatic"]["output"]["file"])))
    mono = heard.mean(axis=1)
    rate = 48000
    loud = [float(np.sqrt(np.mean(mono[i : i + rate // 4] ** 2))) for i in range(0, len(mono), rate // 4)]
    assert max(loud[:4]) > 0.02 and max(loud[10:]) > 0.02  # both lines are heard
    assert max(loud[6:10]) < 1e-3  # shot b says nothing, and the model's own sound is not in the mix
    shots = films["diffusers"]["shots"]
    assert [s["conditioning"]["first_chunk"].get("speech", {}).get("from") for s in shots] == [0.0, None, 0.0]
