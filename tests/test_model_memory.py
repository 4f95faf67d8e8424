"""Echo: every cast member's likeness images, and a cameo's voice sample, reach the model as memory slots.

A tiny random Echo (a modular pipeline, ``modular_model_index.json``) built
offline; a real cameo made by ``sora cameo add`` from a test capture. What the
transformer received is compared with latents computed here apart from sora's
code path (PIL, the ``wave`` module, transformers' numpy spectrogram, the VAEs).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sora_cli.testing import make_tiny_pipeline
from tests.captures import make_capture
from tests.conftest import EXAMPLES, decode_video, run_cli

diffusers = pytest.importorskip("diffusers")
pytestmark = pytest.mark.skipif(
    not hasattr(diffusers, "EchoModularPipeline"), reason="Echo needs diffusers >= 0.42.1"
)

SIZE = 32
STORYBOARD = """\
version: 1
title: Who is who
seed: 7
output: {{width: 64, height: 64, fps: 12, subtitles: none}}
backend: {{name: diffusers, options: {{width: {size}, height: {size}, steps: 2, frames_per_chunk: 9, max_sequence_length: 16}}}}
world:
  location: "a plain studio"
  characters:
    mara: {{description: "explorer in a red parka", reference: [assets/mara.png]}}
    astro: {{description: "an astronaut", cameo: astro}}
audio: {{ambience: none}}
shots:
  - {{id: a, duration: 0.75, cast: [mara, astro], action: "they meet"}}
  - {{id: b, duration: 0.75, cast: [mara], continuity: continue}}
  - {{id: c, duration: 0.75, cast: [astro]}}
