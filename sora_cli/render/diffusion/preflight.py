"""Know a model before loading it: what it can make and what it will cost.

A real checkpoint rejects sizes and frame counts it was not built for, and can
need more memory than the device has. This module reads a diffusers model
folder's ``model_index.json`` (a modular pipeline's ``modular_model_index.json``)
and its components' ``config.json`` files, never the weights, and says:

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

from sora_cli.render.diffusion.latents import SINCE

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

#: every dtype the safetensors format defines (its spec's Dtype enum); another name is not a safetensors file
SAFETENSORS_KNOWN = frozenset((
    "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "I16", "U16", "F16", "BF16",
    "I32", "U32", "F32", "F64", "I64", "U64", "C64",
))  # fmt: skip

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

MAX_HEADER_BYTES = 100 << 20  # a safetensors header larger than this is not a real checkpoint's


class ModelConfigError(ValueError):
    """A model folder whose configs or weight headers cannot be read: a problem of ``backend.model``."""


def read_config(path: Path) -> dict[str, Any]:
    """One JSON config as a mapping, or :class:`ModelConfigError` saying which file and why.

    The one reader for the doctor, the preflight and the render, so a broken
    file is the same located problem wherever it is met.
    """
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise ModelConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelConfigError(f"{path} is not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ModelConfigError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def _int(config: dict[str, Any], key: str, default: int, where: str) -> int:
    """``config[key]`` as a positive whole number (``default`` when absent or null).

    JSON as Python reads it admits ``Infinity`` and ``NaN``: neither is a size, so both are refused
    here (before ``int()`` would raise on them) with the rest of what is not a positive whole number.
    """
    value = config.get(key)
    if value is None:
        return default
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value != int(value)
        or value < 1
    ):
        raise ModelConfigError(f"{where}: {key} must be a positive whole number, got {value!r}")
    return int(value)


#: a pipeline's index: a classic pipeline's, else a modular pipeline's (Echo), whose entries are
#: ``[library, class, {loading spec}]`` rather than ``[library, class]``
INDEX_FILES = ("model_index.json", "modular_model_index.json")


def index_file(folder: Path) -> Path | None:
    """The folder's pipeline index (``model_index.json`` or ``modular_model_index.json``), or None."""
    return next((folder / name for name in INDEX_FILES if (folder / name).is_file()), None)


def _read_json(path: Path) -> dict[str, Any]:
    return read_config(path)


def _safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of one safetensors file, its length checked against the file before it is read."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ModelConfigError(f"{path} is not a safetensors file ({size} bytes, shorter than its header)")
        (length,) = struct.unpack("<Q", head)
        if length < 2 or length > min(size - 8, MAX_HEADER_BYTES):
            raise ModelConfigError(
                f"{path} is not a safetensors file (its header claims {length:,} bytes in a {size:,}-byte file)"
            )
        raw = fh.read(length)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ModelConfigError(f"{path} is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelConfigError(f"{path} is not a safetensors file (its header is not a JSON object)")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("shape"), list)
            or not all(isinstance(n, int) and n >= 0 for n in entry["shape"])
            or not isinstance(entry.get("dtype"), str)
        ):
            raise ModelConfigError(f"{path} is not a safetensors file (tensor {name!r} has no valid shape/dtype)")
        if entry["dtype"] not in SAFETENSORS_KNOWN:
            raise ModelConfigError(
                f"{path} is not a safetensors file (tensor {name!r} has dtype {entry['dtype']!r}; safetensors"
                f" defines {', '.join(sorted(SAFETENSORS_KNOWN))})"
            )
    return header


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
        header = _safetensors_header(f)
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
    """The pipeline's own ``__call__`` defaults; :class:`ModelConfigError` when diffusers has no such class."""
    import diffusers

    cls = getattr(diffusers, pipeline, None)
    if cls is None:
        since = SINCE.get(pipeline)
        needs = f"needs diffusers >= {since}" if since else "is not a diffusers pipeline class"
        raise ModelConfigError(f"pipeline {pipeline} {needs} (installed: diffusers {diffusers.__version__})")
    wanted = ("height", "width", "num_frames", "frame_rate")
    blocks = getattr(cls, "default_blocks_name", None)
    if blocks and hasattr(diffusers, blocks):  # a modular pipeline: its blocks' declared input defaults
        defaults = {p.name: p.default for p in getattr(diffusers, blocks)().inputs if p.name}
        if "model_frame_rate" in defaults:  # Echo: the rate it was trained at (frame_rate is only a default)
            defaults["frame_rate"] = defaults["model_frame_rate"]
        return {k: defaults[k] for k in wanted if defaults.get(k) is not None}
    params = inspect.signature(cls.__call__).parameters
    return {k: params[k].default for k in wanted if k in params}


