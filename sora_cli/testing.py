"""Tiny, randomly initialised diffusers pipelines, built fully offline.

``make_tiny_pipeline(directory, family)`` builds a pipeline of one of the
supported video families with every component a few kilobytes big (the sizes
diffusers' own fast tests use), and saves it to ``directory`` the way a real
model is laid out (``model_index.json``, or ``modular_model_index.json`` for
Echo's modular pipeline, and one folder per component). The
tests render films with them, and ``sora doctor --diffusers`` uses them to
smoke-test an install. The text encoder's tokenizer is built in code from a
small Unigram vocabulary, so nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path

FAMILIES = (
    "ltx", "ltx-condition", "wan", "wan-i2v", "wan-vace", "cogvideox", "cogvideox-i2v", "anyflow-far", "helios",
)  # fmt: skip
#: LTX-2 makes sound with the picture (its tests are separate: slower, and about the sound)
AUDIO_FAMILIES = ("ltx2", "ltx2-i2v", "ltx2-condition")
#: LTX-2 driven by given speech: the picture follows the line's audio (lip-sync)
SPEECH_FAMILIES = ("ltx2-dfr",)
#: Echo (a modular pipeline, saved as ``modular_model_index.json``): likeness images and voices as memory slots
MEMORY_FAMILIES = ("echo",)
#: the diffusers release that first has each family's pipeline (older ones cannot build it)
SINCE = {
    "anyflow-far": ("AnyFlowFARPipeline", "0.39"),
    "helios": ("HeliosPipeline", "0.37"),
    "ltx2": ("LTX2Pipeline", "0.37"),
    "ltx2-i2v": ("LTX2ImageToVideoPipeline", "0.37"),
    "ltx2-condition": ("LTX2ConditionPipeline", "0.37"),
    "ltx2-dfr": ("LTX2DFRPipeline", "0.42.1"),
    "echo": ("EchoModularPipeline", "0.42.1"),
}

_WORDS = [
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "at",
    "to",
    "and",
    "with",
    "by",
    "from",
    "for",
    "is",
    "are",
    "was",
    "it",
    "this",
    "that",
    "wide",
    "medium",
    "close",
    "shot",
    "camera",
    "static",
    "pans",
    "left",
    "right",
    "tilts",
    "up",
    "down",
    "zooms",
    "dollies",
    "handheld",
    "light",
    "lighting",
    "dawn",
    "day",
    "golden",
    "hour",
    "dusk",
    "night",
    "clear",
    "sky",
    "overcast",
    "rain",
    "snow",
    "blizzard",
    "fog",
    "storm",
    "thunderstorm",
    "falling",
    "street",
    "city",
    "ice",
    "forest",
    "sea",
    "desert",
    "room",
    "office",
    "harbour",
    "pier",
    "explorer",
    "parka",
    "red",
    "blue",
    "green",
    "yellow",
    "grey",
    "white",
    "black",
    "coat",
    "jacket",
    "walks",
    "runs",
    "turns",
    "waves",
    "sits",
    "drag",
    "sled",
    "lamp",
]


def tiny_tokenizer():
    """A T5-style SentencePiece Unigram tokenizer (pad, eos, unk, words, letters), built in memory."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram
    from transformers import PreTrainedTokenizerFast

    pieces = ["<pad>", "</s>", "<unk>", "▁"]
    pieces += [f"▁{w}" for w in _WORDS]
    pieces += [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)] + list(",.:;!?'-")
    vocab = [(p, 0.0 if i < 3 else -float(i) / 10) for i, p in enumerate(dict.fromkeys(pieces))]
    model = Unigram(vocab, unk_id=2, byte_fallback=False)
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512
    )


def tiny_text_encoder():
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=256,
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return T5EncoderModel(config).eval()


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )


def _wan_transformer(cls, **extra):
    return cls(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, out_channels=16, text_dim=32, freq_dim=256,
        ffn_dim=32, cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32, **extra,
    )  # fmt: skip


def _ltx_components() -> dict:
    from diffusers import AutoencoderKLLTXVideo, LTXVideoTransformer3DModel

    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4, attention_head_dim=8,
        cross_attention_dim=32, num_layers=1, caption_channels=32,
    )  # fmt: skip
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False), decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1, patch_size_t=1, encoder_causal=True,
        decoder_causal=False,
    )  # fmt: skip
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return {"transformer": transformer, "vae": vae}


