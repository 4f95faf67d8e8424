"""What ``sora doctor`` checks: every native piece the pipeline needs, and the optional ones."""

from __future__ import annotations

import importlib.util
import subprocess

from sora_cli.errors import SoraError, UsageError
from sora_cli.ffmpeg import ffmpeg_exe, ffmpeg_version, started
from sora_cli.plan.resolve import make_plan
from sora_cli.render.backend import FilmSettings
from sora_cli.render.diffusion import DEFAULT_CHUNK_SECONDS, DiffusersBackend
from sora_cli.render.diffusion.preflight import GIB, choose_plan, describe, device_free_bytes, generation_size
from sora_cli.render.registry import backend_class, installed_backends
from sora_cli.speech.engine import EspeakEngine, installed_engines
from sora_cli.storyboard import load_storyboard, parse_storyboard
from sora_cli.testing import make_tiny_pipeline


def diffusers_smoke_test() -> tuple[bool, str]:
    """Build a tiny random pipeline, load it through the backend and generate a few frames."""
    import os
    import tempfile
    import time
    from pathlib import Path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="sora-doctor-") as tmp:
            model = make_tiny_pipeline(Path(tmp) / "model", "wan")
            text = (
                "version: 1\ntitle: doctor\noutput: {width: 64, height: 64, fps: 8}\n"
                f"backend: {{name: diffusers, model: {model}, options: {{width: 32, height: 32, steps: 2, max_sequence_length: 16}}}}\n"
                "world: {location: a test}\nshots: [{id: a, duration: 1}]\n"
            )
            plan = make_plan(parse_storyboard(text, "doctor", Path(tmp)))
            backend = DiffusersBackend()
            backend.open(FilmSettings.from_plan(plan))
            frames = list(backend.render_shot(plan.shots[0], None))
        return (
            True,
            f"tiny Wan pipeline built, loaded and rendered {len(frames)} frames in {time.perf_counter() - started:.1f} s",
        )
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


