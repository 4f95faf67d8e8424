"""The ``diffusers`` backend: real video diffusion models, carrying conditioning forward.

The pipeline is loaded once per render (once per worker) from a local folder
or a hub id; its class comes from the model's ``model_index.json`` unless
``options.pipeline`` names one. A small adapter per family knows its call
(:mod:`.adapters`). Every shot is generated at the model's own frame rate in
chunks of the model's window, each chunk conditioned on the tail of the one
before (and the first on the previous shot's tail when the shot continues),
then resampled to the film's fps and size and streamed to the encoder chunk
by chunk. Each character's likeness images are loaded once per film and given
to every shot the character is in.

On a CPU, outputs are byte-for-byte repeatable: seeds go through a
``torch.Generator`` per chunk and torch's thread count is pinned.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from sora_cli.audio_files import AudioFileError
from sora_cli.errors import SoraError, UsageError
from sora_cli.plan.model import PlannedShot
from sora_cli.render.backend import Backend, Carry, FilmSettings, OnStep, ShotRender, check_option_types
from sora_cli.render.diffusion import echo
from sora_cli.render.diffusion.adapters import ADAPTERS, Adapter, Request
from sora_cli.render.diffusion.echo import sigmas, voice_latents
from sora_cli.render.diffusion.latents import LATENT_FAMILIES, SINCE
from sora_cli.render.diffusion.preflight import (
    ModelConfigError,
    ModelInfo,
    choose_plan,
    device_free_bytes,
    film_problems,
    generation_size,
    index_file,
    inspect_model,
    memory_refusal,
    read_config,
)
from sora_cli.render.diffusion.speech import audio_latents, shot_speech

OPTIONS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "pipeline": (str, "pipeline class, instead of the one in model_index.json"),
    "steps": (int, "denoising steps (default 30)"),
    "guidance": ((int, float), "guidance scale (default 5.0)"),
    "dtype": (str, "float32 | float16 | bfloat16 (default float32 on CPU, bfloat16 on GPU)"),
    "device": (str, "cpu | cuda | cuda:N (default: cuda when available)"),
    "cpu_offload": (bool, "model CPU offload (the same as offload: model)"),
    "offload": (str, "auto | none | model | sequential (default auto: the cheapest plan that fits the free memory)"),
    "vae_tiling": (bool, "VAE tiling"),
    "vae_slicing": (bool, "VAE slicing"),
    "frames_per_chunk": (int, "frames generated per call (rounded up to the family's valid counts)"),
    "fps": (int, "the model's native frame rate"),
    "width": (int, "generation width (default: the film's width rounded to 32)"),
    "height": (int, "generation height"),
    "threads": (int, "torch CPU threads (pinned for byte-identical output; default 1)"),
    "max_sequence_length": (int, "text encoder tokens (default 128)"),
    "audio": (
        str,
        "ambience | all | none: what the sound a model makes with the picture does (LTX-2; default ambience)",
    ),
}
AUDIO_CHOICES = ("ambience", "all", "none")
AUDIO_PIPELINES = ("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2ConditionPipeline")
#: pipelines whose picture follows given speech (the line's audio goes in; their own sound is not used)
SPEECH_DRIVEN = ("LTX2DFRPipeline",)
#: modular pipelines (modular_model_index.json) with likeness and voice memory slots (see echo.py)
MEMORY_PIPELINES = ("EchoModularPipeline",)
DEFAULT_CHUNK_SECONDS = 2.0
# the least value each numeric option may take (and whether it may equal it): a zero fps divides by zero mid-render
MINIMUMS: dict[str, tuple[float, bool]] = {
    "steps": (1, True),
    "guidance": (0, True),
    "frames_per_chunk": (1, True),
    "fps": (0, False),
    "width": (0, False),
    "height": (0, False),
    "threads": (1, True),
    "max_sequence_length": (1, True),
}


def _whole_number_message(key: str, value: Any) -> str | None:
    """A float where a whole number is asked (``steps: 2.5``, ``steps: .inf``) said as such, with the
    range, rather than the generic "expected a number" (which an inf or 2.5 already is)."""
    if OPTIONS.get(key, (None,))[0] is not int or not isinstance(value, float) or key not in MINIMUMS:
        return None
    least, inclusive = MINIMUMS[key]
    bound = f"at least {least:g}" if inclusive else f"more than {least:g}"
    return f"must be a whole number, {bound}, got {value!r}"


def _digest_model(folder: Path) -> str:
    """Configs hashed whole; weight files by name, size and their first and last megabyte."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        if path.suffix in (".json", ".txt", ".model"):
            h.update(path.read_bytes())
        else:
            size = path.stat().st_size
            h.update(str(size).encode())
            with open(path, "rb") as fh:
                h.update(fh.read(1 << 20))
                fh.seek(max(0, size - (1 << 20)))
                h.update(fh.read(1 << 20))
    return h.hexdigest()