"""


@pytest.fixture(scope="module")
def echo(tmp_path_factory) -> Path:
    return make_tiny_pipeline(tmp_path_factory.mktemp("echo") / "model", "echo")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A storyboard folder with an asset likeness (mara) and a consenting cameo with a voice (astro)."""
    root = tmp_path_factory.mktemp("memory")
    make_capture(root / "capture.mp4")
    result = run_cli(
        "cameo", "add", "astro", "--from", str(root / "capture.mp4"), "--consent-by", "Test Person",
        "--library", str(root / "cameos"),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    shutil.copytree(EXAMPLES / "assets", root / "assets")
    (root / "film.yaml").write_text(STORYBOARD.format(size=SIZE))
    return root


def _image_tokens(pipe, path: Path):
    """A likeness image as Echo's memory tokens: resized as sora hands it over, encoded by the video VAE,
    normalised and packed (patch size 1: one token per latent pixel)."""
    import torch
    from PIL import Image

    img = Image.open(path).convert("RGB").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    pixels = torch.from_numpy(np.asarray(img, np.float32)).permute(2, 0, 1)[None, :, None] / 127.5 - 1.0
    vae = pipe.vae
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.mode()
    mean, std = vae.latents_mean.view(1, -1, 1, 1, 1), vae.latents_std.view(1, -1, 1, 1, 1)
    latents = (latents - mean) * vae.config.scaling_factor / std
    return latents.permute(0, 2, 3, 4, 1).reshape(1, -1, latents.shape[1])


def _voice_tokens(pipe, wav: Path):
    """The cameo's voice.wav as Echo's audio memory: read with ``wave``, resampled to the audio VAE's rate,
    log-mel'd by transformers' numpy spectrogram, encoded, normalised, packed as [L, C x M]."""
    import wave

    import torch
    from scipy.signal import resample_poly
    from transformers.audio_utils import mel_filter_bank, spectrogram, window_function

    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        rate_in = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    vae = pipe.audio_vae
    rate, hop, bins = int(vae.config.sample_rate), int(vae.config.mel_hop_length), int(vae.config.mel_bins)
    samples = resample_poly(samples, rate, rate_in).astype(np.float32)
    filters = mel_filter_bank(513, bins, 0.0, rate / 2, rate, norm="slaney", mel_scale="slaney")
    mel = spectrogram(
        samples, window_function(1024, "hann"), 1024, hop, power=1.0, mel_filters=filters, mel_floor=1e-5,
        log_mel="log",
    )  # (mel, frames)  # fmt: skip
    tensor = torch.from_numpy(np.stack([mel.T, mel.T]))[None].float()  # (1, 2, frames, mel): the VAE hears stereo
    with torch.no_grad():
        latents = vae.encode(tensor).latent_dist.mode()
    c, m = latents.shape[1], latents.shape[3]
    latents = (latents - vae.latents_mean.view(1, c, 1, m)) / vae.latents_std.view(1, c, 1, m)
    return latents.transpose(1, 2).flatten(2, 3)


def test_each_shot_gives_echo_its_casts_likeness_and_the_cameos_voice(project, echo, monkeypatch):
    import torch

    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.storyboard.overrides import Overrides, overridden

    plan = make_plan(overridden(api.load(project / "film.yaml"), Overrides(model=str(echo))), project / "cameos")
    astro = plan.characters["astro"]
    assert astro.voice_sample == str(project / "cameos" / "astro" / "voice.wav")  # carried by the plan
    assert plan.characters["mara"].voice_sample is None
    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    pipe = backend.pipe
    assert type(pipe).__name__ == "EchoModularPipeline"
    seen: list[tuple] = []  # per transformer call: (video tokens, audio tokens)
    hook = pipe.transformer.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((kwargs["hidden_states"].clone(), kwargs["audio_hidden_states"])),
        with_kwargs=True,
    )
    first: dict[str, tuple] = {}
    infos = {}
    carry = None
    try:
        for sid in ("a", "b", "c"):
            start = len(seen)
            render = backend.render_shot(plan.shot(sid), carry if sid == "b" else None)
            frames = list(render)
            assert len(frames) == 9 and frames[0].shape == (64, 64, 3)
            carry = render.carry
            first[sid] = seen[start]
            infos[sid] = carry.state["info"]
    finally:
        hook.remove()
    mara = _image_tokens(pipe, project / "assets" / "mara.png")
    faces = [_image_tokens(pipe, Path(p)) for p in astro.reference]
    voice = _voice_tokens(pipe, Path(astro.voice_sample))
    per_image, per_voice = mara.shape[1], voice.shape[1]
    # shot a: mara's image, then each of astro's; the voice on astro's first slot, the others silent
    video, audio = first["a"]
    slots = [mara, *faces]
    assert torch.allclose(video[:, : per_image * len(slots)], torch.cat(slots, dim=1), atol=1e-5)
    assert torch.allclose(audio[:, per_voice : 2 * per_voice], voice, atol=1e-4)
    silent = torch.cat([audio[:, :per_voice], audio[:, 2 * per_voice : per_voice * len(slots)]], dim=1)
    assert not silent.any() and voice.abs().sum() > 0
    target_audio = audio.shape[1] - per_voice * len(slots)  # what the pipeline makes for itself
    # shot b: mara alone, no cameo: her image as memory and no voice memory at all
    video, audio = first["b"]
    assert torch.allclose(video[:, :per_image], mara, atol=1e-5)
    assert video.shape[1] == first["a"][0].shape[1] - per_image * len(faces)
    assert audio.shape[1] == target_audio
    # shot c: astro alone, voice on the first slot
    video, audio = first["c"]
    assert torch.allclose(video[:, : per_image * len(faces)], torch.cat(faces, dim=1), atol=1e-5)
    assert torch.allclose(audio[:, :per_voice], voice, atol=1e-4)
    # the report says what each shot received
    assert infos["a"]["identity"] == {
        "mara": "1 likeness image(s) as memory images",
        "astro": f"{len(faces)} likeness image(s) as memory images and the cameo's voice sample as audio memory",
    }
    assert infos["b"]["identity"] == {"mara": "1 likeness image(s) as memory images"}
    assert infos["b"]["carried"] == "frames" and infos["b"]["first_chunk"]["previous_frames"] == 1
    assert infos["c"]["first_chunk"]["memory"] == {"astro": {"images": len(faces), "voice": True}}


def test_an_echo_render_is_a_film_and_the_doctor_knows_the_folder(project, echo, tmp_path):
    out = tmp_path / "film.mp4"
    result = run_cli(
        "render", str(project / "film.yaml"), "--model", str(echo), "--cameos", str(project / "cameos"), "--json",
        "-q", "--jobs", "1", "--no-qc", "-o", str(out),
    )  # fmt: skip
    assert result.code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    frames = decode_video(out)
    assert len(frames) == report["output"]["frames"] == 27 and frames[0].shape[:2] == (64, 64)
    assert float(np.std(frames[0].astype(np.float32))) > 1  # the model's picture, not a flat frame
    identity = [shot["conditioning"]["identity"] for shot in report["shots"]]
    assert "voice sample" in identity[0]["astro"] and "voice" not in identity[0]["mara"]
    assert list(identity[1]) == ["mara"] and "voice" not in identity[1]["mara"]
    assert "voice sample as audio memory" in identity[2]["astro"]
    # the preflight reads the modular index without loading weights
    doctor = run_cli("doctor", "--model", str(echo), "--json")
    assert doctor.code == 0, doctor.stderr[-2000:]
    model = json.loads(doctor.stdout)["model"]
    assert (model["pipeline"], model["family"], model["native_fps"]) == ("EchoModularPipeline", "echo", 24)
    assert (model["native_width"], model["native_height"], model["native_frames"]) == (704, 512, 241)  # its blocks'
    assert model["classifier_free_guidance"] is False and set(model["params_from"].values()) == {"weights"}