def checks() -> list[tuple[str, bool | None, str]]:
    """(part, ok / missing (False) / optional and absent (None), details)."""
    out: list[tuple[str, bool | None, str]] = []
    try:
        exe = ffmpeg_exe()
        with started([exe, "-hide_banner", "-encoders"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
            encoders = proc.communicate()[0].decode("utf-8", "replace")
        needed = [e for e in ("libx264", "aac") if e not in encoders]
        out.append(
            ("ffmpeg", not needed, f"{ffmpeg_version()} ({exe})" + (f"; missing encoders: {needed}" if needed else ""))
        )
    except SoraError as exc:
        out.append(("ffmpeg", False, str(exc)))
    try:
        import av

        out.append(("PyAV", True, f"{av.__version__} (decoding, muxing)"))
    except ImportError:
        out.append(("PyAV", False, "pip install av"))
    try:
        engine = EspeakEngine()
        out.append(
            (
                "speech",
                True,
                f"espeak-ng, {len(engine.voice_names())} voices; engines: {', '.join(installed_engines())}",
            )
        )
    except (SoraError, OSError) as exc:
        out.append(("speech", False, str(exc)))

    working, broken = [], []
    for name in sorted(installed_backends()):
        try:
            backend_class(name)
            working.append(name)
        except UsageError as exc:
            broken.append((name, str(exc)))
    out.append(("backends", bool(working), ", ".join(working) or "none works"))
    out += [(f"backend {name}", False, f"broken: {why}") for name, why in broken]
    if importlib.util.find_spec("torch") is None:
        out.append(
            ("torch", None, "not installed (only the diffusers backend needs it: pip install 'sora-cli[diffusers]')")
        )
    else:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA GPU"
        out.append(("torch", True, f"{torch.__version__}; {gpu}"))
    for name, extra in (("diffusers", "diffusers"), ("ray", "ray")):
        found = importlib.util.find_spec(name) is not None
        out.append(
            (
                name,
                True if found else None,
                "installed" if found else f"not installed (pip install 'sora-cli[{extra}]')",
            )
        )
    return out


def model_report(model: str, storyboard: str | None = None, device: str | None = None) -> dict:
    """What a diffusers model folder is and needs, read from its configs (no weights are loaded).

    With ``storyboard``, the film's generation size, its options and the problems
    the model has with them; else the model's native size. ``device`` defaults
    to CUDA when there is one.
    """
    import math
    from pathlib import Path

    options: dict = {}
    width = height = fps_film = None
    longest: float | None = None
    base = Path.cwd()
    if storyboard is not None:
        sb = load_storyboard(Path(storyboard))
        options, width, height, base = dict(sb.backend.options), sb.output.width, sb.output.height, sb.source.base_dir
        fps_film = sb.output.fps
        durations = [shot.duration for shot in sb.shots]
        longest = None if None in durations else max(durations, default=None)  # a shot timed by speech: unknown
    folder = DiffusersBackend._resolve_folder(model, base)
    if folder is None:
        raise UsageError(f"{model}: not a diffusers model folder (no model_index.json) nor a cached hub id")
    # the render preflight's own checks, so the doctor and the render agree on what is wrong
    problems = [(("backend", "options", key), message) for key, message in DiffusersBackend.check_options(options)]
    flagged = {path[-1] for path, _ in problems}
    options = {key: value for key, value in options.items() if key not in flagged}  # estimates use sound values
    info = DiffusersBackend.read_model(folder, options)
    if isinstance(info, str):
        problems.append((("backend", "model"), info))
        return {"folder": str(folder), "problems": _listed(problems), "warnings": [], "rows": []}
    if width is None or height is None:
        width, height = info.native_width, info.native_height
    if storyboard is not None and not problems:
        problems += DiffusersBackend.check_film(
            model, base, options, width, height, fps_film or info.native_fps, longest=longest
        )
    gen_w, gen_h = generation_size(info, options, width, height)
    fps = int(options.get("fps", info.native_fps))
    wanted = int(options.get("frames_per_chunk", round(DEFAULT_CHUNK_SECONDS * fps)))
    if longest is not None:  # a call never makes more than the longest shot needs
        wanted = min(wanted, max(1, math.ceil(longest * fps)))
    frames = info.valid_frames(wanted)
    if storyboard is None:
        frames = info.valid_frames(info.native_frames)
    if device is None:
        device = options.get("device")
    cuda = False
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:
        pass
    if device is None:
        device = "cuda" if cuda else "cpu"
    on_gpu = device.startswith("cuda")
    if on_gpu and not cuda:
        problems.append((("backend", "options", "device"), f"{device}: no CUDA device is available here"))
    dtype = options.get("dtype") or ("bfloat16" if on_gpu else "float32")
    requested = options.get("offload") or ("model" if options.get("cpu_offload") else "auto")
    plan = choose_plan(
        info, gen_w, gen_h, frames, dtype, device_free_bytes(device), requested if on_gpu else "none",
        options.get("vae_tiling"), on_gpu,
    )  # fmt: skip
    warnings: list[str] = []
    refused = any("does not fit" in message for _, message in problems)  # the render's own refusal says it
    if plan.fits is False and not refused:  # said plainly; refused when the film asked for this offload itself
        free = f"{plan.free_bytes / GIB:.1f} GiB free" if plan.free_bytes is not None else "the free memory"
        why = (
            f"~{plan.peak_bytes / GIB:.1f} GiB estimated at {gen_w}x{gen_h}x{frames} with offload {plan.offload}"
            f" does not fit {free} on {device}: lower frames_per_chunk or the size, or offload more"
        )
        if storyboard is not None and on_gpu and requested != "auto":
            problems.append((("backend", "options", "offload"), why))
        else:
            warnings.append(why)
    report = info.as_dict()
    report.update(
        device=device,
        dtype=dtype,
        generation={"width": gen_w, "height": gen_h, "frames": frames, "fps": fps},
        plan={**plan.__dict__},
        problems=_listed(problems),
        warnings=warnings,
        rows=describe(info, plan, gen_w, gen_h, frames, dtype) + [("does not fit", w) for w in warnings],
    )
    return report


def _listed(problems: list[tuple[tuple[str, ...], str]]) -> list[dict[str, str]]:
    return [{"path": ".".join(map(str, path)), "message": message} for path, message in problems]
