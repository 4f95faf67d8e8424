"""Preflight on the real configurations of public checkpoints (configs only, no weights).

Every config below is written from a public source, cited beside it:

* LTX-Video 0.9.0 (Lightricks/LTX-Video): the VAE is ``get_vae_config("0.9.0")`` of diffusers'
  ``scripts/convert_ltx_to_diffusers.py`` (with one ``decoder_inject_noise`` per decoder stage, five, as the
  installed class requires and its defaults give); its transformer is ``LTXVideoTransformer3DModel()`` with the
  class defaults, as that script builds it; its text encoder is google/t5-v1_1-xxl (the script's
  ``text_encoder_id``), a T5 encoder of d_model 4096, d_ff 10240, 24 layers, 64 heads.
* LTX-2 (Lightricks/LTX-2): transformer and video VAE are ``get_ltx2_transformer_config("2.0")`` and
  ``get_ltx2_video_vae_config("2.0")`` of diffusers' ``scripts/convert_ltx2_to_diffusers.py``; its text
  encoder is Gemma 3 12B (the script's ``--text_encoder_model_id`` google/gemma-3-12b-it-qat-q4_0-unquantized;
  caption_channels 3840 is its hidden size), whose text model is 48 layers of 3840 with 16 heads of 256.
* Wan 2.1 T2V 1.3B (Wan-AI/Wan2.1-T2V-1.3B-Diffusers): the transformer is ``get_transformer_config(
  "Wan-T2V-1.3B")`` of diffusers' ``scripts/convert_wan_to_diffusers.py``; the VAE is AutoencoderKLWan's
  defaults (the Wan 2.1 VAE); the text encoder is google/umt5-xxl.
* Wan 2.2 TI2V 5B (Wan-AI/Wan2.2-TI2V-5B-Diffusers): the transformer is Wan 2.2's published 5B architecture
  (dim 3072 = 24 heads x 128, ffn 14336, 30 layers, in/out 48 channels, text_dim 4096); the VAE is the Wan 2.2
  VAE (z_dim 48, base_dim 160, decoder_base_dim 256, residual, patch_size 2, 16x spatial and 4x temporal
  compression); native 1280x704 at 24 fps (shared/generative-notes.md).

Memory figures from the sources (shared/generative-notes.md): Wan 2.1 1.3B ~13 GB, Wan 2.2 TI2V-5B >= 24 GB,
LTX-Video ~10 GB, LTX-2 19-22B parameters (its docs use sequential CPU offload).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("diffusers")

from sora_cli.render.diffusion.preflight import GIB, choose_plan, film_problems, inspect_model
from tests.conftest import run_cli

T5_XXL = {
    "architectures": ["T5EncoderModel"], "model_type": "t5", "d_model": 4096, "d_ff": 10240, "d_kv": 64,
    "num_heads": 64, "num_layers": 24, "vocab_size": 32128, "feed_forward_proj": "gated-gelu",
    "relative_attention_num_buckets": 32, "relative_attention_max_distance": 128, "layer_norm_epsilon": 1e-6,
}  # fmt: skip
UMT5_XXL = {**T5_XXL, "architectures": ["UMT5EncoderModel"], "model_type": "umt5", "vocab_size": 256384}
GEMMA3_12B = {
    "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "text_config": {
        "model_type": "gemma3_text", "hidden_size": 3840, "intermediate_size": 15360, "num_hidden_layers": 48,
        "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 256, "vocab_size": 262208,
    },
    "vision_config": {
        "model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 27,
        "num_attention_heads": 16, "patch_size": 14, "image_size": 896,
    },
    "mm_tokens_per_image": 256,
}  # fmt: skip

LTX_VIDEO = {
    "model_index.json": {
        "_class_name": "LTXPipeline", "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "T5EncoderModel"], "tokenizer": ["transformers", "T5Tokenizer"],
        "transformer": ["diffusers", "LTXVideoTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLLTXVideo"],
    },
    "transformer": {"_class_name": "LTXVideoTransformer3DModel"},
    "vae": {
        "_class_name": "AutoencoderKLLTXVideo", "in_channels": 3, "out_channels": 3, "latent_channels": 128,
        "block_out_channels": [128, 256, 512, 512], "decoder_block_out_channels": [128, 256, 512, 512],
        "layers_per_block": [4, 3, 3, 3, 4], "decoder_layers_per_block": [4, 3, 3, 3, 4],
        "spatio_temporal_scaling": [True, True, True, False], "decoder_spatio_temporal_scaling": [True, True, True, False],
        "decoder_inject_noise": [False, False, False, False, False], "upsample_residual": [False, False, False, False],
        "upsample_factor": [1, 1, 1, 1], "patch_size": 4, "patch_size_t": 1, "resnet_norm_eps": 1e-6,
        "scaling_factor": 1.0, "encoder_causal": True, "decoder_causal": False, "timestep_conditioning": False,
    },
    "text_encoder": T5_XXL,
}  # fmt: skip

LTX_2 = {
    "model_index.json": {
        "_class_name": "LTX2Pipeline", "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
        "text_encoder": ["transformers", "Gemma3ForConditionalGeneration"], "tokenizer": ["transformers", "GemmaTokenizerFast"],
        "transformer": ["diffusers", "LTX2VideoTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLLTX2Video"],
        "audio_vae": ["diffusers", "AutoencoderKLLTX2Audio"], "connectors": ["ltx2", "LTX2TextConnectors"],
        "vocoder": ["ltx2", "LTX2Vocoder"],
    },
    "transformer": {
        "_class_name": "LTX2VideoTransformer3DModel", "in_channels": 128, "out_channels": 128, "patch_size": 1,
        "patch_size_t": 1, "num_attention_heads": 32, "attention_head_dim": 128, "cross_attention_dim": 4096,
        "vae_scale_factors": [8, 32, 32], "pos_embed_max_pos": 20, "base_height": 2048, "base_width": 2048,
        "audio_in_channels": 128, "audio_out_channels": 128, "audio_patch_size": 1, "audio_patch_size_t": 1,
        "audio_num_attention_heads": 32, "audio_attention_head_dim": 64, "audio_cross_attention_dim": 2048,
        "audio_scale_factor": 4, "audio_pos_embed_max_pos": 20, "audio_sampling_rate": 16000, "audio_hop_length": 160,
        "num_layers": 48, "activation_fn": "gelu-approximate", "qk_norm": "rms_norm_across_heads",
        "norm_elementwise_affine": False, "norm_eps": 1e-6, "caption_channels": 3840, "attention_bias": True,
        "attention_out_bias": True, "rope_theta": 10000.0, "causal_offset": 1,
    },
    "vae": {
        "_class_name": "AutoencoderKLLTX2Video", "in_channels": 3, "out_channels": 3, "latent_channels": 128,
        "block_out_channels": [256, 512, 1024, 2048], "down_block_types": ["LTX2VideoDownBlock3D"] * 4,
        "decoder_block_out_channels": [256, 512, 1024], "layers_per_block": [4, 6, 6, 2, 2],
        "decoder_layers_per_block": [5, 5, 5, 5], "spatio_temporal_scaling": [True, True, True, True],
        "decoder_spatio_temporal_scaling": [True, True, True], "decoder_inject_noise": [False, False, False, False],
        "downsample_type": ["spatial", "temporal", "spatiotemporal", "spatiotemporal"],
        "upsample_residual": [True, True, True], "upsample_factor": [2, 2, 2], "timestep_conditioning": False,
        "patch_size": 4, "patch_size_t": 1, "resnet_norm_eps": 1e-6, "encoder_causal": True, "decoder_causal": False,
        "encoder_spatial_padding_mode": "zeros", "decoder_spatial_padding_mode": "reflect",
        "spatial_compression_ratio": 32, "temporal_compression_ratio": 8,
    },
    "text_encoder": GEMMA3_12B,
    # the connectors' and vocoder's values are the script's get_ltx2_text_encoder_config / get_ltx2_vocoder_config
    "connectors": {
        "_class_name": "LTX2TextConnectors", "caption_channels": 3840, "text_proj_in_factor": 49,
        "video_connector_num_attention_heads": 30, "video_connector_attention_head_dim": 128,
        "video_connector_num_layers": 2, "video_connector_num_learnable_registers": 128,
        "audio_connector_num_attention_heads": 30, "audio_connector_attention_head_dim": 128,
        "audio_connector_num_layers": 2, "audio_connector_num_learnable_registers": 128,
    },
    "vocoder": {
        "_class_name": "LTX2Vocoder", "in_channels": 128, "hidden_channels": 1024, "out_channels": 2,
        "upsample_kernel_sizes": [16, 15, 8, 4, 4], "upsample_factors": [6, 5, 2, 2, 2],
        "resnet_kernel_sizes": [3, 7, 11], "resnet_dilations": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
        "leaky_relu_negative_slope": 0.1, "output_sampling_rate": 24000,
    },
}  # fmt: skip

WAN_21_13B = {
    "model_index.json": {
        "_class_name": "WanPipeline", "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "UMT5EncoderModel"], "tokenizer": ["transformers", "T5TokenizerFast"],
        "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
    },
    "transformer": {
        "_class_name": "WanTransformer3DModel", "added_kv_proj_dim": None, "attention_head_dim": 128,
        "cross_attn_norm": True, "eps": 1e-06, "ffn_dim": 8960, "freq_dim": 256, "in_channels": 16,
        "num_attention_heads": 12, "num_layers": 30, "out_channels": 16, "patch_size": [1, 2, 2],
        "qk_norm": "rms_norm_across_heads", "text_dim": 4096,
    },
    "vae": {
        "_class_name": "AutoencoderKLWan", "base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4],
        "num_res_blocks": 2, "temperal_downsample": [False, True, True],
    },
    "text_encoder": UMT5_XXL,
}  # fmt: skip

WAN_22_TI2V_5B = {
    "model_index.json": {**WAN_21_13B["model_index.json"]},
    "transformer": {
        **WAN_21_13B["transformer"], "num_attention_heads": 24, "ffn_dim": 14336, "in_channels": 48, "out_channels": 48,
    },
    "vae": {
        "_class_name": "AutoencoderKLWan", "base_dim": 160, "decoder_base_dim": 256, "z_dim": 48,
        "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "temperal_downsample": [False, True, True],
        "is_residual": True, "in_channels": 12, "out_channels": 12, "patch_size": 2,
        "scale_factor_spatial": 16, "scale_factor_temporal": 4,
        "latents_mean": [0.0] * 48, "latents_std": [1.0] * 48,
    },
    "text_encoder": UMT5_XXL,
}  # fmt: skip


def _write(root: Path, spec: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, config in spec.items():
        if name.endswith(".json"):
            (root / name).write_text(json.dumps(config))
        else:
            (root / name).mkdir(exist_ok=True)
            (root / name / "config.json").write_text(json.dumps(config))
    index = spec.get("model_index.json", {})
    for name, entry in index.items():  # the small configs of the components not sized (a real folder has them)
        if name.startswith("_") or (root / name).exists() or not isinstance(entry, list) or entry[0] is None:
            continue
        (root / name).mkdir()
        kind = "scheduler_" if "Scheduler" in entry[1] else "tokenizer_" if "Tokenizer" in entry[1] else ""
        (root / name / f"{kind}config.json").write_text(json.dumps({"_class_name": entry[1]}))
    return root


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("configs")
    specs = {"ltx-video": LTX_VIDEO, "ltx-2": LTX_2, "wan2.1-1.3b": WAN_21_13B, "wan2.2-ti2v-5b": WAN_22_TI2V_5B}
    return {name: _write(root / name, spec) for name, spec in specs.items()}


@pytest.fixture(scope="module")
def infos(checkpoints):
    return {name: inspect_model(folder) for name, folder in checkpoints.items()}


@pytest.mark.parametrize(
    ("name", "pipeline", "native", "fps", "rule", "multiple", "transformer_b"),
    [
        ("ltx-video", "LTXPipeline", (704, 512), 25, "8k+1", 32, (1.8, 2.0)),
        ("ltx-2", "LTX2Pipeline", (768, 512), 24, "8k+1", 32, (18.5, 19.5)),
        ("wan2.1-1.3b", "WanPipeline", (832, 480), 16, "4k+1", 16, (1.35, 1.5)),
        ("wan2.2-ti2v-5b", "WanPipeline", (1280, 704), 24, "4k+1", 32, (4.8, 5.2)),
    ],
)
def test_real_configs_give_the_models_sizes_frame_rules_and_parameters(
    infos, name, pipeline, native, fps, rule, multiple, transformer_b
):
    info = infos[name]
    assert info.pipeline == pipeline
    assert (info.native_width, info.native_height) == native and info.native_fps == fps
    assert info.frame_rule() == rule and info.size_multiple == multiple
    low, high = transformer_b
    assert low * 1e9 <= info.params["transformer"] <= high * 1e9
    assert info.params_from["transformer"] == "config"  # counted on the meta device, no weights exist
    assert info.params["text_encoder"] > 4e9  # T5-XXL, UMT5-XXL and Gemma 3 12B are all billions


def test_memory_estimates_match_what_the_sources_say(infos):
    gib = {
        name: choose_plan(info, info.native_width, info.native_height, 81 if "wan" in name else 121, "bfloat16",
                          None, requested).peak_bytes / GIB
        for name, info in infos.items() for requested in ("none",)
    }  # fmt: skip
    assert gib["wan2.2-ti2v-5b"] >= 24 * 1e9 / GIB  # ">= 24 GB"
    assert 10 <= gib["wan2.1-1.3b"] <= 20  # "~13 GB"
    assert 10 <= gib["ltx-video"] <= 20  # "~10 GB" (with model offload, below)
    assert gib["ltx-2"] > 60  # 19B + 12B parameters in bf16 alone are 62 GB
    ltx_model = choose_plan(infos["ltx-video"], 704, 512, 121, "bfloat16", None, "model").peak_bytes / GIB
    assert 8 <= ltx_model <= 12


def test_auto_offload_picks_the_cheapest_plan_that_fits(infos):
    ltx2 = infos["ltx-2"]
    on_80 = choose_plan(ltx2, 768, 512, 121, "bfloat16", 80 * GIB)
    on_48 = choose_plan(ltx2, 768, 512, 121, "bfloat16", 48 * GIB)
    on_24 = choose_plan(ltx2, 768, 512, 121, "bfloat16", 24 * GIB)
    assert on_80.offload == "none" and on_80.fits and not on_80.vae_tiling
    assert on_48.offload == "model" and on_48.fits  # 68 GB of weights fit one component at a time
    assert on_24.offload == "sequential" and on_24.fits  # as LTX-2's docs do it
    wan = infos["wan2.1-1.3b"]
    assert choose_plan(wan, 832, 480, 81, "bfloat16", 80 * GIB).offload == "none"
    tight = choose_plan(ltx2, 768, 512, 121, "bfloat16", 2 * GIB)
    assert not tight.fits and tight.offload == "sequential"
    on_cpu = choose_plan(wan, 832, 480, 81, "float32", 24 * GIB, on_gpu=False)
    assert on_cpu.offload == "none"
    asked = choose_plan(wan, 832, 480, 81, "float32", 24 * GIB, "sequential", on_gpu=False)
    assert asked.offload == "none" and "offload sequential asked, ignored off a GPU" in asked.reason


def test_settings_a_model_cannot_honour_are_named_with_what_it_allows(infos):
    problems = film_problems(infos["ltx-2"], {"width": 500, "height": 512, "offload": "later"}, 1280, 720)
    paths = {path[-1]: message for path, message in problems}
    assert "not a multiple of 32" in paths["width"] and "480 or 512" in paths["width"]
    assert "height" not in paths
    assert "'later' is not one of auto, none, model, sequential" in paths["offload"]
    assert film_problems(infos["wan2.1-1.3b"], {"width": 848, "height": 480}, 1280, 720) == []


def test_render_with_an_impossible_film_is_exit_2_before_anything_renders(tmp_path, checkpoints):
    board = tmp_path / "film.yaml"
    board.write_text(
        "version: 1\ntitle: T\noutput: {width: 128, height: 128, fps: 12}\n"
        f"backend: {{name: diffusers, model: {checkpoints['ltx-2']}, options: {{width: 500, steps: 2}}}}\n"
        "world: {location: a room}\nshots: [{id: a, duration: 1}]\n"
    )
    result = run_cli("render", str(board), "-q", "-o", str(tmp_path / "out.mp4"))
    assert result.code == 2, result.stderr
    assert "film.yaml:4:" in result.stderr and "backend.options.width: 500 is not a multiple of 32" in result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_doctor_reports_a_model_without_loading_it(checkpoints):
    result = run_cli("doctor", "--model", str(checkpoints["wan2.2-ti2v-5b"]), "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)["model"]
    assert report["pipeline"] == "WanPipeline" and report["frame_rule"] == "4k+1"
    assert (report["native_width"], report["native_height"], report["native_fps"]) == (1280, 704, 24)
    assert report["plan"]["peak_bytes"] > 20 * GIB


# --- folders that cannot be loaded: a located exit 2 from validate, render and doctor, never a crash -----------

SMALL_WAN = {  # the Wan 2.1 1.3B configs without the 5.7B text encoder: quick to count on the meta device
    "model_index.json": {
        "_class_name": "WanPipeline", "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
    },
    "transformer": WAN_21_13B["transformer"],
    "vae": WAN_21_13B["vae"],
}  # fmt: skip


_EMPTY_SAFETENSORS = b"\x02" + bytes(7) + b"{}"  # a valid safetensors file holding no tensors


def _break(root: Path, how: str) -> None:
    index = root / "model_index.json"
    spec = json.loads(index.read_text())
    if how == "unknown class":
        index.write_text(json.dumps({**spec, "_class_name": "FooBarPipeline"}))
    elif how == "no class":
        index.write_text(json.dumps({k: v for k, v in spec.items() if k != "_class_name"}))
    elif how == "no transformer config":
        (root / "transformer" / "config.json").unlink()
    elif how == "truncated index":
        index.write_text(index.read_text()[:20])
    elif how == "binary index":
        index.write_bytes(b"\x00\xff\xfe\x80" * 16)
    elif how == "index is a list":
        index.write_text("[1, 2, 3]")
    elif how == "empty index":
        index.write_text("{}")
    elif how == "garbage transformer config":
        (root / "transformer" / "config.json").write_text("garbage{")
    elif how == "z_dim not a number":
        vae = json.loads((root / "vae" / "config.json").read_text())
        (root / "vae" / "config.json").write_text(json.dumps({**vae, "z_dim": "sixteen"}))
    elif how == "patch_size not a number":
        tr = json.loads((root / "transformer" / "config.json").read_text())
        (root / "transformer" / "config.json").write_text(json.dumps({**tr, "patch_size": "x"}))
    elif how in ("infinite layers", "no layers", "heads not a number"):  # Python's json writes Infinity/NaN
        key, value = {"infinite layers": ("num_layers", float("inf")), "no layers": ("num_layers", 0),
                      "heads not a number": ("num_attention_heads", float("nan"))}[how]  # fmt: skip
        tr = json.loads((root / "transformer" / "config.json").read_text())
        (root / "transformer" / "config.json").write_text(json.dumps({**tr, key: value}))
    elif how == "tampered safetensors":
        for name in ("transformer", "vae"):  # every model component has its weights: only their bytes are wrong
            (root / name / "diffusion_pytorch_model.safetensors").write_bytes(b"notsafetensors\n")
    elif how == "no scheduler folder":
        shutil.rmtree(root / "scheduler")
    elif how == "corrupt scheduler config":
        (root / "scheduler" / "scheduler_config.json").write_text("nope{")
    elif how == "vae weights missing":
        (root / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(_EMPTY_SAFETENSORS)
    else:  # pragma: no cover
        raise AssertionError(how)


BREAKS = {  # how the folder is broken -> words the problem must say
    "unknown class": "FooBarPipeline is not a diffusers pipeline", "no class": "names no pipeline",
    "no transformer config": "has no config.json", "truncated index": "is not valid JSON",
    "binary index": "is not valid JSON", "index is a list": "must hold a JSON object",
    "empty index": "lists no components", "garbage transformer config": "is not valid JSON",
    "z_dim not a number": "z_dim must be a positive whole number",
    "patch_size not a number": "patch_size must be a positive whole number",
    "tampered safetensors": "is not a safetensors file",
    "no scheduler folder": "component 'scheduler': ",
    "corrupt scheduler config": "component 'scheduler': ",
    "vae weights missing": "component 'vae': ",
    "infinite layers": "num_layers must be a positive whole number, got inf",
    "no layers": "num_layers must be a positive whole number, got 0",
    "heads not a number": "num_attention_heads must be a positive whole number, got nan",
}  # fmt: skip


@pytest.mark.parametrize("how", BREAKS)
def test_a_model_folder_that_cannot_be_loaded_is_a_located_exit_2_everywhere(tmp_path, how):
    model = _write(tmp_path / "model", SMALL_WAN)
    board = tmp_path / "film.yaml"
    board.write_text(
        "version: 1\ntitle: T\noutput: {width: 64, height: 64, fps: 12}\n"
        f"backend: {{name: diffusers, model: {model}, options: {{steps: 2}}}}\n"
        "world: {location: a room}\nshots: [{id: a, duration: 1}]\n"
    )
    assert run_cli("validate", str(board)).code == 0  # the sound folder passes
    _break(model, how)
    validated = run_cli("validate", str(board))
    assert validated.code == 2, validated.stderr
    assert "film.yaml:4:" in validated.stderr and "backend.model:" in validated.stderr
    assert "Traceback" not in validated.stderr
    rendered = run_cli("render", str(board), "-q", "-o", str(tmp_path / "out.mp4"))
    assert rendered.code == 2 and "backend.model:" in rendered.stderr, rendered.stderr
    assert not (tmp_path / "out.mp4").exists()
    for args in (("--model", str(model)), ("--model", str(model), "--film", str(board))):
        doctor = run_cli("doctor", *args, "--json")
        assert doctor.code == 2, doctor.stderr
        problems = json.loads(doctor.stdout)["model"]["problems"]
        assert [p["path"] for p in problems] == ["backend.model"], problems
        assert BREAKS[how] in problems[0]["message"]


def test_a_safetensors_header_is_checked_against_the_file_before_it_is_read(tmp_path):
    from sora_cli.render.diffusion.preflight import ModelConfigError, safetensors_summary

    folder = tmp_path / "c"
    folder.mkdir()
    weights = folder / "model.safetensors"
    header = json.dumps({"w": {"dtype": "BF16", "shape": [4, 8], "data_offsets": [0, 64]}}).encode()
    weights.write_bytes(len(header).to_bytes(8, "little") + header + bytes(64))
    assert safetensors_summary(folder) == (32, {"bfloat16": 64})
    weights.write_bytes((1 << 62).to_bytes(8, "little") + header)  # a length past the file: no 4 EiB read
    with pytest.raises(ModelConfigError, match="header claims"):
        safetensors_summary(folder)
    odd = json.dumps({"w": {"dtype": "Q9", "shape": [4, 8], "data_offsets": [0, 64]}}).encode()
    weights.write_bytes(len(odd).to_bytes(8, "little") + odd + bytes(64))  # a dtype the format does not define
    with pytest.raises(ModelConfigError, match="has dtype 'Q9'; safetensors defines BF16, BOOL"):
        safetensors_summary(folder)


@pytest.mark.parametrize(
    ("option", "value"),
    [("fps", 0), ("fps", -12), ("steps", 0), ("guidance", -1.0), ("frames_per_chunk", 0), ("width", 0),
     ("height", -64), ("threads", 0), ("max_sequence_length", 0), ("guidance", float("inf")),
     ("guidance", float("nan")), ("guidance", float("-inf")), ("steps", float("inf")), ("steps", 2.5),
     ("fps", float("nan"))],
)  # fmt: skip
def test_numeric_options_out_of_range_are_refused(option, value):
    from sora_cli.render.diffusion import DiffusersBackend

    problems = DiffusersBackend.check_options({option: value})
    assert [key for key, _ in problems] == [option] and "must be" in problems[0][1]
    assert DiffusersBackend.check_options({"fps": 12, "steps": 1, "guidance": 0, "frames_per_chunk": 1}) == []


def _film_with(tmp_path: Path, model: Path, options: str, duration: float = 1) -> Path:
    board = tmp_path / "film.yaml"
    board.write_text(
        "version: 1\ntitle: T\noutput: {width: 64, height: 64, fps: 12}\n"
        f"backend: {{name: diffusers, model: {model}, options: {{{options}}}}}\n"
        f"world: {{location: a room}}\nshots: [{{id: a, duration: {duration}}}, {{id: b, duration: {duration}}}]\n"
    )
    return board


@pytest.mark.parametrize(
    ("options", "path", "words"),
    [
        ("audio: all", "backend.options.audio", "makes no sound"),
        ("audio: loud", "backend.options.audio", "is not one of"),
        ("colour: red", "backend.options.colour", "unknown diffusers option"),
        ("frames_per_chunk: abc", "backend.options.frames_per_chunk", "expected a number"),
        ("fps: 0", "backend.options.fps", "must be more than 0"),
        ("guidance: .inf", "backend.options.guidance", "must be a finite number, at least 0, got inf"),
        ("steps: .nan", "backend.options.steps", "must be a whole number, at least 1, got nan"),
    ],
)
def test_doctor_with_a_film_runs_the_renders_own_checks(tmp_path, options, path, words):
    model = _write(tmp_path / "model", SMALL_WAN)
    board = _film_with(tmp_path, model, options)
    assert run_cli("validate", str(board)).code == 2
    doctor = run_cli("doctor", "--model", str(model), "--film", str(board), "--json")
    assert doctor.code == 2, doctor.stderr
    problems = json.loads(doctor.stdout)["model"]["problems"]
    assert any(p["path"] == path and words in p["message"] for p in problems), problems


def test_doctor_sizes_a_chunk_by_the_longest_shot(tmp_path):
    model = _write(tmp_path / "model", SMALL_WAN)
    board = _film_with(tmp_path, model, "frames_per_chunk: 100000, width: 64, height: 64")
    doctor = run_cli("doctor", "--model", str(model), "--film", str(board), "--json", "--device", "cpu")
    report = json.loads(doctor.stdout)["model"]
    assert report["generation"]["frames"] == 17  # 1 s at Wan's 16 fps, rounded up to 4k+1 (not 100001)
    assert doctor.code == 0, report["problems"]


def test_doctor_says_when_there_is_no_cuda_device(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is here")
    model = _write(tmp_path / "model", SMALL_WAN)
    doctor = run_cli("doctor", "--model", str(model), "--device", "cuda", "--json")
    assert doctor.code == 2
    problems = json.loads(doctor.stdout)["model"]["problems"]
    assert any("no CUDA device" in p["message"] for p in problems), problems


def _free_between(model: Path, fits: int, not_fits: int) -> int:
    """Free bytes in which a ``fits``-frame call's best plan fits and a ``not_fits``-frame call's does not (at 64x64
    Wan's transformer outgrows its VAE decode, which holds 4 frames whatever the call, above 85 frames)."""
    info = inspect_model(model)
    low = choose_plan(info, 64, 64, fits, "float32", None, "none", None, False).peak_bytes
    high = choose_plan(info, 64, 64, not_fits, "float32", None, "none", None, False).peak_bytes
    assert low < high
    return (low + high) // 2  # off a GPU the plan is no offload, held against the whole free memory


def test_a_film_that_cannot_fit_the_device_is_exit_2_naming_what_would(tmp_path, monkeypatch):
    """The memory at the film's size for the device found, with the best plan, checked before anything renders;
    the device's free memory comes through preflight's seam (device_free_bytes), the model is real configs."""
    import sora_cli.render.diffusion as backend

    model = _write(tmp_path / "model", SMALL_WAN)
    board = _film_with(tmp_path, model, "frames_per_chunk: 97, device: cpu", duration=10)
    assert run_cli("validate", str(board)).code == 0  # this machine's own memory holds it
    monkeypatch.setattr(backend, "device_free_bytes", lambda device: _free_between(model, 93, 97))
    validated = run_cli("validate", str(board))
    assert validated.code == 2, validated.stderr
    assert "film.yaml:4:" in validated.stderr and "backend.options.frames_per_chunk: ~" in validated.stderr
    assert "64x64x97" in validated.stderr and "on cpu; frames_per_chunk: 93 fits" in validated.stderr
    rendered = run_cli("render", str(board), "-q", "-o", str(tmp_path / "out.mp4"))
    assert rendered.code == 2 and "frames_per_chunk: 93 fits" in rendered.stderr
    assert not (tmp_path / "out.mp4").exists()
    doctor = run_cli("doctor", "--model", str(model), "--film", str(board), "--json", "--device", "cpu")
    assert doctor.code == 2
    assert [p["path"] for p in json.loads(doctor.stdout)["model"]["problems"]] == ["backend.options.frames_per_chunk"]
    monkeypatch.setattr(backend, "device_free_bytes", lambda device: 1 << 20)  # nothing fits in 1 MiB
    nothing = run_cli("validate", str(board))
    assert nothing.code == 2 and "backend.model: ~" in nothing.stderr and "does not fit here" in nothing.stderr
    # the longest shot bounds a call: a 1 s film asks 17 frames of Wan, whatever frames_per_chunk says
    short = _film_with(tmp_path, model, "frames_per_chunk: 97, device: cpu", duration=1)
    monkeypatch.setattr(backend, "device_free_bytes", lambda device: _free_between(model, 17, 97))
    assert run_cli("validate", str(short)).code == 0