def _cogvideox_components(image_to_video: bool) -> dict:
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel

    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2 if image_to_video else 4, attention_head_dim=16 if image_to_video else 8,
        in_channels=8 if image_to_video else 4, out_channels=4, time_embed_dim=2, text_embed_dim=32, num_layers=1,
        sample_width=2, sample_height=2, sample_frames=9, patch_size=2, temporal_compression_ratio=4,
        max_text_seq_length=16, use_rotary_positional_embeddings=image_to_video, use_learned_positional_embeddings=image_to_video,
    )  # fmt: skip
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4, up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8), latent_channels=4, layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )  # fmt: skip
    return {"transformer": transformer, "vae": vae}


def _ltx2_components(compressing_audio_vae: bool = False) -> dict:
    """LTX-2's parts at the sizes of diffusers' LTX-2 fast tests, with a Gemma 3 text encoder built in code.

    The vocoder upsamples by 160 (8 x 5 x 4), the hop of the 16 kHz mel spectrogram, so its sound has the
    duration and the sample rate it claims (16 kHz), as the real model's 240x gives 24 kHz.

    ``compressing_audio_vae``: an audio VAE that downsamples time and mel bins by 4 (``ch_mult=(1, 2, 4)``) with
    ``base_channels`` equal to the packed latent width (latent channels x mel bins / 4), as in the real LTX-2
    (128 = 8 x 64 / 4). The pipelines normalise given audio latents with statistics of ``base_channels`` values,
    so a family that takes encoded audio (DFR) needs it; the fast tests' VAE only ever decodes.
    """
    import torch
    from diffusers import AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, LTX2VideoTransformer3DModel
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    gemma = Gemma3Config(
        text_config={
            "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 256, "max_position_embeddings": 256,
            "sliding_window": 16,
        },
        vision_config={
            "hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
            "image_size": 28, "patch_size": 14,
        },
        mm_tokens_per_image=4, image_token_index=255, boi_token_index=253, eoi_token_index=254,
    )  # fmt: skip
    width = gemma.text_config.hidden_size
    torch.manual_seed(0)
    text_encoder = Gemma3ForConditionalGeneration(gemma).eval()
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=width, rope_double_precision=False, rope_type="split",
    )  # fmt: skip
    connectors = LTX2TextConnectors(
        caption_channels=width, text_proj_in_factor=gemma.text_config.num_hidden_layers + 1,
        video_connector_num_attention_heads=4, video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=4,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1, audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32, rope_theta=10000.0, rope_double_precision=False,
        causal_temporal_positioning=False, rope_type="split",
    )  # fmt: skip
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )  # fmt: skip
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1, 2, 4) if compressing_audio_vae else (1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8,
    )  # fmt: skip
    vocoder = LTX2Vocoder(
        in_channels=2 * 8, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[16, 10, 8],
        upsample_factors=[8, 5, 4], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1, output_sampling_rate=16000,
    )  # fmt: skip
    return {
        "transformer": transformer, "vae": vae, "audio_vae": audio_vae, "text_encoder": text_encoder,
        "tokenizer": tiny_tokenizer(), "connectors": connectors, "vocoder": vocoder,
    }  # fmt: skip


