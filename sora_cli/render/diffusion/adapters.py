"""How each pipeline family is called: one small adapter per pipeline class.

An adapter turns what the backend knows (prompt, negative, size, frames, the
frames to continue from, the characters' likeness images) into that family's
call, and says which conditioning the call received (for the report):

* LTX-Video condition: continue from the previous frames with
  ``LTXVideoCondition(video=..., frame_index=0)`` (8k+1 frames); on a cut, a
  character's likeness as the first frame.
* Wan image-to-video and CogVideoX image-to-video: the previous last frame, or
  a character's likeness, as ``image``.
* Wan VACE: the previous frames as the start of ``video`` (kept by ``mask``),
  and every cast member's likeness as ``reference_images``.
* LTX-2 condition: continue from a video prefix of the previous 9 frames with
  ``LTX2VideoCondition(frames=..., index=0)``; LTX-2 image-to-video: the
  previous last frame as ``image``; LTX-2 text-to-video: text only. All three
  generate sound with the picture.
* LTX-2 DFR (audio-driven): continue from the previous last frame as an
  ``LTX2VideoCondition`` at index 0; a dialogue shot's speech goes in as
  ``audio_latents`` with ``freeze_audio=True`` (:mod:`.speech`), so the mouth
  follows the words the film plays.
* Echo (modular): every cast member's likeness images as ``memory_images``
  and a cameo's voice sample as audio memory (:mod:`.echo`); continue from the
  previous last frame as its clean first frame (``image``).
* Text-to-video (LTX, Wan, CogVideoX): text only.
* AnyFlow-FAR and LTX-2 condition: continue from the previous shot's latents
  (``video_latents``; ``condition_latents`` through the LTX-2 modular blocks),
  built in :mod:`.latents`; the previous frames are the fallback.

The causal-VAE first-frame trap, per family. Causal video VAEs encode a clip's
first frame alone and every later latent from a group of frames, so the tail
latents of a clip are not a fresh encode of its last frames:

* LTX condition, LTX-2 image-to-video (and LTX-2 condition without carried
  latents), Wan I2V/VACE, CogVideoX I2V, Echo (pixel families): the previous
  frames are handed over as pixels and the pipeline encodes them afresh as the
  new clip's first frame(s), which is what they were trained on; the frames
  decoded from that conditioning repeat the previous ones and are dropped.
* AnyFlow-FAR and LTX-2 condition (latent families): the tail latents are used
  as they are, never decoded and re-encoded (AnyFlow attends to them as
  history; LTX-2 holds them clean at latent index 0); on decode the frames that
  come out of them (the first read as a single frame) are dropped, with their
  sound (details in :mod:`.latents`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from sora_cli.render.diffusion.echo import memory


@dataclass
class Request:
    prompt: str
    negative: str
    width: int
    height: int
    frames: int
    context: list[Image.Image]  # frames to continue from (oldest first), may be empty
    references: dict[str, list[Image.Image]]  # cast member -> likeness images
    extra: dict[str, Any] = field(default_factory=dict)
    #: the plan's lip-sync track, shot-local: (seconds from the shot's start, speaker, mouth shape), for any family
    #: that can steer a mouth with it (none in diffusers 0.42.1 does; LTX-2 DFR follows the speech itself)
    visemes: tuple[tuple[float, str, str], ...] = ()
    #: cast member -> a cameo's voice sample as the model encodes it (Echo's audio memory; see echo.py)
    voices: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Adapter:
    family: str
    frame_multiple: int  # num_frames must be k * frame_multiple + 1
    context_frames: int  # how many previous frames it conditions on (0: none)
    native_fps: int

    def frames_for(self, wanted: int) -> int:
        """The smallest valid frame count of at least ``wanted``."""
        k = max(0, -(-(wanted - 1) // self.frame_multiple))
        return k * self.frame_multiple + 1

    def call(self, pipeline_cls: str, req: Request) -> tuple[dict[str, Any], dict[str, Any], int]:
        """(keyword arguments, conditioning summary, leading frames that repeat the context)."""
        kwargs: dict[str, Any] = {
            "prompt": req.prompt,
            "negative_prompt": req.negative,
            "width": req.width,
            "height": req.height,
            "num_frames": req.frames,
            **req.extra,
        }
        summary: dict[str, Any] = {"pipeline": pipeline_cls, "text": True}
        first_likeness = next((imgs[0] for imgs in req.references.values() if imgs), None)
        repeated = 0
        if pipeline_cls == "LTXConditionPipeline":
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            if req.context:
                video = req.context[-self.context_frames :]
                kwargs["conditions"] = [LTXVideoCondition(video=video, frame_index=0)]
                summary["previous_frames"] = len(video)
                repeated = len(video)
            elif first_likeness is not None:
                kwargs["conditions"] = [LTXVideoCondition(image=_fit(first_likeness, req), frame_index=0)]
                summary["likeness_first_frame"] = _who(req, first_likeness)
        elif pipeline_cls in ("LTX2ConditionPipeline", "LTX2DFRPipeline"):
            from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

            if req.context:  # a video prefix: the previous shot's last frames, kept at the start
                video = req.context[-self.context_frames :]
                kwargs["conditions"] = [LTX2VideoCondition(frames=video, index=0, strength=1.0)]
                summary["previous_frames"] = len(video)
                repeated = len(video)
            elif first_likeness is not None:
                kwargs["conditions"] = [LTX2VideoCondition(frames=_fit(first_likeness, req), index=0, strength=1.0)]
                summary["likeness_first_frame"] = _who(req, first_likeness)
        elif pipeline_cls in ("WanImageToVideoPipeline", "CogVideoXImageToVideoPipeline", "LTX2ImageToVideoPipeline"):
            if req.context:
                kwargs["image"] = req.context[-1]
                summary["previous_frames"] = 1
                repeated = 1
            elif first_likeness is not None:
                kwargs["image"] = _fit(first_likeness, req)
                summary["likeness_first_frame"] = _who(req, first_likeness)
            else:  # these pipelines always need an image: a neutral grey start
                kwargs["image"] = Image.new("RGB", (req.width, req.height), (128, 128, 128))
                summary["neutral_first_frame"] = True
        elif pipeline_cls == "EchoModularPipeline":
            if req.context:  # the previous last frame as Echo's clean first frame
                kwargs["image"] = req.context[-1]
                summary["previous_frames"] = 1
                repeated = 1
            images, voices, given = memory(tuple(req.references), req.references, req.voices)
            if images:
                kwargs["memory_images"] = [_fit(img, req) for img in images]
                kwargs["voice_memory_latents"] = voices
                summary["memory"] = given
        elif pipeline_cls == "WanVACEPipeline":
            context = req.context[-self.context_frames :] if req.context else []
            blank = Image.new("RGB", (req.width, req.height), (128, 128, 128))
            kwargs["video"] = context + [blank] * (req.frames - len(context))
            kwargs["mask"] = [Image.new("L", (req.width, req.height), 0)] * len(context) + [
                Image.new("L", (req.width, req.height), 255)
            ] * (req.frames - len(context))
            references = [_fit(img, req) for imgs in req.references.values() for img in imgs]
            if references:
                kwargs["reference_images"] = references
                summary["reference_images"] = {cid: len(imgs) for cid, imgs in req.references.items()}
            if context:
                summary["previous_frames"] = len(context)
                repeated = len(context)
        return kwargs, summary, repeated


def _fit(img: Image.Image, req: Request) -> Image.Image:
    return img.convert("RGB").resize((req.width, req.height), Image.Resampling.LANCZOS)


def _who(req: Request, img: Image.Image) -> str:
    return next(cid for cid, imgs in req.references.items() if imgs and imgs[0] is img)


ADAPTERS: dict[str, Adapter] = {
    "LTXPipeline": Adapter("ltx", 8, 0, 24),
    "LTXConditionPipeline": Adapter("ltx-condition", 8, 1, 24),
    "WanPipeline": Adapter("wan", 4, 0, 16),
    "WanImageToVideoPipeline": Adapter("wan-i2v", 4, 1, 16),
    "WanVACEPipeline": Adapter("wan-vace", 4, 1, 16),
    "CogVideoXPipeline": Adapter("cogvideox", 4, 0, 8),
    "CogVideoXImageToVideoPipeline": Adapter("cogvideox-i2v", 4, 1, 8),
    # LTX-2: joint audio and video (the model's sound is a stem of the mix, see backend.options.audio)
    "LTX2Pipeline": Adapter("ltx2", 8, 0, 24),
    "LTX2ImageToVideoPipeline": Adapter("ltx2-i2v", 8, 1, 24),
    "LTX2ConditionPipeline": Adapter("ltx2-condition", 8, 9, 24),
    # LTX-2 audio-driven: the picture follows the line's speech (audio latents held clean; see speech.py)
    "LTX2DFRPipeline": Adapter("ltx2-dfr", 8, 1, 24),
    # latent history (see latents.py): the call itself is built there
    "AnyFlowFARPipeline": Adapter("anyflow-far", 4, 1, 16),
    "HeliosPipeline": Adapter("helios", 4, 1, 24),
    # memory slots: the cast's likeness images and a cameo's voice (see echo.py)
    "EchoModularPipeline": Adapter("echo", 8, 1, 24),
}
