"""Latent continuation: a ``continue`` shot starts from the latents the previous shot made.

Chaining through decoded frames (decode, then encode again in the next call)
is slower and loses detail at every round trip. A latent-capable family takes
the previous clip's latents as history instead; the backend keeps them on the
CPU as a plain ``float32`` numpy array (:attr:`Carry.latents`), so they cross
processes and Ray actors like any other array.

Each family here is called with ``output_type="latent"`` and its latents are
decoded by the same steps its pipeline would take, so the latents that leave a
call are exactly the ones the next call receives.

**The causal-VAE trap.** Video VAEs of these families are causal: latent 0
stands for the first frame alone, every later latent for ``r`` frames
(``r`` = 4 for Wan's VAE). A tail slice of a clip's latents is therefore not
what encoding the clip's last frames afresh would give: its first latent holds
``r`` frames, and was computed with the whole clip before it in the encoder's
causal cache. Per family:

* **AnyFlow-FAR** (``AnyFlowFARPipeline``, diffusers >= 0.39): the history goes
  in as ``video_latents`` in FAR layout ``(B, T, C, H, W)`` and fills the first
  chunk of ``chunk_partition`` exactly (so it is never re-noised); the model
  only attends to it through its KV cache, so the slice is used as it is, with
  no re-encode. When decoding, the causal decoder reads the history's first
  latent as a single frame, so the ``1 + r * (c - 1)`` frames decoded from the
  ``c`` history latents are dropped and only the new ones are kept; the new
  frames are decoded with the history in the decoder's causal cache, which is
  what keeps them continuous with the previous shot.

* **LTX-2 condition** (``LTX2ConditionPipeline``, run through diffusers'
  LTX-2 modular blocks, diffusers >= 0.40): the history goes in as
  ``condition_latents`` at latent index 0 with strength 1, so its tokens are
  the history exactly and are never re-noised, and no VAE encode happens. The
  first history latent stands for 8 frames but sits where the model expects a
  single first frame: its ``1 + 8 * (c - 1)`` decoded frames (and their sound,
  which belongs to the previous shot) are dropped.

* **Helios** (``HeliosPipeline``, diffusers >= 0.37): the history goes in as
  ``video_latents`` in ``(B, C, T, H, W)`` layout, without the noise Helios
  adds to a video prompt by default (``add_noise_to_video_latents=False``), so
  its last :data:`HELIOS_HISTORY` latents fill the model's mid and short
  history windows exactly as the previous shot left them. Helios decodes each
  window of new latents on its own, never the history, so no decoded frame
  belongs to the previous shot and the slice is used as it is, with no
  re-encode; the new latents are decoded alone, as Helios's own output is.

Frames stay the fallback: when there are no carried latents (a carry from
another family or size, or an older cache), the previous last frame goes in as
``video`` and the pipeline encodes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: the diffusers release that first has each latent-capable pipeline (for the error when it is missing)
SINCE = {
    "AnyFlowFARPipeline": "0.39",
    "HeliosPipeline": "0.37",
    "LTX2Pipeline": "0.37",
    "LTX2ImageToVideoPipeline": "0.37",
    "LTX2ConditionPipeline": "0.37",
}
HISTORY_LATENTS = 2  # latent frames carried to the next call (8 frames of motion for a 4x temporal VAE)
HELIOS_HISTORY = 3  # Helios's mid (2) and short (1) history windows


@dataclass
class LatentCall:
    kwargs: dict[str, Any]
    history: int  # latent frames of history at the head of the call's output
    summary: dict[str, Any]
    runner: Any = None  # what to call instead of the pipeline (LTX-2's modular blocks)
    repeated: int = 0  # decoded frames that belong to the history (dropped, with their sound)


def anyflow_call(
    pipe: Any, kwargs: dict[str, Any], frames: int, history: np.ndarray | None, context: list[Any]
) -> LatentCall:
    """An AnyFlow-FAR call making ``frames`` new frames after ``history`` latents (or one context frame)."""
    import torch

    r = pipe.vae_scale_factor_temporal
    summary: dict[str, Any] = {}
    if history is not None:
        c = history.shape[0]
        kwargs["video_latents"] = torch.from_numpy(history).unsqueeze(0)  # (1, T, C, H, W), FAR layout
        summary["previous_latents"] = c
    elif context:
        c = 1  # the previous last frame, encoded by the pipeline (the pixel fallback)
        frame = np.asarray(context[-1], dtype=np.float32) / 255.0
        kwargs["video"] = torch.from_numpy(frame).permute(2, 0, 1)[None, None]  # (1, 1, C, H, W) in [0, 1]
        summary["previous_frames"] = 1
    else:
        c = 0
    new = max(1, (frames - 1) // r + (0 if c else 1))  # new latent frames: r new frames each (1 for a first latent)
    chunks = [c] if c else [1]
    rest = new - (0 if c else 1)
    while rest > 0:
        chunks.append(min(3, rest))
        rest -= chunks[-1]
    total = sum(chunks)
    kwargs.update(num_frames=1 + r * (total - 1), chunk_partition=chunks, output_type="latent")
    kwargs.setdefault("guidance_scale", 1.0)
    return LatentCall(kwargs, c, summary, None, 1 + r * (c - 1) if c else 0)


def anyflow_decode(pipe: Any, latents: Any, drop: int, history: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """(new frames as uint8 RGB, all latents as float32 (T, C, H, W)) of an AnyFlow-FAR call's output."""
    import torch

    vae = pipe.vae
    z = latents.to(vae.dtype)  # (B, C, T, H, W), normalised
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(z)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(z)
    with torch.no_grad():
        video = vae.decode(z * std + mean, return_dict=False)[0]
    video = pipe.video_processor.postprocess_video(video, output_type="np")[0]
    frames = [np.clip(np.rint(np.asarray(f) * 255), 0, 255).astype(np.uint8) for f in video[drop:]]
    return frames, latents[0].permute(1, 0, 2, 3).float().cpu().numpy()