def build_tiny_pipeline(family: str):
    """The pipeline object itself (see :func:`make_tiny_pipeline`)."""
    import diffusers
    import torch

    known = FAMILIES + AUDIO_FAMILIES + SPEECH_FAMILIES + MEMORY_FAMILIES
    if family not in known:
        raise ValueError(f"unknown family {family!r} (families: {', '.join(known)})")
    if family in SINCE and not hasattr(diffusers, SINCE[family][0]):
        name, version = SINCE[family]
        raise RuntimeError(f"{family} needs diffusers >= {version} ({name}); installed: {diffusers.__version__}")
    torch.manual_seed(0)
    if family == "echo":  # Echo's blocks over LTX-2's parts; its audio memory packs C x M = audio_in_channels
        from diffusers.modular_pipelines import EchoBlocks

        pipe = EchoBlocks().init_pipeline()
        pipe.update_components(**_ltx2_components(compressing_audio_vae=True))
        return pipe
    if family.startswith("ltx2"):
        cls = {
            "ltx2": "LTX2Pipeline",
            "ltx2-i2v": "LTX2ImageToVideoPipeline",
            "ltx2-condition": "LTX2ConditionPipeline",
            "ltx2-dfr": "LTX2DFRPipeline",
        }
        return getattr(diffusers, cls[family])(
            scheduler=diffusers.FlowMatchEulerDiscreteScheduler(), **_ltx2_components(family == "ltx2-dfr")
        )
    text = {"text_encoder": tiny_text_encoder(), "tokenizer": tiny_tokenizer()}
    if family == "anyflow-far":  # Wan-based, causal chunks with a KV cache; takes latent history
        transformer = diffusers.AnyFlowFARTransformer3DModel(
            patch_size=(1, 2, 2), compressed_patch_size=(1, 4, 4), full_chunk_limit=3, num_attention_heads=2,
            attention_head_dim=12, in_channels=16, out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32,
            num_layers=2, rope_max_seq_len=32, chunk_partition=(1, 2),
        )  # fmt: skip
        return diffusers.AnyFlowFARPipeline(
            transformer=transformer, vae=_wan_vae(), scheduler=diffusers.FlowMapEulerDiscreteScheduler(), **text
        )
    if family == "helios":  # Wan-based, chunked with long/mid/short latent history (diffusers' fast-test sizes)
        transformer = diffusers.HeliosTransformer3DModel(
            patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
            text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
            rope_dim=(4, 4, 4), has_multi_term_memory_patch=True, guidance_cross_attn=True, zero_history_timestep=True,
            is_amplify_history=False,
        )  # fmt: skip
        scheduler = diffusers.HeliosScheduler(stage_range=[0, 1], stages=1, use_dynamic_shifting=True)
        return diffusers.HeliosPipeline(transformer=transformer, vae=_wan_vae(), scheduler=scheduler, **text)
    if family.startswith("ltx"):
        parts = _ltx_components()
        cls = diffusers.LTXConditionPipeline if family == "ltx-condition" else diffusers.LTXPipeline
        return cls(scheduler=diffusers.FlowMatchEulerDiscreteScheduler(), **parts, **text)
    if family.startswith("cogvideox"):
        parts = _cogvideox_components(family == "cogvideox-i2v")
        cls = diffusers.CogVideoXImageToVideoPipeline if family == "cogvideox-i2v" else diffusers.CogVideoXPipeline
        return cls(scheduler=diffusers.DDIMScheduler(), **parts, **text)
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler(shift=7.0)
    if family == "wan":
        transformer = _wan_transformer(diffusers.WanTransformer3DModel, in_channels=16, num_layers=2)
        return diffusers.WanPipeline(transformer=transformer, vae=_wan_vae(), scheduler=scheduler, **text)
    if family == "wan-vace":
        transformer = _wan_transformer(
            diffusers.WanVACETransformer3DModel, in_channels=16, num_layers=3, vace_layers=[0, 2], vace_in_channels=96
        )
        return diffusers.WanVACEPipeline(transformer=transformer, vae=_wan_vae(), scheduler=scheduler, **text)
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    transformer = _wan_transformer(diffusers.WanTransformer3DModel, in_channels=36, num_layers=2, image_dim=4)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4,
            projection_dim=4,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            intermediate_size=16,
            patch_size=1,
        )
    )
    return diffusers.WanImageToVideoPipeline(
        transformer=transformer, vae=_wan_vae(), scheduler=scheduler, image_encoder=encoder,
        image_processor=CLIPImageProcessor(crop_size=32, size=32), **text,
    )  # fmt: skip


def make_tiny_pipeline(directory: str | Path, family: str) -> Path:
    """Build a tiny random pipeline of ``family`` and save it to ``directory`` (returned)."""
    directory = Path(directory)
    pipe = build_tiny_pipeline(family)
    if family in MEMORY_FAMILIES:  # a modular pipeline: modular_model_index.json (its components found beside it)
        pipe.save_pretrained(str(directory), overwrite_modular_index=True)
    else:
        pipe.save_pretrained(directory)
    return directory
