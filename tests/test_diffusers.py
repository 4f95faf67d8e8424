"""The diffusers backend on tiny random pipelines that the tests build, save and load back."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")

from sora_cli.film import RenderRequest, render_film
from sora_cli.provenance import media_digest
from sora_cli.testing import FAMILIES, make_tiny_pipeline
from tests.conftest import EXAMPLES, decode_video, run_cli

LATENT_FAMILIES = {"anyflow-far": "AnyFlowFARPipeline", "helios": "HeliosPipeline"}  # continue from latents
TEXT_ONLY = {"ltx", "wan", "cogvideox"}  # text-to-video: a continue shot's first call has no picture in it

STORYBOARD = """\
version: 1
title: Diffusion
seed: 3
output: {{width: 96, height: 64, fps: 12, subtitles: none}}
backend: {{name: diffusers, options: {{width: {size}, height: {size}, steps: 2, frames_per_chunk: 9, max_sequence_length: 16}}}}
world:
  location: "Antarctic plateau"
  characters:
    mara: {{description: "explorer in a red parka", reference: [assets/mara.png]}}
audio: {{ambience: none}}
shots:
  - {{id: a, duration: 1.5, cast: [mara], action: "Mara walks"}}
  - {{id: b, duration: 1, cast: [mara], continuity: continue}}
  - {{id: c, duration: 1, transition: {{type: crossfade, duration: 0.25}}}}
"""


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {family: make_tiny_pipeline(root / family, family) for family in FAMILIES}


def _film(tmp_path: Path, family: str) -> Path:
    import shutil

    shutil.copytree(EXAMPLES / "assets", tmp_path / "assets", dirs_exist_ok=True)
    path = tmp_path / "film.yaml"
    path.write_text(STORYBOARD.format(size=16 if family.startswith("cogvideox") else 32))
    return path


class Spy:
    """Records what reaches a pipeline's __call__ and what it returns."""

    def __init__(self, monkeypatch) -> None:
        import diffusers

        self.calls: list[tuple[dict, np.ndarray]] = []
        self.loads = 0
        spy = self
        for name in (
            "LTXPipeline",
            "LTXConditionPipeline",
            "WanPipeline",
            "WanImageToVideoPipeline",
            "WanVACEPipeline",
            "CogVideoXPipeline",
            "CogVideoXImageToVideoPipeline",
        ):
            cls = getattr(diffusers, name)
            original = cls.__call__

            def call(self_, *args, _original=original, **kwargs):
                out = _original(self_, *args, **kwargs)
                spy.calls.append((kwargs, np.asarray(out.frames[0])))
                return out

            monkeypatch.setattr(cls, "__call__", call)
            loader = cls.from_pretrained.__func__

            def load(klass, *args, _loader=loader, **kwargs):
                spy.loads += 1
                return _loader(klass, *args, **kwargs)

            monkeypatch.setattr(cls, "from_pretrained", classmethod(load))


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_renders_a_film_with_sound(tmp_path, models, family):
    path = _film(tmp_path, family)
    # --no-qc: a tiny random pipeline draws noise, which flashes (sora qc fails it, rightly); this is about the wiring
    result = run_cli(
        "render", str(path), "--backend", "diffusers", "--model", str(models[family]), "--json", "-q", "--jobs", "1",
        "--no-qc",
    )  # fmt: skip
    assert result.code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    frames = decode_video(Path(report["output"]["file"]))
    assert len(frames) == report["output"]["frames"] == 12 * 3 + 3  # 1.5 + 1 + 1 s - 0.25 s overlap, at 12 fps
    # no dialogue and `ambience: none`: a silent soundtrack, its levels null (JSON has no -inf), said so
    assert report["sound"]["silent"] is True and report["sound"]["loudness_lufs"] is None, report["sound"]
    assert report["provenance"]["digital_source_type"] == "trainedAlgorithmicMedia"
    assert report["shots"][1]["conditioning"]["continued_from"] == "a"
    # what actually went in: a text-only family's first call takes the prompt alone, nothing of shot a
    carried = "latents" if family in LATENT_FAMILIES else "text" if family in TEXT_ONLY else "frames"
    assert report["shots"][1]["conditioning"]["carried"] == carried
    assert report["shots"][0]["conditioning"]["carried"] is None
    import av

    with av.open(report["output"]["file"]) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]