class _Output:
    """What a modular LTX-2 run gives back, shaped like a pipeline output (frames, audio)."""

    def __init__(self, frames: Any, audio: Any, latents: Any):
        self.frames, self.audio, self.latents = frames, audio, latents


def _ltx2_modular(pipe: Any) -> Any:
    """The LTX-2 modular pipeline over the loaded pipeline's own components (built once per pipeline)."""
    runner = getattr(pipe, "_sora_modular", None)
    if runner is None:
        from diffusers.modular_pipelines import LTX2AutoBlocks

        modular = LTX2AutoBlocks().init_pipeline()
        modular.update_components(**{k: v for k, v in pipe.components.items() if v is not None})
        modular.set_progress_bar_config(disable=True)

        def runner(**kwargs: Any) -> _Output:
            for unsupported in ("callback_on_step_end", "guidance_scale"):
                kwargs.pop(unsupported, None)
            out = modular(**kwargs, output=["videos", "audio", "latents"])
            return _Output(out["videos"], out["audio"], out["latents"])

        pipe._sora_modular = runner
    return runner


def ltx2_call(
    pipe: Any, kwargs: dict[str, Any], frames: int, history: np.ndarray | None, context: list[Any]
) -> LatentCall:
    """An LTX-2 call making ``frames`` frames, after ``history`` latents (B, C, F, H, W) when there are some."""
    import torch

    r = pipe.vae_temporal_compression_ratio
    summary: dict[str, Any] = {}
    c = 0
    if history is not None:
        c = history.shape[1]
        kwargs.pop("conditions", None)  # the pixel prefix the adapter built is replaced by the latents themselves
        kwargs.update(
            condition_latents=[torch.from_numpy(history).unsqueeze(0)],
            condition_strengths=[1.0],
            condition_indices=[0],
            condition_pixel_frames=[1 + r * (c - 1)],
        )  # num_frames stays the chunk's: the history's frames count in it, as a pixel prefix's would
        summary = {"previous_latents": c}
    kwargs["output_type"] = "np"
    repeated = 1 + r * (c - 1) if c else 0
    return LatentCall(kwargs, c, summary, _ltx2_modular(pipe), repeated)


