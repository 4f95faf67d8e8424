"""Know a model before loading it: what it can make and what it will cost.

A real checkpoint rejects sizes and frame counts it was not built for, and can
need more memory than the device has. This module reads a diffusers model
folder's ``model_index.json`` and its components' ``config.json`` files, never
the weights, and says:

* the pipeline and its family, the native size, frame count and frame rate
  (the pipeline's own ``__call__`` defaults, corrected for checkpoints known to
  differ: Wan 2.2 TI2V-5B is 1280x704 at 24 fps; CogVideoX's size is its
  transformer's ``sample_height``/``sample_width``);
* the frame rule (``num_frames = r*k + 1`` for the VAE's temporal compression
  ``r``: 8k+1 for LTX, 4k+1 for Wan and CogVideoX) and the multiple width and
  height must be (spatial compression times the transformer's patch size);
* the parameter count of each component: summed from the safetensors headers
  when the weights are there (a header is a few kilobytes), else counted by
  building the component from its config on PyTorch's ``meta`` device (no
  memory is allocated, nothing is loaded);
* an estimate of the peak memory at the film's generation size, and the
  offload plan that fits the memory found (``options.offload: auto``).

The estimate is deliberately simple and stated as such: weights at the run
dtype, plus the transformer's activations (tokens x hidden size x a constant,
doubled for classifier-free guidance) or the VAE decode (frames decoded at once
x pixels x the decoder's first width x a constant), whichever is larger, plus a
fixed allowance for the CUDA context. It decides between plans an order of
magnitude apart; it is not a measurement.
"""

from __future__ import annotations

import inspect
import json
import math
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GIB = 1 << 30
CONTEXT_BYTES = 1 * GIB  # CUDA context, allocator slack, scheduler state
ACTIVATION_FACTOR = 12  # bytes-per-element multiples of tokens x hidden kept alive in one transformer block
VAE_FACTOR = 4  # full-resolution buffers alive at once in the VAE decoder's last block
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float8_e4m3fn": 1}
SAFETENSORS_DTYPES = {
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn",
    "F64": "float64",
}

# checkpoints whose native size or rate is not the pipeline's default, told apart by their configs
# (Wan 2.2 TI2V-5B: the Wan 2.2 VAE with 48 latent channels and 16x spatial compression; 704x1280 at 24 fps
# per Wan-AI/Wan2.2-TI2V-5B and shared/generative-notes.md)
_WAN22_TI2V = {"native_width": 1280, "native_height": 704, "native_frames": 121, "native_fps": 24}
# frame rates of families whose pipelines take no frame_rate argument
_FAMILY_FPS = {"wan": 16, "cogvideox": 8, "helios": 24, "anyflow": 16}
OFFLOAD_CHOICES = ("auto", "none", "model", "sequential")


@dataclass
class Plan:
    """How the model will sit in memory: offload mode, VAE tiling, the estimated peak."""

    offload: str  # none | model | sequential
    vae_tiling: bool
    peak_bytes: int
    free_bytes: int | None
    fits: bool | None
    reason: str