def family_of(pipeline: str) -> str:
    for prefix, family in (
        ("LTX2", "ltx2"),
        ("LTX", "ltx"),
        ("Wan", "wan"),
        ("CogVideoX", "cogvideox"),
        ("Helios", "helios"),
        ("AnyFlow", "anyflow"),
        ("Echo", "echo"),
    ):
        if pipeline.startswith(prefix):
            return family
    return "other"


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt")
TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "tokenizer.model", "spiece.model", "vocab.json")


def _configs_of(where: Path, class_name: str) -> tuple[list[Path], str]:
    """(the configs a component of this class is built from, found in ``where``; what was looked for).

    Schedulers and tokenizers by their own files, as diffusers' and transformers' loaders read them; any
    other component (a model, an image processor) by its ``*config.json``."""
    if "Scheduler" in class_name:
        names: tuple[str, ...] = ("scheduler_config.json",)
    elif "Tokenizer" in class_name:
        names = TOKENIZER_FILES
    else:
        return sorted(where.glob("*config.json")), "config.json"
    return [where / n for n in names if (where / n).is_file()], " or ".join(names)


def component_problems(folder: Path, components: dict[str, list[str]]) -> list[str]:
    """Why each component ``model_index.json`` names could not be loaded: its folder missing, no config it
    is built from, a config that is not a JSON object, a model (a ``config.json``) without weights.

    A folder holding no weights at all is a configs-only description (public configs, read by the doctor to
    size a model before it is downloaded) and passes; one holding some weights but not every model
    component's is a broken or partial download, which would fail only when the render loads it.
    """
    problems: list[str] = []
    has_weights = any(p.suffix in WEIGHT_SUFFIXES for p in folder.glob("*/*"))
    for name, (_library, class_name) in components.items():
        where = folder / name
        said = f"component {name!r}"
        if not where.is_dir():
            problems.append(f"{said}: {where} is missing ({class_name} is loaded from it)")
            continue
        present, wanted = _configs_of(where, class_name)
        if not present:
            problems.append(f"{said}: {where} has no {wanted} ({class_name} cannot be built)")
            continue
        for path in present:
            if path.name.endswith("config.json"):  # small; tokenizer.json holds megabytes of vocabulary
                try:
                    read_config(path)
                except ModelConfigError as exc:
                    problems.append(f"{said}: {exc}")
        is_model = (where / "config.json").is_file()
        if is_model and has_weights and not any(p.suffix in WEIGHT_SUFFIXES for p in where.iterdir()):
            problems.append(f"{said}: {where} has no weights (*.safetensors or *.bin); the download is incomplete")
    return problems