@pytest.mark.parametrize("family", ["ltx-condition", "wan-i2v", "wan-vace", "cogvideox-i2v"])
def test_continue_shot_receives_the_previous_shots_last_frames(tmp_path, models, family, monkeypatch):
    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.storyboard.overrides import Overrides, overridden

    spy = Spy(monkeypatch)
    plan = make_plan(overridden(api.load(_film(tmp_path, family)), Overrides(model=str(models[family]))))
    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    assert spy.loads == 1
    shot_a = backend.render_shot(plan.shot("a"), None)
    for _ in shot_a:
        pass
    produced = np.clip(np.rint(spy.calls[-1][1] * 255), 0, 255).astype(np.uint8)  # what shot a's last call made
    spy.calls.clear()
    shot_b = backend.render_shot(plan.shot("b"), shot_a.carry)
    next(iter(shot_b))
    received = _received(spy.calls[0][0])
    assert received is not None and np.array_equal(received, produced[-len(received) :])
    assert spy.loads == 1  # loaded once, whatever the number of shots


@pytest.mark.parametrize("family", sorted(LATENT_FAMILIES))
def test_continue_shot_starts_from_the_latents_the_previous_shot_made(tmp_path, models, family, monkeypatch):
    """The first transformer call of a ``continue`` shot sees exactly shot a's last latents; no VAE encode.

    AnyFlow-FAR attends to them as the head of ``hidden_states`` (FAR layout); Helios as its mid and short
    history windows (``latents_history_mid``, and ``latents_history_short`` after its first-frame prefix).
    """
    import diffusers
    import torch

    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.storyboard.overrides import Overrides, overridden

    cls = getattr(diffusers, LATENT_FAMILIES[family])
    made: list[torch.Tensor] = []
    original = cls.__call__

    def call(self_, *args, **kwargs):
        out = original(self_, *args, **kwargs)
        made.append(out.frames.clone())  # output_type="latent": (B, C, T, H, W)
        return out

    monkeypatch.setattr(cls, "__call__", call)
    plan = make_plan(overridden(api.load(_film(tmp_path, family)), Overrides(model=str(models[family]))))
    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    shot_a = backend.render_shot(plan.shot("a"), None)
    for _ in shot_a:
        pass
    produced = made[-1]
    seen: list[torch.Tensor] = []
    seen_history: list[tuple[torch.Tensor, torch.Tensor]] = []

    def look(module, args, kwargs):
        seen.append(kwargs["hidden_states"].clone())
        if "latents_history_mid" in kwargs:
            seen_history.append((kwargs["latents_history_mid"].clone(), kwargs["latents_history_short"].clone()))

    hook = backend.pipe.transformer.register_forward_pre_hook(look, with_kwargs=True)
    encoded: list[int] = []
    for name in ("encode", "_encode"):
        monkeypatch.setattr(backend.pipe.vae, name, lambda *a, **k: encoded.append(1))
    try:
        shot_b = backend.render_shot(plan.shot("b"), shot_a.carry)
        next(iter(shot_b))
    finally:
        hook.remove()
    carried = shot_a.carry.latents
    assert isinstance(carried, np.ndarray) and carried.dtype == np.float32  # plain numpy, crosses processes
    if family == "helios":
        assert carried.shape[1] == 3 and produced.shape[2] > 3
        mid, short = seen_history[0]
        assert torch.equal(mid, produced[:, :, -3:-1]) and torch.equal(short[:, :, 1:], produced[:, :, -1:])
    else:
        history = produced.permute(0, 2, 1, 3, 4)[:, -carried.shape[0] :]  # FAR layout (B, T, C, H, W)
        assert seen and torch.equal(seen[0], history)  # exactly what shot a made, bit for bit
    assert encoded == []  # the previous frames were never encoded again


def _received(kwargs: dict) -> np.ndarray | None:
    """The previous frames a call was conditioned on, as uint8 arrays (or None)."""
    if kwargs.get("conditions") and kwargs["conditions"][0].video is not None:
        return np.stack([np.asarray(f) for f in kwargs["conditions"][0].video])
    if "mask" in kwargs:
        known = [i for i, m in enumerate(kwargs["mask"]) if np.asarray(m).max() == 0]
        return np.stack([np.asarray(kwargs["video"][i]) for i in known]) if known else None
    if kwargs.get("image") is not None:
        return np.asarray(kwargs["image"])[None]
    return None