@dataclass
class ModelInfo:
    folder: str
    pipeline: str
    family: str
    native_width: int
    native_height: int
    native_frames: int
    native_fps: int
    frame_multiple: int  # temporal compression: num_frames = frame_multiple * k + 1
    size_multiple: int  # width and height must be multiples of this
    fixed_size: bool = False  # learned positional embeddings: only the native size works
    max_frames: int | None = None
    params: dict[str, int] = field(default_factory=dict)
    params_from: dict[str, str] = field(default_factory=dict)  # component -> "weights" | "config"
    weights_dtype: str | None = None
    hidden_size: int = 0
    num_layers: int = 0
    latent_channels: int = 0
    patch_size: int = 1
    patch_size_t: int = 1
    vae_spatial: int = 8
    vae_patch: int = 1  # the VAE's own pixel patching: its decoder works at width/patch x height/patch
    decoder_width: int = 128
    vae_decodes_all_frames: bool = True
    classifier_free_guidance: bool = True

    @property
    def total_params(self) -> int:
        return sum(self.params.values())

    def frame_rule(self) -> str:
        return f"{self.frame_multiple}k+1"

    def valid_frames(self, wanted: int) -> int:
        """The smallest valid frame count of at least ``wanted``."""
        k = max(0, -(-(wanted - 1) // self.frame_multiple))
        return k * self.frame_multiple + 1

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total_params"] = self.total_params
        out["frame_rule"] = self.frame_rule()
        return out


# --- reading the folder ---------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def safetensors_summary(folder: Path) -> tuple[int, dict[str, int]] | None:
    """(parameter count, bytes per dtype) from the headers of one variant's safetensors files, or None."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    groups: dict[str, list[Path]] = {}
    for f in files:  # one variant only: strip shard suffixes, prefer the file without a variant infix
        stem = f.name.removesuffix(".safetensors")
        if "-of-" in stem:
            stem = stem.rsplit("-", 3)[0]
        groups.setdefault(stem, []).append(f)
    chosen = groups[min(groups, key=lambda s: (s.count("."), s))]
    count = 0
    per_dtype: dict[str, int] = {}
    for f in chosen:
        with open(f, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(length))
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            n = math.prod(entry["shape"])
            count += n
            dtype = SAFETENSORS_DTYPES.get(entry["dtype"], entry["dtype"].lower())
            per_dtype[dtype] = per_dtype.get(dtype, 0) + n * DTYPE_BYTES.get(dtype, 4)
    return count, per_dtype


def _build_on_meta(library: str, class_name: str, folder: Path) -> Any:
    """The component built from its config on the meta device (no memory, no weights)."""
    import torch

    with torch.device("meta"):
        if library == "diffusers":
            import diffusers

            cls = getattr(diffusers, class_name, None)
            if cls is None:  # a component class not exported at the top level (LTX-2's connectors, vocoder)
                return None
            return cls.from_config(cls.load_config(folder))
        if library not in ("diffusers", "transformers"):  # a class of a pipeline package (LTX-2's connectors)
            import importlib

            module = importlib.import_module(f"diffusers.pipelines.{library}")
            cls = getattr(module, class_name, None)
            return cls.from_config(cls.load_config(folder)) if cls is not None else None
        if library == "transformers":
            import transformers

            cls = getattr(transformers, class_name)
            config = transformers.AutoConfig.from_pretrained(folder)
            return cls._from_config(config)
    return None


def _component_params(library: str, class_name: str, folder: Path) -> tuple[int, str, str | None] | None:
    """(parameters, "weights" | "config", dominant weights dtype) of one component, or None."""
    summary = safetensors_summary(folder)
    if summary is not None:
        count, per_dtype = summary
        return count, "weights", max(per_dtype, key=lambda d: per_dtype[d]) if per_dtype else None
    if not (folder / "config.json").is_file():
        return None
    try:
        model = _build_on_meta(library, class_name, folder)
    except Exception:
        return None
    if model is None:
        return None
    return sum(p.numel() for p in model.parameters()), "config", None


def _pipeline_defaults(pipeline: str) -> dict[str, Any]:
    import diffusers

    cls = getattr(diffusers, pipeline, None)
    if cls is None:
        return {}
    params = inspect.signature(cls.__call__).parameters
    return {k: params[k].default for k in ("height", "width", "num_frames", "frame_rate") if k in params}


def family_of(pipeline: str) -> str:
    for prefix, family in (
        ("LTX2", "ltx2"),
        ("LTX", "ltx"),
        ("Wan", "wan"),
        ("CogVideoX", "cogvideox"),
        ("Helios", "helios"),
        ("AnyFlow", "anyflow"),
    ):
        if pipeline.startswith(prefix):
            return family
    return "other"


def inspect_model(folder: str | Path, pipeline: str | None = None) -> ModelInfo:
    """Everything :class:`ModelInfo` says about a local diffusers folder, read from configs and headers."""
    folder = Path(folder)
    index = _read_json(folder / "model_index.json")
    pipeline = pipeline or index.get("_class_name", "DiffusionPipeline")
    family = family_of(pipeline)
    defaults = _pipeline_defaults(pipeline)

    def config(name: str) -> dict[str, Any]:
        path = folder / name / "config.json"
        return _read_json(path) if path.is_file() else {}

    transformer, vae = config("transformer"), config("vae")
    vae_class = (index.get("vae") or [None, ""])[1] or ""
    # compression, as each VAE class computes it
    if "scale_factor_spatial" in vae or vae_class == "AutoencoderKLWan":
        spatial = int(vae.get("scale_factor_spatial") or 8)
        temporal = int(vae.get("scale_factor_temporal") or 4)
        decoder_width = int(vae.get("decoder_base_dim") or vae.get("base_dim") or 96)
        vae_patch = int(vae.get("patch_size") or 1)
        all_frames = False  # Wan decodes one latent frame at a time through its causal cache
    elif vae_class.startswith("AutoencoderKLLTX"):
        scaling = vae.get("spatio_temporal_scaling", (True, True, True, False))
        patch, patch_t = int(vae.get("patch_size", 4)), int(vae.get("patch_size_t", 1))
        spatial = int(vae.get("spatial_compression_ratio") or patch * 2 ** sum(scaling))
        temporal = int(vae.get("temporal_compression_ratio") or patch_t * 2 ** sum(scaling))
        decoder_width = int((vae.get("decoder_block_out_channels") or vae.get("block_out_channels") or [128])[0])
        vae_patch = patch
        all_frames = True
    elif vae_class == "AutoencoderKLCogVideoX":
        spatial = 2 ** (len(vae.get("block_out_channels", (128, 256, 256, 512))) - 1)
        temporal = int(vae.get("temporal_compression_ratio", 4))
        decoder_width = int((vae.get("block_out_channels") or [128])[0])
        vae_patch = 1
        all_frames = False  # decoded two latent frames at a time
    else:
        spatial, temporal, decoder_width, vae_patch, all_frames = 8, 4, 128, 1, True
    patch = transformer.get("patch_size", 1)
    patch_s = int(patch[-1] if isinstance(patch, list | tuple) else patch)
    patch_t = int(patch[0] if isinstance(patch, list | tuple) else transformer.get("patch_size_t") or 1)
    heads = int(transformer.get("num_attention_heads", 0))
    hidden = heads * int(transformer.get("attention_head_dim", 0)) or int(transformer.get("hidden_size", 0))
    fps_default = defaults.get("frame_rate")
    info = ModelInfo(
        folder=str(folder),
        pipeline=pipeline,
        family=family,
        native_width=int(defaults.get("width") or 720),
        native_height=int(defaults.get("height") or 480),
        native_frames=int(defaults.get("num_frames") or 121),
        native_fps=round(fps_default) if fps_default else _FAMILY_FPS.get(family, 24),
        frame_multiple=temporal * (patch_t if family == "cogvideox" else 1),
        size_multiple=spatial * patch_s,
        hidden_size=hidden,
        num_layers=int(transformer.get("num_layers", 0)),
        latent_channels=int(transformer.get("in_channels", 0)),
        patch_size=patch_s,
        patch_size_t=patch_t,
        vae_spatial=spatial,
        vae_patch=vae_patch,
        decoder_width=decoder_width,
        vae_decodes_all_frames=all_frames,
    )
    if family == "wan" and int(vae.get("z_dim", 16)) == 48:
        for key, value in _WAN22_TI2V.items():
            setattr(info, key, value)
    if family == "cogvideox" and "sample_height" in transformer:
        info.native_height = int(transformer["sample_height"]) * spatial
        info.native_width = int(transformer["sample_width"]) * spatial
        info.native_frames = int(transformer.get("sample_frames", 49))
        if transformer.get("use_learned_positional_embeddings"):
            info.fixed_size = True  # the learned position table has exactly sample_height x sample_width patches
        if not transformer.get("patch_size_t"):
            info.max_frames = info.native_frames  # CogVideoX 1.0 was trained on 49 frames; 1.5 on more
        info.frame_multiple = temporal * (int(transformer.get("patch_size_t") or 1))
    if info.family == "ltx2":
        info.size_multiple = max(info.size_multiple, 32)
    # parameters, component by component
    dtypes: dict[str, int] = {}
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or len(spec) != 2 or spec[0] is None:
            continue
        library, class_name = spec
        if not library.isidentifier() or not (folder / name).is_dir():
            continue
        found = _component_params(library, class_name, folder / name)
        if found is None:
            continue
        count, source, dtype = found
        info.params[name] = count
        info.params_from[name] = source
        if dtype:
            dtypes[dtype] = dtypes.get(dtype, 0) + count
    if dtypes:
        info.weights_dtype = max(dtypes, key=lambda d: dtypes[d])
    return info


# --- memory ---------------------------------------------------------------------------------------


@dataclass
class Estimate:
    weights: dict[str, int]  # bytes per component at the run dtype
    transformer_activations: int
    vae_decode: int
    vae_decode_tiled: int


def estimate(info: ModelInfo, width: int, height: int, frames: int, dtype: str) -> Estimate:
    """Bytes each part needs at ``width`` x ``height`` x ``frames`` in ``dtype`` (see the module docstring)."""
    size = DTYPE_BYTES.get(dtype, 4)
    weights = {name: n * size for name, n in info.params.items()}
    latent_frames = (frames - 1) // info.frame_multiple + 1
    step = info.vae_spatial * info.patch_size
    tokens = (latent_frames // max(1, info.patch_size_t)) * max(1, height // step) * max(1, width // step)
    batch = 2 if info.classifier_free_guidance else 1
    activations = batch * tokens * info.hidden_size * size * ACTIVATION_FACTOR
    decoded_frames = frames if info.vae_decodes_all_frames else info.frame_multiple
    pixels = width * height // (info.vae_patch**2)
    vae = decoded_frames * pixels * info.decoder_width * size * VAE_FACTOR
    tile = min(width, 512) * min(height, 512) // (info.vae_patch**2)
    vae_tiled = decoded_frames * tile * info.decoder_width * size * VAE_FACTOR
    return Estimate(weights, activations, vae, vae_tiled)


def peak_bytes(info: ModelInfo, est: Estimate, offload: str, tiling: bool) -> int:
    """Estimated peak on the device for one plan."""
    vae = est.vae_decode_tiled if tiling else est.vae_decode
    weights = est.weights
    transformer = weights.get("transformer", 0)
    decoder = weights.get("vae", 0)
    if offload == "none":
        return sum(weights.values()) + max(est.transformer_activations, vae) + CONTEXT_BYTES
    if offload == "model":  # one component on the device at a time
        largest_other = max((b for n, b in weights.items() if n not in ("transformer", "vae")), default=0)
        return max(transformer + est.transformer_activations, decoder + vae, largest_other) + CONTEXT_BYTES
    # sequential: one block's weights at a time
    layer = transformer // max(1, info.num_layers)
    return max(layer + est.transformer_activations, vae) + CONTEXT_BYTES


def choose_plan(
    info: ModelInfo,
    width: int,
    height: int,
    frames: int,
    dtype: str,
    free: int | None,
    requested: str = "auto",
    tiling: bool | None = None,
    on_gpu: bool = True,
) -> Plan:
    """The offload plan: ``requested`` when it is not auto, else the cheapest that fits ``free`` bytes."""
    est = estimate(info, width, height, frames, dtype)
    if not on_gpu or requested != "auto" or free is None:
        mode = "none" if not on_gpu else requested if requested != "auto" else "none"
        tiled = bool(tiling)
        peak = peak_bytes(info, est, mode, tiled)
        why = "no offload off a GPU" if not on_gpu else "as asked" if requested != "auto" else "free memory unknown"
        return Plan(mode, tiled, peak, free, None if free is None else peak <= free, why)
    budget = int(free * 0.9)
    candidates = [(m, t) for m in ("none", "model", "sequential") for t in (False, True)]
    if tiling is not None:
        candidates = [(m, t) for m, t in candidates if t == tiling]
    for mode, tiled in candidates:
        peak = peak_bytes(info, est, mode, tiled)
        if peak <= budget:
            return Plan(mode, tiled, peak, free, True, f"the cheapest plan within 90% of {free / GIB:.1f} GiB free")
    mode, tiled = candidates[-1]
    return Plan(mode, tiled, peak_bytes(info, est, mode, tiled), free, False, "nothing fits: the least memory")


def device_free_bytes(device: str) -> int | None:
    """Free memory of ``device`` (CUDA's free memory, or the host's available memory for CPU)."""
    if device.startswith("cuda"):
        try:
            import torch

            index = int(device.split(":")[1]) if ":" in device else 0
            return int(torch.cuda.mem_get_info(index)[0])
        except Exception:
            return None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --- what a film asks of the model ----------------------------------------------------------------


def film_problems(
    info: ModelInfo, options: dict[str, Any], film_width: int, film_height: int
) -> list[tuple[tuple[str, ...], str]]:
    """Settings the model cannot honour, as (field path, message with what it allows)."""
    problems: list[tuple[tuple[str, ...], str]] = []
    name = f"{info.pipeline} ({info.family})"
    m = info.size_multiple
    for axis, native in (("width", info.native_width), ("height", info.native_height)):
        value = options.get(axis)
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if info.fixed_size and value != native:
            problems.append(
                (("backend", "options", axis), f"{name} only generates {info.native_width}x{info.native_height}"
                 f" (learned positional embeddings); {axis} must be {native}")
            )  # fmt: skip
        elif value < m or value % m:
            lower, upper = max(m, value // m * m), max(m, -(-value // m) * m)
            nearest = f"{lower}" if lower == upper else f"{lower} or {upper}"
            problems.append(
                (("backend", "options", axis), f"{value} is not a multiple of {m}, which {name} needs for {axis}"
                 f" (nearest: {nearest}; native {info.native_width}x{info.native_height})")
            )  # fmt: skip
    chunk = options.get("frames_per_chunk")
    if isinstance(chunk, int) and not isinstance(chunk, bool):
        if chunk < 1:
            problems.append((("backend", "options", "frames_per_chunk"), "must be at least 1"))
        elif info.max_frames is not None and info.valid_frames(chunk) > info.max_frames:
            problems.append(
                (("backend", "options", "frames_per_chunk"), f"{chunk} frames is more than {name} makes in one call"
                 f" (at most {info.max_frames}, counts of the form {info.frame_rule()})")
            )  # fmt: skip
    offload = options.get("offload")
    if isinstance(offload, str) and offload not in OFFLOAD_CHOICES:
        problems.append((("backend", "options", "offload"), f"{offload!r} is not one of {', '.join(OFFLOAD_CHOICES)}"))
    dtype = options.get("dtype")
    if isinstance(dtype, str) and dtype not in ("float32", "float16", "bfloat16"):
        problems.append((("backend", "options", "dtype"), f"{dtype!r} is not one of float32, float16, bfloat16"))
    return problems


def generation_size(info: ModelInfo, options: dict[str, Any], film_width: int, film_height: int) -> tuple[int, int]:
    """The size the model generates at: the options', else the native one for fixed-size models, else the film's
    rounded down to the model's multiple."""
    if info.fixed_size:
        return int(options.get("width", info.native_width)), int(options.get("height", info.native_height))
    m = info.size_multiple
    return (
        int(options.get("width", max(m, film_width // m * m))),
        int(options.get("height", max(m, film_height // m * m))),
    )


def describe(
    info: ModelInfo, plan: Plan | None, width: int, height: int, frames: int, dtype: str
) -> list[tuple[str, str]]:
    """Human-readable rows for ``sora doctor --model``."""
    params = ", ".join(f"{n} {_count(c)} ({info.params_from[n]})" for n, c in info.params.items())
    rows = [
        ("pipeline", f"{info.pipeline} (family {info.family})"),
        ("native", f"{info.native_width}x{info.native_height}, {info.native_frames} frames at {info.native_fps} fps"),
        ("frames", f"{info.frame_rule()} per call" + (f", at most {info.max_frames}" if info.max_frames else "")),
        ("size", f"width and height multiples of {info.size_multiple}" + (" (fixed: native only)" if info.fixed_size else "")),
        ("parameters", f"{_count(info.total_params)} in all: {params}"),
        ("dtype", f"weights {info.weights_dtype or 'unknown (no weights)'}; runs in {dtype}"),
        ("sound", "made with the picture (a stem of the mix: backend.options.audio)" if info.family == "ltx2" else "none"),
    ]  # fmt: skip
    if plan is not None:
        free = "unknown" if plan.free_bytes is None else f"{plan.free_bytes / GIB:.1f} GiB free"
        rows.append(("memory", f"~{plan.peak_bytes / GIB:.1f} GiB peak at {width}x{height}x{frames} ({free})"))
        rows.append(("plan", f"offload {plan.offload}, VAE tiling {'on' if plan.vae_tiling else 'off'}: {plan.reason}"))
    return rows


def _count(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"