def inspect_model(folder: str | Path, pipeline: str | None = None) -> ModelInfo:
    """Everything :class:`ModelInfo` says about a local diffusers folder, read from configs and headers.

    Raises :class:`ModelConfigError` for a folder that could not be loaded: a
    config that is not a JSON object, no or an unknown pipeline class, no
    components, a listed transformer or VAE without its config, a size that
    is not a positive whole number, a weights file that is not safetensors.
    """
    folder = Path(folder)
    index_path = index_file(folder) or folder / "model_index.json"
    index = read_config(index_path)
    components = {
        name: spec[:2]  # a modular index adds a loading spec after [library, class]
        for name, spec in index.items()
        if not name.startswith("_")
        and isinstance(spec, list)
        and (len(spec) == 2 or (len(spec) == 3 and index_path.name != "model_index.json"))
        and spec[0] is not None
    }
    if not components:
        raise ModelConfigError(f"{index_path} lists no components (transformer, vae, ...)")
    named = index.get("_class_name")
    pipeline = pipeline or named
    if not pipeline:
        raise ModelConfigError(f"{index_path} names no pipeline (_class_name); set it or options.pipeline")
    if not isinstance(pipeline, str) or not pipeline.isidentifier():
        raise ModelConfigError(f"{index_path}: _class_name {pipeline!r} is not a class name")
    for name, spec in components.items():
        if not all(isinstance(part, str) for part in spec):
            raise ModelConfigError(f"{index_path}: {name} must be [library, class], got {index[name]!r}")
    if index_path.name == "model_index.json":  # a modular index's loading specs may point elsewhere
        broken = component_problems(folder, components)
        if broken:
            raise ModelConfigError("; ".join(broken))
    family = family_of(pipeline)
    defaults = _pipeline_defaults(pipeline)

    def config(name: str) -> dict[str, Any]:
        path = folder / name / "config.json"
        return read_config(path) if path.is_file() else {}

    transformer, vae = config("transformer"), config("vae")
    where_t, where_v = str(folder / "transformer" / "config.json"), str(folder / "vae" / "config.json")
    vae_class = components.get("vae", [None, ""])[1] or ""

    def first(config: dict[str, Any], keys: tuple[str, ...], default: int, where: str) -> int:
        for key in keys:
            value = config.get(key)
            if value:
                if not isinstance(value, list | tuple):
                    raise ModelConfigError(f"{where}: {key} must be a list of widths, got {value!r}")
                return _int({key: value[0]}, key, default, where)
        return default

    # compression, as each VAE class computes it
    if "scale_factor_spatial" in vae or vae_class == "AutoencoderKLWan":
        spatial = _int(vae, "scale_factor_spatial", 8, where_v)
        temporal = _int(vae, "scale_factor_temporal", 4, where_v)
        decoder_width = _int(vae, "decoder_base_dim", 0, where_v) or _int(vae, "base_dim", 96, where_v)
        vae_patch = _int(vae, "patch_size", 1, where_v)
        all_frames = False  # Wan decodes one latent frame at a time through its causal cache
    elif vae_class.startswith("AutoencoderKLLTX"):
        scaling = vae.get("spatio_temporal_scaling", (True, True, True, False))
        if not isinstance(scaling, list | tuple):
            raise ModelConfigError(f"{where_v}: spatio_temporal_scaling must be a list, got {scaling!r}")
        patch, patch_t = _int(vae, "patch_size", 4, where_v), _int(vae, "patch_size_t", 1, where_v)
        spatial = _int(vae, "spatial_compression_ratio", patch * 2 ** sum(map(bool, scaling)), where_v)
        temporal = _int(vae, "temporal_compression_ratio", patch_t * 2 ** sum(map(bool, scaling)), where_v)
        decoder_width = first(vae, ("decoder_block_out_channels", "block_out_channels"), 128, where_v)
        vae_patch = patch
        all_frames = True
    elif vae_class == "AutoencoderKLCogVideoX":
        blocks = vae.get("block_out_channels", (128, 256, 256, 512))
        if not isinstance(blocks, list | tuple) or not blocks:
            raise ModelConfigError(f"{where_v}: block_out_channels must be a list of widths, got {blocks!r}")
        spatial = 2 ** (len(blocks) - 1)
        temporal = _int(vae, "temporal_compression_ratio", 4, where_v)
        decoder_width = first(vae, ("block_out_channels",), 128, where_v)
        vae_patch = 1
        all_frames = False  # decoded two latent frames at a time
    else:
        spatial, temporal, decoder_width, vae_patch, all_frames = 8, 4, 128, 1, True
    z_dim = _int(vae, "z_dim", 16, where_v)
    patch = transformer.get("patch_size", 1)
    if isinstance(patch, list | tuple):
        if not patch:
            raise ModelConfigError(f"{where_t}: patch_size must not be empty")
        patch_s = _int({"patch_size": patch[-1]}, "patch_size", 1, where_t)
        patch_t = _int({"patch_size": patch[0]}, "patch_size", 1, where_t)
    else:
        patch_s = _int(transformer, "patch_size", 1, where_t)
        patch_t = _int(transformer, "patch_size_t", 1, where_t)
    heads = _int(transformer, "num_attention_heads", 0, where_t)
    head_dim = _int(transformer, "attention_head_dim", 0, where_t)
    hidden = heads * head_dim or (_int(transformer, "hidden_size", 0, where_t))
    num_layers = _int(transformer, "num_layers", 0, where_t)
    in_channels = _int(transformer, "in_channels", 0, where_t)
    for key in ("sample_height", "sample_width", "sample_frames", "patch_size_t"):
        if key in transformer:
            _int(transformer, key, 1, where_t)
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
        num_layers=num_layers,
        latent_channels=in_channels,
        patch_size=patch_s,
        patch_size_t=patch_t,
        vae_spatial=spatial,
        vae_patch=vae_patch,
        decoder_width=decoder_width,
        vae_decodes_all_frames=all_frames,
    )
    if family == "wan" and z_dim == 48:
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
    if info.family == "echo":  # a guidance-free (DMD) checkpoint: one transformer pass per step
        info.classifier_free_guidance = False
    if info.family in ("ltx", "ltx2"):  # their check_inputs ask multiples of 32 whatever the VAE compresses
        info.size_multiple = max(info.size_multiple, 32)
    # parameters, component by component
    dtypes: dict[str, int] = {}
    for name, spec in components.items():
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
        if not on_gpu and requested not in ("auto", "none"):  # said, so a doctor run does not read as obeyed
            why = f"offload {requested} asked, ignored off a GPU (no offload on the CPU)"
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


