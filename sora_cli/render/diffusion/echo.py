"""Echo: the cast's likeness images and a cameo's voice as the model's memory slots.

Echo (diffusers >= 0.42.1) is a *modular* pipeline: a folder with
``modular_model_index.json`` whose blocks (``EchoBlocks``) run LTX-2's parts.
Each shot gives it every cast member's likeness images as ``memory_images``
(one slot each, cast order, at most :data:`MAX_SLOTS`), and a cameo's voice
sample as the audio memory of that member's first slot (the other slots are
silent). Its own sound is not used: the film's speech stays sora's.

Echo's own encoder of voice waveforms needs torchaudio, which has no wheel for
the installed torch; so the voice is encoded here, by the same log-mel recipe
as the lip-sync family's speech (:func:`.speech.log_mel`) and the model's audio
VAE, normalised with that VAE's statistics as Echo's encoder does, and handed
to the denoiser as ``memory_audio_latents`` by one small block inserted after
Echo's encoder (which would otherwise set them to nothing, having no waveform).

The components load from the folder's own sub-folders, whatever path the index
recorded when it was saved (a moved folder still loads; nothing is fetched).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sora_cli.audio_files import MIX_RATE, decode_audio
from sora_cli.dsp.kernels import resample_poly
from sora_cli.render.diffusion.speech import log_mel

#: Echo accepts at most this many memory slots (``modular_pipelines/echo/encoders.py``)
MAX_SLOTS = 7
#: Echo's encoder keeps at most this much of a memory voice (it crops longer ones)
MAX_VOICE_SECONDS = 9.62
#: the DMD schedule Echo ships with (``modular_pipelines/echo/denoise.py``), terminal zero included
DEFAULT_SIGMAS = (1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875, 0.0)
PIPELINE = "EchoModularPipeline"


def sigmas(steps: int | None) -> list[float]:
    """Echo's schedule: its own, or ``steps`` evenly spaced sigmas from 1 down, then the terminal zero."""
    if steps is None:
        return list(DEFAULT_SIGMAS)
    return [1.0 - k / steps for k in range(steps)] + [0.0]


def _voice_memory_step() -> Any:
    """A block that hands sora's encoded voices to Echo's denoiser as ``memory_audio_latents``."""
    import torch
    from diffusers.modular_pipelines.modular_pipeline import ModularPipelineBlocks
    from diffusers.modular_pipelines.modular_pipeline_utils import InputParam, OutputParam

    class SoraVoiceMemoryStep(ModularPipelineBlocks):
        model_name = "echo"

        @property
        def description(self) -> str:
            return "Normalised audio VAE latents per memory slot, encoded by sora (None: a silent slot)."

        @property
        def inputs(self) -> list[InputParam]:
            return [InputParam("voice_memory_latents", type_hint=list, default=None)]

        @property
        def intermediate_outputs(self) -> list[OutputParam]:
            return [OutputParam("memory_audio_latents", type_hint=list)]

        @torch.no_grad()
        def __call__(self, components: Any, state: Any) -> Any:
            block_state = self.get_block_state(state)
            given = block_state.voice_memory_latents
            block_state.memory_audio_latents = list(given) if given and any(v is not None for v in given) else None
            self.set_block_state(state, block_state)
            return components, state

    return SoraVoiceMemoryStep()


def load(folder: Path, index: dict[str, Any], dtype: Any) -> Any:
    """The Echo pipeline of ``folder``: its blocks with the voice step, its components from its sub-folders."""
    import importlib

    import diffusers
    import transformers

    blocks_name = index.get("_blocks_class_name") or "EchoBlocks"
    blocks = getattr(diffusers, blocks_name)()
    at = list(blocks.sub_blocks).index("vae_encoder") + 1
    blocks.sub_blocks.insert("voice_memory", _voice_memory_step(), at)
    pipe = blocks.init_pipeline()
    components: dict[str, Any] = {}
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or len(spec) < 2 or spec[0] is None:
            continue
        library, class_name = spec[0], spec[1]
        path = folder / name
        if (library == "transformers" and "Tokenizer" in class_name) or class_name == "TokenizersBackend":
            components[name] = transformers.AutoTokenizer.from_pretrained(path)
            continue
        module = (
            diffusers if library == "diffusers" else transformers if library == "transformers"
            else importlib.import_module(f"diffusers.pipelines.{library}")
        )  # fmt: skip
        cls = getattr(module, class_name)
        components[name] = (
            cls.from_pretrained(path, dtype=dtype) if hasattr(cls, "dtype") else cls.from_pretrained(path)
        )
    pipe.update_components(**components)
    return pipe


def voice_latents(pipe: Any, path: str) -> Any:
    """A voice sample as Echo's memory audio: normalised audio VAE latents (1, C, L, M), at most 9.62 s of it."""
    import torch

    vae = pipe.audio_vae
    rate, hop = int(vae.config.sample_rate), int(vae.config.mel_hop_length)
    # decoded at the mix rate (a cameo's voice.wav is written at it), resampled as the lip-sync family's speech is
    samples = decode_audio(path, MIX_RATE, 1)[:, 0]
    if rate != MIX_RATE:
        samples = resample_poly(samples, rate, MIX_RATE).astype(np.float32)
    samples = samples[: round(MAX_VOICE_SECONDS * rate)]  # Echo's encoder keeps 9.62 s; here, the first 9.62 s
    mel = log_mel(samples, rate, hop, int(vae.config.mel_bins))
    with torch.no_grad():
        latents = vae.encode(mel.to(vae.dtype)).latent_dist.mode().float()
    channels, bins = latents.shape[1], latents.shape[3]
    mean = vae.latents_mean.view(1, channels, 1, bins).float()
    std = vae.latents_std.view(1, channels, 1, bins).float()
    return (latents - mean) / std


def memory(
    cast: tuple[str, ...], references: dict[str, list[Image.Image]], voices: dict[str, Any]
) -> tuple[list[Image.Image], list[Any], dict[str, dict[str, Any]]]:
    """(memory images, one voice latent or None per slot, what each cast member got) for one shot.

    Slots go to the cast in order, each member's images in turn, at most
    :data:`MAX_SLOTS`; a member's voice (``voices``: cast member -> latents)
    sits on its first slot.
    """
    images: list[Image.Image] = []
    audio: list[Any] = []
    given: dict[str, dict[str, Any]] = {}
    for cid in cast:
        for k, img in enumerate(references.get(cid, [])):
            if len(images) == MAX_SLOTS:
                break
            images.append(img)
            voice = voices.get(cid) if k == 0 else None
            audio.append(voice)
            entry = given.setdefault(cid, {"images": 0, "voice": False})
            entry["images"] += 1
            entry["voice"] = entry["voice"] or voice is not None
    return images, audio, given


def to_frames(videos: Any) -> list[np.ndarray]:
    """Echo's ``videos`` (output_type ``np``: (B, F, H, W, C) in 0..1) as uint8 RGB frames."""
    return [np.clip(np.rint(np.asarray(f) * 255), 0, 255).astype(np.uint8) for f in videos[0]]