def ltx2_decode(pipe: Any, out: Any, drop: int, history: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """(new frames as uint8 RGB, all latents as float32 (C, F, H, W)) of a modular LTX-2 run."""
    video = np.asarray(out.frames)[0]
    r = pipe.vae_temporal_compression_ratio
    frames_made = video.shape[0]
    latent_frames = (frames_made - 1) // r + 1
    h = video.shape[1] // pipe.vae_spatial_compression_ratio
    w = video.shape[2] // pipe.vae_spatial_compression_ratio
    p, pt = pipe.transformer_spatial_patch_size, pipe.transformer_temporal_patch_size
    latents = type(pipe)._unpack_latents(out.latents, latent_frames // pt, h // p, w // p, p, pt)
    frames = [np.clip(np.rint(f * 255), 0, 255).astype(np.uint8) for f in video[drop:]]
    return frames, latents[0].float().cpu().numpy()


def ltx2_tail(latents: np.ndarray) -> np.ndarray:
    return latents[:, -HISTORY_LATENTS:].copy()


def anyflow_tail(latents: np.ndarray) -> np.ndarray:
    return latents[-HISTORY_LATENTS:].copy()


def helios_call(
    pipe: Any, kwargs: dict[str, Any], frames: int, history: np.ndarray | None, context: list[Any]
) -> LatentCall:
    """A Helios call making ``frames`` new frames in one window, after ``history`` latents (C, T, H, W)."""
    import torch

    r = pipe.vae_scale_factor_temporal
    new = max(1, (frames - 1) // r + 1)  # the window's latent frames
    summary: dict[str, Any] = {}
    c = 0
    if history is not None:
        c = history.shape[1]
        kwargs.update(video_latents=torch.from_numpy(history).unsqueeze(0), add_noise_to_video_latents=False)
        summary["previous_latents"] = c
    elif context:  # the pixel fallback: the previous last frame as Helios's image prompt
        kwargs["image"] = context[-1]
        summary["previous_frames"] = 1
    kwargs.update(num_frames=1 + r * (new - 1), num_latent_frames_per_chunk=new, output_type="latent")
    return LatentCall(kwargs, c, summary, None, 0)


def helios_decode(pipe: Any, latents: Any, drop: int, history: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """(new frames as uint8 RGB, all latents as float32 (C, T, H, W)) of a Helios call's latent output.

    The new latents are decoded on their own, with the statistics Helios's own decode uses.
    """
    import torch

    vae = pipe.vae
    mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(vae.device, vae.dtype)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(vae.device, vae.dtype)
    with torch.no_grad():
        video = vae.decode(latents[:, :, history:].to(vae.dtype) * std + mean, return_dict=False)[0]
    video = pipe.video_processor.postprocess_video(video, output_type="np")[0]
    frames = [np.clip(np.rint(np.asarray(f) * 255), 0, 255).astype(np.uint8) for f in video[drop:]]
    return frames, latents[0].float().cpu().numpy()


def helios_tail(latents: np.ndarray) -> np.ndarray:
    return latents[:, -HELIOS_HISTORY:].copy()


#: pipeline class -> (build the call, decode its output, the history to carry)
LATENT_FAMILIES = {
    "AnyFlowFARPipeline": (anyflow_call, anyflow_decode, anyflow_tail),
    "LTX2ConditionPipeline": (ltx2_call, ltx2_decode, ltx2_tail),
    "HeliosPipeline": (helios_call, helios_decode, helios_tail),
}