def memory_refusal(
    info: ModelInfo,
    width: int,
    height: int,
    frames: int,
    least_frames: int,
    dtype: str,
    free: int | None,
    requested: str,
    tiling: bool | None,
    on_gpu: bool,
    device: str,
) -> tuple[tuple[str, ...], str] | None:
    """Why the film cannot run in ``free`` bytes even with the best plan, naming the setting and what would fit.

    None when it fits, or when the free memory is unknown. A requested
    offload that does not fit where ``auto`` would is that option's problem;
    else the largest chunk (counts of the family's rule, down to
    ``least_frames``) that fits is proposed, then the largest size (steps of
    3/4, on the model's multiple) at the least chunk; else the model itself.
    """
    plan = choose_plan(info, width, height, frames, dtype, free, requested if on_gpu else "none", tiling, on_gpu)
    if plan.fits is not False or free is None:
        return None
    room = f"{free / GIB:.2f} GiB free on {device}"
    told = (
        f"~{plan.peak_bytes / GIB:.2f} GiB estimated at {width}x{height}x{frames} (offload {plan.offload},"
        f" VAE tiling {'on' if plan.vae_tiling else 'off'}) does not fit the {room}"
    )

    def best(w: int, h: int, f: int) -> Plan:
        return choose_plan(info, w, h, f, dtype, free, "auto" if on_gpu else "none", tiling, on_gpu)

    if on_gpu and requested != "auto":
        auto = best(width, height, frames)
        if auto.fits:
            return (
                ("backend", "options", "offload"),
                f"{told}; offload: auto fits (offload {auto.offload}, ~{auto.peak_bytes / GIB:.2f} GiB)",
            )
    f = info.valid_frames(frames - info.frame_multiple) if frames > least_frames else frames
    while f >= least_frames and f < frames:
        fitted = best(width, height, f)
        if fitted.fits:
            return (
                ("backend", "options", "frames_per_chunk"),
                f"{told}; frames_per_chunk: {f} fits (~{fitted.peak_bytes / GIB:.2f} GiB, offload {fitted.offload})",
            )
        f -= info.frame_multiple
    m = info.size_multiple
    w, h = width, height
    while not info.fixed_size and (w > m or h > m):
        w, h = max(m, int(w * 0.75) // m * m), max(m, int(h * 0.75) // m * m)
        fitted = best(w, h, least_frames)
        if fitted.fits:
            return (
                ("backend", "options", "width"),
                f"{told}; width: {w}, height: {h} with frames_per_chunk: {least_frames} fits"
                f" (~{fitted.peak_bytes / GIB:.2f} GiB, offload {fitted.offload})",
            )
    least = best(m if not info.fixed_size else width, m if not info.fixed_size else height, least_frames)
    return (
        ("backend", "model"),
        f"{told}; even {least_frames} frames at the least size need ~{least.peak_bytes / GIB:.2f} GiB"
        f" (offload {least.offload}): this model does not fit here",
    )


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
    """The size the model generates at: the options' when set, else the film's (or deliverable's) shape at the
    model's native pixel area (never more than the film's own), rounded down to the model's multiple.

    So a 9:16 master is composed for 9:16 rather than cropped from a 16:9
    generation. A fixed-size model (learned positional embeddings) always
    makes its native size; a single set side keeps the film's other side.
    """
    if info.fixed_size:
        return int(options.get("width", info.native_width)), int(options.get("height", info.native_height))
    m = info.size_multiple
    width, height = options.get("width"), options.get("height")
    if width is not None or height is not None:
        return (
            int(width if width is not None else max(m, film_width // m * m)),
            int(height if height is not None else max(m, film_height // m * m)),
        )
    area = min(info.native_width * info.native_height, film_width * film_height)
    aspect = film_width / film_height
    w = min(film_width, math.sqrt(area * aspect))
    return max(m, int(w) // m * m), max(m, int(w / aspect) // m * m)


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
        ("sound", _sound(info)),
    ]  # fmt: skip
    if plan is not None:
        free = "unknown" if plan.free_bytes is None else f"{plan.free_bytes / GIB:.1f} GiB free"
        rows.append(("memory", f"~{plan.peak_bytes / GIB:.1f} GiB peak at {width}x{height}x{frames} ({free})"))
        rows.append(("plan", f"offload {plan.offload}, VAE tiling {'on' if plan.vae_tiling else 'off'}: {plan.reason}"))
    return rows


def _sound(info: ModelInfo) -> str:
    if info.family == "echo":
        return "memory: likeness images and a cameo's voice sample as memory slots (its own sound is not used)"
    if info.pipeline == "LTX2DFRPipeline":
        return "driven: dialogue shots give it the line's speech (freeze_audio), the mouth follows the words"
    return "made with the picture (a stem of the mix: backend.options.audio)" if info.family == "ltx2" else "none"


def _count(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.1f}K"