class DiffusersBackend(Backend):
    name: ClassVar[str] = "diffusers"
    version: ClassVar[str] = "1"
    generative: ClassVar[bool] = True
    frame_channels: ClassVar[int | None] = 3  # (every frame is fitted to the film as RGB)
    #: an audio-driven model (LTX-2 DFR) is denoised against the shot's speech, a recorded take's sound included
    hears_takes: ClassVar[bool] = True

    def __init__(self) -> None:
        self.on_step: OnStep | None = None  # the shot being rendered reports its denoising steps here

    # --- checked before anything renders ----------------------------------------------------

    @staticmethod
    def check_options(options: dict[str, Any]) -> list[tuple[str, str]]:
        """Unknown keys, wrong types, numbers out of range and choices not offered, as (key, message)."""
        problems = [
            (key, _whole_number_message(key, options[key]) or message)
            for key, message in check_option_types("diffusers", options, {k: kind for k, (kind, _) in OPTIONS.items()})
        ]
        flagged = {key for key, _ in problems}
        for key, (least, inclusive) in MINIMUMS.items():
            value = options.get(key)
            if key in flagged or not isinstance(value, int | float) or isinstance(value, bool):
                continue
            bound = f"at least {least:g}" if inclusive else f"more than {least:g}"
            if not math.isfinite(value):  # YAML's .inf/.nan: a guidance of inf draws a black film
                problems.append((key, f"must be a finite number, {bound}, got {value!r}"))
            elif value < least or (value == least and not inclusive):
                problems.append((key, f"must be {bound}, got {value!r}"))
        audio = options.get("audio")
        if "audio" not in flagged and isinstance(audio, str) and audio not in AUDIO_CHOICES:
            problems.append(("audio", f"{audio!r} is not one of {', '.join(AUDIO_CHOICES)}"))
        return problems

    @staticmethod
    def check_model(model: str | None, base_dir: Path) -> str | None:
        """Why ``model`` cannot be loaded (None when it can, or may be, from the hub)."""
        if not model:
            return "the diffusers backend needs backend.model (or --model): a model folder or a hub id"
        local = Path(model).expanduser()
        local = local if local.is_absolute() else base_dir / local
        if local.is_dir():
            return (
                None
                if index_file(local) is not None
                else f"{local} has no model_index.json (nor a modular pipeline's modular_model_index.json):"
                " not a diffusers model folder"
            )
        if model.count("/") != 1 or model.startswith((".", "/")):
            return f"model {model!r} is neither a folder nor a hub id (owner/name)"
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            try:
                from huggingface_hub import snapshot_download

                snapshot_download(model, local_files_only=True)
            except Exception:
                return f"model {model!r} is not in the hub cache and HF_HUB_OFFLINE=1 forbids downloading it"
        return None

    @classmethod
    def check_film(
        cls,
        model: str | None,
        base_dir: Path,
        options: dict[str, Any],
        width: int,
        height: int,
        fps: int,
        longest: float | None = None,
    ) -> list[tuple[tuple[str, ...], str]]:
        """Film settings the model cannot honour (read from its configs, no weights loaded), and a film that
        cannot fit the device's memory (``longest``: the longest shot's seconds, which bound a call)."""
        folder = cls._resolve_folder(model, base_dir)
        if folder is None:
            return []
        info = cls.read_model(folder, options)
        if isinstance(info, str):
            return [(("backend", "model"), info)]
        problems = film_problems(info, options, width, height)
        if not problems:
            refusal = cls.memory_refusal(info, options, width, height, longest)
            if refusal is not None:
                problems.append(refusal)
        audio = options.get("audio")
        if audio in ("ambience", "all") and info.pipeline not in AUDIO_PIPELINES:
            problems.append(
                (("backend", "options", "audio"), f"{info.pipeline} makes no sound; audio: {audio} needs one of"
                 f" {', '.join(AUDIO_PIPELINES)} (or leave it out)")
            )  # fmt: skip
        return problems

    @staticmethod
    def memory_refusal(
        info: ModelInfo, options: dict[str, Any], width: int, height: int, longest: float | None = None
    ) -> tuple[tuple[str, ...], str] | None:
        """The film's setting that cannot fit the device's free memory even with the best offload plan.

        The same device, dtype, generation size and chunk :meth:`open` will use;
        the free memory comes from :func:`device_free_bytes` (the seam tests
        replace). None when it fits or the free memory is unknown.
        """
        import torch

        device = options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        on_gpu = device.startswith("cuda")
        dtype = options.get("dtype") or ("bfloat16" if on_gpu else "float32")
        adapter = ADAPTERS[info.pipeline]
        fps = int(options.get("fps", info.native_fps))
        wanted = int(options.get("frames_per_chunk", round(DEFAULT_CHUNK_SECONDS * fps)))
        least = adapter.frames_for(adapter.context_frames + 1)
        if longest is not None:  # a call never makes more than the longest shot needs (see _frames)
            wanted = min(wanted, math.ceil(longest * fps) + adapter.context_frames)
        chunk = adapter.frames_for(max(wanted, least))
        gen_w, gen_h = generation_size(info, options, width, height)
        requested = options.get("offload") or ("model" if options.get("cpu_offload") else "auto")
        tiling = options.get("vae_tiling") if "vae_tiling" in options else None
        return memory_refusal(
            info, gen_w, gen_h, chunk, least, dtype, device_free_bytes(device), requested, tiling, on_gpu, device
        )

    @staticmethod
    def read_model(folder: Path, options: dict[str, Any]) -> ModelInfo | str:
        """The model's :class:`ModelInfo`, or why the render could not load it (a ``backend.model`` problem)."""
        pipeline = options.get("pipeline") if isinstance(options.get("pipeline"), str) else None
        try:
            info = inspect_model(folder, pipeline)
        except ModelConfigError as exc:
            return str(exc) if str(exc).startswith("component ") else f"cannot use the model: {exc}"
        except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
            return f"cannot read the model's configs in {folder}: {type(exc).__name__}: {exc}"
        if info.pipeline not in ADAPTERS:
            return f"pipeline {info.pipeline} is not supported (supported: {', '.join(ADAPTERS)})"
        return info

    @classmethod
    def model_audio(cls, model: str | None, base_dir: Path, options: dict[str, Any]) -> str | None:
        """What the model's own sound does in the mix ("ambience" or "all"), or None when it makes none."""
        audio = options.get("audio")
        if audio == "none":
            return None
        folder = cls._resolve_folder(model, base_dir)
        pipeline = options.get("pipeline")
        if pipeline is None and folder is not None:
            try:
                pipeline = read_config(index_file(folder) or folder / "model_index.json").get("_class_name")
            except ModelConfigError:
                return None  # the preflight reports the folder
        if pipeline in AUDIO_PIPELINES:
            return audio if audio in ("ambience", "all") else "ambience"
        return None

    @staticmethod
    def _resolve_folder(model: str | None, base_dir: Path) -> Path | None:
        """The model's local folder: the path itself, or a hub id's snapshot already in the cache."""
        if not model:
            return None
        local = Path(model).expanduser()
        local = local if local.is_absolute() else base_dir / local
        if local.is_dir():
            return local if index_file(local) is not None else None
        if model.count("/") != 1:
            return None
        try:
            from huggingface_hub import snapshot_download

            cached = Path(snapshot_download(model, local_files_only=True))
        except Exception:
            return None
        return cached if index_file(cached) is not None else None

    @classmethod
    def identity_for(cls, film: FilmSettings) -> dict[str, Any]:
        identity: dict[str, Any] = {
            "name": cls.name,
            "version": cls.version,
            "options": film.options,
            "model": film.model,
        }
        folder = cls._model_folder(film)
        if folder is not None:
            identity["model_digest"] = _digest_model(folder)
        return identity

    @staticmethod
    def _model_folder(film: FilmSettings) -> Path | None:
        if not film.model:
            return None
        local = Path(film.model).expanduser()
        local = local if local.is_absolute() else film.base_dir / local
        return local if local.is_dir() else None

    # --- the backend contract --------------------------------------------------------------------

    def open(self, film: FilmSettings) -> None:
        import diffusers
        import torch
        import transformers

        diffusers.utils.logging.set_verbosity_error()
        diffusers.utils.logging.disable_progress_bar()
        transformers.logging.set_verbosity_error()
        self.film = film
        options = film.options
        torch.set_num_threads(int(options.get("threads", 1)))
        device = options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = options.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32")
        dtype = getattr(torch, dtype_name)
        folder = self._model_folder(film)
        cached = self._resolve_folder(film.model, film.base_dir) if folder is None else None
        if cached is not None and index_file(cached) == cached / "modular_model_index.json":
            folder = cached  # a modular pipeline from the hub cache loads from its snapshot folder
        source = str(folder) if folder is not None else film.model
        index = index_file(folder) if folder is not None else None
        try:
            class_name = options.get("pipeline") or (json.loads(index.read_text())["_class_name"] if index else None)
            if class_name and not hasattr(diffusers, class_name):
                since = SINCE.get(class_name)
                needs = f"diffusers >= {since}" if since else "a diffusers that has it"
                raise UsageError(f"{class_name} needs {needs} (installed: diffusers {diffusers.__version__})")
            if index is not None and index.name == "modular_model_index.json":
                self.pipe = echo.load(folder, json.loads(index.read_text()), dtype)
            else:
                cls = getattr(diffusers, class_name) if class_name else diffusers.DiffusionPipeline
                self.pipe = cls.from_pretrained(source, dtype=dtype)
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(
                f"cannot load model {film.model!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            ) from None
        self.pipeline_class = type(self.pipe).__name__
        if self.pipeline_class not in ADAPTERS:
            raise UsageError(f"pipeline {self.pipeline_class} is not supported (supported: {', '.join(ADAPTERS)})")
        self.adapter: Adapter = ADAPTERS[self.pipeline_class]
        self.info: ModelInfo | None = inspect_model(folder, self.pipeline_class) if folder is not None else None
        self.device = device
        self.fps = int(options.get("fps", self.info.native_fps if self.info else self.adapter.native_fps))
        if self.info is not None:
            self.width, self.height = generation_size(self.info, options, film.width, film.height)
        else:
            self.width = int(options.get("width", max(32, film.width // 32 * 32)))
            self.height = int(options.get("height", max(32, film.height // 32 * 32)))
        wanted = int(options.get("frames_per_chunk", round(DEFAULT_CHUNK_SECONDS * self.fps)))
        self.chunk = self.adapter.frames_for(max(wanted, self.adapter.context_frames + 1))
        self.plan = self._memory_plan(options, device, dtype_name)
        makes_sound = self.pipeline_class in AUDIO_PIPELINES and options.get("audio", "ambience") != "none"
        self.audio_mode = options.get("audio", "ambience") if makes_sound else None
        self.audio_rate = int(self.pipe.vocoder.config.output_sampling_rate) if makes_sound else 0
        offload = self.plan.offload if self.plan is not None else ("model" if options.get("cpu_offload") else "none")
        if offload == "model" and device.startswith("cuda") and hasattr(self.pipe, "enable_model_cpu_offload"):
            self.pipe.enable_model_cpu_offload()
        elif (
            offload == "sequential"
            and device.startswith("cuda")
            and hasattr(self.pipe, "enable_sequential_cpu_offload")
        ):
            self.pipe.enable_sequential_cpu_offload()
        else:
            self.pipe.to(device)
        tiling = self.plan.vae_tiling if self.plan is not None else bool(options.get("vae_tiling"))
        if tiling and hasattr(self.pipe.vae, "enable_tiling"):
            self.pipe.vae.enable_tiling()
        if options.get("vae_slicing") and hasattr(self.pipe.vae, "enable_slicing"):
            self.pipe.vae.enable_slicing()
        self.pipe.set_progress_bar_config(disable=True)
        # character conditioning, once per film: every likeness image, decoded
        self.likeness = {
            cid: [Image.open(p).convert("RGB") for p in char.reference]
            for cid, char in film.characters.items()
            if char.reference
        }
        self.voices: dict[str, Any] = {}  # a cameo's voice sample, encoded once per film for memory families
        if self.pipeline_class in MEMORY_PIPELINES:
            for cid, char in film.characters.items():
                if not char.voice_sample:
                    continue
                try:
                    self.voices[cid] = voice_latents(self.pipe, char.voice_sample)
                except AudioFileError as exc:
                    raise UsageError(
                        f"cameo {char.cameo!r}: its voice sample {char.voice_sample} cannot be read: {exc}"
                    ) from None

    def _memory_plan(self, options: dict[str, Any], device: str, dtype: str) -> Any:
        """The offload plan from the model's configs and the device's free memory (None without configs)."""
        if self.info is None:
            return None
        requested = options.get("offload") or ("model" if options.get("cpu_offload") else "auto")
        on_gpu = device.startswith("cuda")
        return choose_plan(
            self.info,
            self.width,
            self.height,
            self.chunk,
            dtype,
            device_free_bytes(device),
            requested if on_gpu else "none",
            options.get("vae_tiling") if "vae_tiling" in options else None,
            on_gpu,
        )

    def close(self) -> None:
        self.pipe = None

    def render_shot(self, shot: PlannedShot, carry: Carry | None, on_step: OnStep | None = None) -> ShotRender:
        self.on_step = on_step
        return ShotRender(self._frames(shot, carry))

    def key_frame(self, shot: PlannedShot) -> np.ndarray:
        frames = list(self._frames(shot, None))
        return frames[len(frames) // 2]

    # --- one shot -----------------------------------------------------------------------------------

    def _frames(self, shot: PlannedShot, carry: Carry | None) -> Generator[np.ndarray, None, Carry]:
        import torch

        film = self.film
        need = max(1, math.ceil(shot.frames * self.fps / film.fps))  # native frames covering the shot
        continuing = shot.continuity == "continue" and carry is not None and "tail" in carry.state
        # a call never makes more than the shot needs (with the previous frames it opens on)
        chunk = min(self.chunk, self.adapter.frames_for(max(need, 1) + self.adapter.context_frames))
        context = [Image.fromarray(f) for f in carry.state["tail"]] if continuing else []
        latent_family = LATENT_FAMILIES.get(self.pipeline_class)
        latent_key = [self.pipeline_class, self.width, self.height]
        history = (
            carry.latents
            if continuing
            and latent_family
            and carry.latents is not None
            and carry.state.get("latents_of") == latent_key
            else None
        )
        carried = "latents" if history is not None else "frames" if continuing else None
        references = {cid: self.likeness[cid] for cid in shot.cast if cid in self.likeness}
        visemes = tuple(
            (round(v.t - shot.start, 6), line.speaker, v.shape) for line in shot.dialogue for v in line.visemes
        )
        speech = None
        if self.pipeline_class in SPEECH_DRIVEN:
            speech = shot_speech(shot, film.characters, int(self.pipe.audio_vae.config.sample_rate))
        native: list[np.ndarray] = []  # native frames from index `offset` on (earlier ones already streamed)
        offset = 0
        produced = 0
        emitted = 0
        summaries: list[dict[str, Any]] = []
        sounds: list[np.ndarray] = []
        last = None
        chunk_index = 0
        while produced < need:
            generator = torch.Generator(device="cpu").manual_seed(shot.seed + 1009 * chunk_index)
            request = Request(
                prompt=shot.prompt,
                negative=shot.negative,
                width=self.width,
                height=self.height,
                frames=chunk,
                context=context,
                references=references,
                visemes=visemes,
                voices={cid: self.voices[cid] for cid in shot.cast if cid in self.voices},
                extra={
                    "num_inference_steps": int(film.options.get("steps", 30)),
                    "guidance_scale": float(film.options.get("guidance", 5.0)),
                    "max_sequence_length": int(film.options.get("max_sequence_length", 128)),
                    "generator": generator,
                    "output_type": "np",
                    "callback_on_step_end": self._step_callback,
                },
            )
            kwargs, summary, repeated = self.adapter.call(self.pipeline_class, request)
            self._steps = request.extra["num_inference_steps"]
            latent_call = None
            if latent_family is not None:
                if "guidance" not in film.options:
                    kwargs.pop("guidance_scale", None)  # the family's own default (AnyFlow fuses guidance)
                latent_call = latent_family[0](self.pipe, kwargs, chunk, history, context)
                summary.update(latent_call.summary)
                if latent_call.history and "previous_latents" in latent_call.summary:
                    summary.pop("previous_frames", None)  # the latents replaced the adapter's pixel prefix
            if self.pipeline_class in AUDIO_PIPELINES:
                kwargs.update(self._ltx2_extra())
            if self.pipeline_class in SPEECH_DRIVEN:
                start = (produced - repeated) / self.fps  # the shot time of this call's first frame
                for unsupported in ("negative_prompt", "num_inference_steps", "guidance_scale"):
                    kwargs.pop(unsupported)
                kwargs.update(self._dfr_extra(summary, speech, start, chunk))
            if self.pipeline_class in MEMORY_PIPELINES:
                kwargs.update(self._echo_extra(kwargs))
            try:
                if latent_call is not None and latent_call.history:
                    repeated = latent_call.repeated  # the history's decoded frames, not a pixel prefix
                if latent_call is not None and latent_call.runner is not None:
                    out = latent_call.runner(**kwargs)
                elif self.pipeline_class in MEMORY_PIPELINES:  # a modular pipeline returns what it is asked for
                    out = SimpleNamespace(frames=self.pipe(**kwargs, output="videos"), audio=None)
                else:
                    out = self.pipe(**kwargs)
                video = out.frames
                if self.audio_mode and getattr(out, "audio", None) is not None:
                    sound = out.audio[0].float().cpu().numpy().T  # (samples, channels)
                    skip = round(repeated / self.fps * self.audio_rate)  # the prefix's sound is the previous shot's
                    sounds.append(sound[skip:])
                if latent_call is not None:
                    frames, made = latent_family[1](
                        self.pipe, out if latent_call.runner else video, repeated, latent_call.history
                    )
                    history = latent_family[2](made)
                else:
                    frames = [np.clip(np.rint(np.asarray(f) * 255), 0, 255).astype(np.uint8) for f in video[0]][
                        repeated:
                    ]
            except (ValueError, RuntimeError, TypeError) as exc:
                message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise SoraError(f"{self.pipeline_class} failed on shot {shot.id!r}: {message}") from None
            if not frames:
                raise UsageError(f"{self.pipeline_class} returned no new frames; raise frames_per_chunk")
            summaries.append(summary)
            native.extend(frames)
            produced += len(frames)
            tail = [f.copy() for f in native[-max(1, self.adapter.context_frames) :]]
            context = [Image.fromarray(f) for f in tail]
            # stream every film frame whose native frame now exists
            while emitted < shot.frames and math.floor(emitted * self.fps / film.fps) < produced:
                last = _fit(native[math.floor(emitted * self.fps / film.fps) - offset], film.width, film.height)
                yield last
                emitted += 1
            keep_from = min(math.floor(emitted * self.fps / film.fps), produced - 1)  # memory stays flat
            del native[: keep_from - offset]
            offset = keep_from
            chunk_index += 1
        while emitted < shot.frames:  # (rounding) hold the last frame
            last = _fit(native[-1], film.width, film.height)
            yield last
            emitted += 1
        assert last is not None
        if carried == "frames" and "previous_frames" not in summaries[0]:
            carried = "text"  # a text-only first call: nothing of the previous shot went in, only the prompt
        info = {
            "pipeline": self.pipeline_class,
            "chunks": len(summaries),
            "continued_from": carry.shot_id if continuing else None,
            "carried": carried,  # what went in: "latents", "frames", "text" (text-only family) or None (a cut)
            "first_chunk": summaries[0],
            "size": [self.width, self.height],  # what the model generated at (the film's shape, see generation_size)
            "references": {cid: len(imgs) for cid, imgs in references.items()},
            "identity": _identity_received(shot.cast, references, summaries[0]),
        }
        state: dict[str, Any] = {"tail": tail, "info": info}
        if history is not None:
            state["latents_of"] = latent_key
        audio = None
        info["model_audio"] = {"mode": "none", "seconds": 0.0}  # said, not left out: the model's sound is not used
        if sounds:
            audio = np.concatenate(sounds)[: round(shot.frames / film.fps * self.audio_rate)].astype(np.float32)
            info["model_audio"] = {"mode": self.audio_mode, "seconds": round(len(audio) / self.audio_rate, 3)}
        return Carry(shot.id, last.copy(), state, history, audio, self.audio_rate if audio is not None else 0)

    def _ltx2_extra(self) -> dict[str, Any]:
        """LTX-2's call: the model's frame rate, and its spatio-temporal guidance only on blocks it has."""
        extra: dict[str, Any] = {"frame_rate": float(self.fps)}
        layers = int(self.pipe.transformer.config.num_layers)
        if layers <= 28:  # the pipelines' default guidance block is 28: a smaller transformer has none
            extra.update(spatio_temporal_guidance_blocks=None, stg_scale=0.0, audio_stg_scale=0.0)
        return extra

    def _dfr_extra(
        self, summary: dict[str, Any], speech: np.ndarray | None, start: float, chunk: int
    ) -> dict[str, Any]:
        """LTX-2 DFR's call: one plain pass (no keyframe slots), the shot's speech held clean when it has dialogue.

        DFR takes no negative prompt, guidance or step count: its schedule is
        the distilled sigmas, or ``steps`` evenly spaced ones when set.
        """
        from diffusers.pipelines.ltx2.dfr_layout import resolve_canvas
        from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

        steps = self.film.options.get("steps")
        sigmas = list(DISTILLED_SIGMA_VALUES) if steps is None else [1.0 - k / int(steps) for k in range(int(steps))]
        self._steps = len(sigmas)
        extra: dict[str, Any] = {"frame_rate": float(self.fps), "generate_slots": False, "sigmas": sigmas}
        if speech is not None:
            canvas = resolve_canvas(chunk, self.pipe.vae_temporal_compression_ratio)[0]
            latents = audio_latents(self.pipe, speech, start, canvas, self.fps)
            extra.update(audio_latents=latents, freeze_audio=True)
            summary["speech"] = {"from": round(start, 6), "audio_latents": int(latents.shape[2])}
        return extra

    def _echo_extra(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Echo's call: no negative prompt, guidance, step count or callback; its DMD sigmas (``steps`` evenly
        spaced ones when set), the model's frame rate."""

        for unsupported in ("negative_prompt", "num_inference_steps", "guidance_scale", "callback_on_step_end"):
            kwargs.pop(unsupported, None)
        steps = self.film.options.get("steps")
        schedule = sigmas(None if steps is None else int(steps))
        self._steps = len(schedule) - 1
        return {"sigmas": schedule, "frame_rate": float(self.fps)}

    def _step_callback(self, pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.on_step is not None:
            self.on_step(step + 1, self._steps)
        return kwargs


def _identity_received(
    cast: tuple[str, ...], references: dict[str, list[Image.Image]], summary: dict[str, Any]
) -> dict[str, str]:
    """What of each cast member's likeness reached the model on the shot's first call, said per member."""
    given = summary.get("reference_images", {})
    memory = summary.get("memory", {})
    said: dict[str, str] = {}
    for cid in cast:
        if cid in memory:  # Echo: memory slots, and the cameo's voice on the member's first one
            images = f"{memory[cid]['images']} likeness image(s) as memory images"
            said[cid] = images + (" and the cameo's voice sample as audio memory" if memory[cid]["voice"] else "")
        elif cid not in references:
            said[cid] = "no likeness images"
        elif cid in given:
            said[cid] = f"{given[cid]} likeness image(s) as reference_images"
        elif summary.get("likeness_first_frame") == cid:
            said[cid] = "likeness as the first frame"
        else:
            why = "it continues from the previous shot" if "previous_frames" in summary or "previous_latents" in summary else (
                "the family takes no likeness on this call"
            )  # fmt: skip
            said[cid] = f"not given: {why}"
    return said


def _fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to cover ``width`` x ``height`` and crop the middle (RGB uint8)."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return frame.copy()
    scale = max(width / w, height / h)
    img = Image.fromarray(frame).resize(
        (max(width, round(w * scale)), max(height, round(h * scale))), Image.Resampling.BICUBIC
    )
    left, top = (img.width - width) // 2, (img.height - height) // 2
    return np.array(img.crop((left, top, left + width, top + height)))  # a writable copy (the watermark draws in place)