def test_cast_members_get_the_same_likeness_in_every_shot(tmp_path, models, monkeypatch):
    from PIL import Image

    spy = Spy(monkeypatch)
    report = render_film(
        RenderRequest(
            _film(tmp_path, "wan-vace"), backend="diffusers", model=str(models["wan-vace"]), jobs=1, use_cache=False
        )
    )
    said = [s["conditioning"]["identity"] for s in report["shots"]]  # what each shot received, in the report
    assert said == [{"mara": "1 likeness image(s) as reference_images"}] * 2 + [{}]
    expected = np.asarray(
        Image.open(EXAMPLES / "assets" / "mara.png").convert("RGB").resize((32, 32), Image.Resampling.LANCZOS)
    )
    with_mara = [kw for kw, _ in spy.calls if "reference_images" in kw]
    assert len(with_mara) >= 2  # shots a and b (every chunk of them)
    for kwargs in with_mara:
        assert len(kwargs["reference_images"]) == 1 and np.array_equal(
            np.asarray(kwargs["reference_images"][0]), expected
        )
    assert any("reference_images" not in kw for kw, _ in spy.calls)  # shot c has no cast


def test_same_storyboard_and_seed_give_identical_bytes(tmp_path, models):
    path = _film(tmp_path, "ltx-condition")
    one = render_film(
        RenderRequest(
            path,
            backend="diffusers",
            model=str(models["ltx-condition"]),
            output=tmp_path / "one.mp4",
            jobs=1,
            use_cache=False,
        )
    )
    two = render_film(
        RenderRequest(
            path,
            backend="diffusers",
            model=str(models["ltx-condition"]),
            output=tmp_path / "two.mp4",
            jobs=2,
            use_cache=False,
        )
    )
    assert media_digest(Path(one["output"]["file"])) == media_digest(Path(two["output"]["file"]))


def test_a_missing_model_is_a_located_exit_2(tmp_path):
    path = _film(tmp_path, "wan")
    missing = run_cli("render", str(path), "--backend", "diffusers", "--model", str(tmp_path / "nope"), "-q")
    assert missing.code == 2 and "backend.model: model" in missing.stderr and "nope" in missing.stderr
    hub = run_cli("render", str(path), "--backend", "diffusers", "--model", "someone/not-cached-anywhere", "-q")
    assert hub.code == 2 and "'someone/not-cached-anywhere' is not in the hub cache and HF_HUB_OFFLINE=1" in hub.stderr
    none = run_cli("validate", str(path))  # validate checks what render checks (no model is loaded)
    assert none.code == 2 and "backend.model: the diffusers backend needs backend.model (or --model)" in none.stderr
    missing_too = run_cli("validate", str(path), "--model", str(tmp_path / "nope"))
    assert missing_too.code == 2 and "nope" in missing_too.stderr


def test_the_watermark_fits_a_64_pixel_frame(tmp_path, models):
    """Generative frames are marked at every size, down to the smallest film (64x64)."""
    films = {}
    for mode in ("on", "off"):
        path = tmp_path / f"{mode}.yaml"
        path.write_text(
            f"version: 1\ntitle: Small\nseed: 1\noutput: {{width: 64, height: 64, fps: 8, subtitles: none, watermark: {mode}}}\n"
            "backend: {name: diffusers, options: {width: 32, height: 32, steps: 2, frames_per_chunk: 9, max_sequence_length: 16}}\n"
            "world: {location: a room}\naudio: {ambience: none}\nshots: [{id: a, duration: 1}]\n"
        )
        result = run_cli("render", str(path), "--model", str(models["wan"]), "--json", "-q", "--no-cache")
        assert result.code == 0, result.stderr[-2000:]
        films[mode] = decode_video(Path(json.loads(result.stdout)["output"]["file"]))
    marked, plain = (np.stack(films[m]).astype(np.int16) for m in ("on", "off"))
    assert marked.shape == plain.shape == (8, 64, 64, 3)
    # the documented place: a corner of the middle band, clear of the slate (top) and subtitle (bottom) bands
    from sora_cli.render import watermark

    diff = np.abs(marked - plain).mean(axis=3)
    inside, outside = [], []
    for index, frame_diff in enumerate(diff):
        x, y, w, h = watermark.placement(64, 64, index, 8)
        assert int(64 * watermark.TOP_BAND) <= y and y + h <= int(64 * (1 - watermark.BOTTOM_BAND))
        near = np.zeros(frame_diff.shape, bool)
        near[max(0, y - 4) : y + h + 4, max(0, x - 4) : x + w + 4] = True  # the encoder smears a few pixels
        inside.append(frame_diff[y : y + h, x : x + w].mean())
        outside.append(frame_diff[~near].mean())
    assert np.mean(inside) > 8 * max(np.mean(outside), 0.5)  # the mark is there, where allowed, and only there
