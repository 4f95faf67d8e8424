"""Render a storyboard into a film: the whole pipeline, top to bottom.

plan -> picture (chains of shots into the shot cache, in worker processes)
     -> sound (the soundtrack, mixed at the same time in its own process)
     -> assemble (stitch, mux, subtitles) -> film + report

Every file written is written atomically: an interrupted render leaves the
previous film (or nothing) and a shot cache to resume from, never half a file.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sora_cli.assemble import subtitles as subs
from sora_cli.assemble.mux import write_film
from sora_cli.assemble.report import tool_info, write_report
from sora_cli.assemble.stitch import plan_segments, video_packets
from sora_cli.atomic import atomic_path, atomic_write_text, sweep_stale
from sora_cli.errors import StoryboardError, UsageError
from sora_cli.ffmpeg import filter_value, run_ffmpeg
from sora_cli.fonts import fallback_chain
from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.provenance import sign_film, verify
from sora_cli.render.backend import Film, backend_class
from sora_cli.render.cache import ShotCache
from sora_cli.render.encode import VideoSettings
from sora_cli.render.progress import NullProgress, Progress
from sora_cli.render.shots import Farm, ShotFile, quiet_interrupts, render_shots, run_busy, stop_workers
from sora_cli.sound.mix import MixReport, cached_soundtrack
from sora_cli.storyboard import Storyboard, load_storyboard

CACHE_DIR_NAME = ".sora-cache"


@dataclass
class RenderRequest:
    storyboard: str | Path
    output: Path | None = None
    backend: str | type | None = None  # a registered name, or (from Python) a backend class
    model: str | None = None  # overrides backend.model
    draft: bool = False
    only: tuple[str, ...] = ()
    jobs: int = field(default_factory=lambda: multiprocessing.cpu_count())
    cache_dir: Path | None = None
    use_cache: bool = True
    otio: bool = False
    cameo_dirs: Path | None = None
    policy: Path | None = None
    farm: Farm | None = None  # render chains on a Ray cluster instead of local processes
    qc: bool = True  # run the delivery checks (sora qc) on the written film
    deliverable: str | None = None  # render this entry of the storyboard's deliverables: list


def default_output(storyboard: str | Path, draft: bool) -> Path:
    """``film.yaml`` -> ``film.mp4`` beside it (``film.draft.mp4`` for drafts); stdin -> ``./film.mp4``."""
    suffix = ".draft.mp4" if draft else ".mp4"
    if str(storyboard) == "-":
        return Path.cwd() / f"film{suffix}"
    p = Path(storyboard)
    return p.with_name(p.stem + suffix)


def with_model(sb: Storyboard, model: str) -> Storyboard:
    """The storyboard with ``backend.model`` replaced (``--model``)."""
    copy = sb.model_copy(update={"backend": sb.backend.model_copy(update={"model": model})})
    copy._source, copy._sha256 = sb.source, sb.sha256
    return copy


def draft_storyboard(sb: Storyboard) -> Storyboard:
    """A quarter-resolution, lower-frame-rate copy for fast previews."""
    out = sb.output
    draft_output = out.model_copy(
        update={
            "width": max(64, out.width // 4 * 2),
            "height": max(64, out.height // 4 * 2),
            "fps": max(1, min(out.fps, 12)),
        }
    )
    copy = sb.model_copy(update={"output": draft_output})
    copy._source, copy._sha256 = sb.source, sb.sha256
    return copy


def _check_backend(sb: Storyboard, name: str | type) -> None:
    """The backend exists (exit 2 listing the installed ones) and accepts ``backend.options``."""
    cls = backend_class(name)
    check_model = getattr(cls, "check_model", None)
    if check_model and (why := check_model(sb.backend.model, sb.source.base_dir)):
        raise StoryboardError([sb.source.problem(("backend", "model"), why)])
    check = getattr(cls, "check_options", None)
    if check:
        problems = [
            sb.source.problem(("backend", "options", key), message, key=True)
            for key, message in check(sb.backend.options)
        ]
        if problems:
            raise StoryboardError(problems)


def render_film(request: RenderRequest, progress: Progress | None = None) -> dict[str, Any]:
    """Render ``request.storyboard``; returns the report (also written beside the film)."""
    progress = progress or NullProgress()
    started = time.perf_counter()
    if request.otio and not request.use_cache:
        raise UsageError("--otio points the timeline at the shot files in the cache; it cannot be used with --no-cache")
    sb = load_storyboard(request.storyboard, request.cameo_dirs, request.policy)
    backend = request.backend or sb.backend.name
    if request.model is not None:
        sb = with_model(sb, request.model)
    _check_backend(sb, backend)
    backend_name = backend_class(backend).name
    if request.deliverable:
        from sora_cli.storyboard.deliverables import for_deliverable

        sb = for_deliverable(sb, request.deliverable)
    if request.draft:
        sb = draft_storyboard(sb)
    plan = make_plan(sb, request.cameo_dirs)
    unknown = [s for s in request.only if s not in {shot.id for shot in plan.shots}]
    if unknown:
        from sora_cli.storyboard.messages import did_you_mean

        ids = [shot.id for shot in plan.shots]
        raise UsageError(f"--only: no shot {unknown[0]!r}{did_you_mean(unknown[0], ids)} (shots: {', '.join(ids)})")
    output = Path(request.output) if request.output else default_output(request.storyboard, request.draft)
    video = VideoSettings(
        plan.width,
        plan.height,
        plan.fps,
        preset="ultrafast" if request.draft else "veryfast",
        crf=28 if request.draft else 20,
    )
    film = Film.from_plan(plan)
    scratch = Path(tempfile.mkdtemp(prefix="sora-render-"))
    try:
        cache_root = (
            (request.cache_dir or Path(plan.base_dir) / CACHE_DIR_NAME) if request.use_cache else scratch / "cache"
        )
        cache = ShotCache(cache_root)
        sweep_stale(cache_root)
        sweep_stale(output.parent)
        identity: dict[str, Any] = {}
        sound_path = scratch / "soundtrack.m4a"
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(1, mp_context=context, initializer=quiet_interrupts) as sound_pool:
            sound: Future[MixReport] = sound_pool.submit(run_busy, cached_soundtrack, plan, cache, sound_path)
            progress.stage("picture", plan.frames)
            try:
                picture_started = time.perf_counter()
                shot_files = render_shots(
                    plan,
                    backend,
                    film,
                    video,
                    cache,
                    set(request.only),
                    max(1, request.jobs),
                    progress,
                    identity.update,
                    request.farm,
                )
                picture_seconds = time.perf_counter() - picture_started
                progress.stage("sound")
                mix = sound.result()
            except BaseException:
                stop_workers(sound_pool)
                raise
        progress.stage("assemble")
        assemble_started = time.perf_counter()
        cue_list = subs.cues(plan)
        burn_pair = _assemble(
            plan, shot_files, video, sound_path, cue_list, output, scratch, cache.root / "transitions"
        )
        written = _write_subtitles(plan, cue_list, output)
        generative = bool(getattr(backend_class(backend), "generative", False))
        facts = provenance_facts(plan, backend_name, identity)
        sign_film(output, plan.title, generative, facts)
        assemble_seconds = time.perf_counter() - assemble_started
        report = _report(plan, request, backend_name, identity, shot_files, mix, output, written, len(cue_list))
        check = verify(output)
        report["provenance"] = {
            "c2pa": check.state,
            "digital_source_type": "trainedAlgorithmicMedia" if generative else "algorithmicMedia",
            **facts,
        }
        report["timings"] = {
            "picture_seconds": round(picture_seconds, 3),
            "assemble_seconds": round(assemble_seconds, 3),
            "total_seconds": round(time.perf_counter() - started, 3),
        }
        if request.qc:
            from sora_cli.qc import profile_for, run_qc

            progress.stage("qc")
            profile = profile_for(None, plan)
            checked = run_qc(output, profile, plan)
            if burn_pair:
                from sora_cli.qc.burned import burned_caption_check

                middles = [(c.start + c.end) / 2 for c in cue_list]
                checked.checks.append(burned_caption_check(*burn_pair, middles, profile))
            report["qc"] = checked.to_json()
        if request.otio:
            from sora_cli.assemble.timeline import write_otio

            otio_path = output.with_suffix(".otio")
            write_otio(plan, shot_files, output, otio_path, written)
            report["outputs"]["otio"] = str(otio_path)
        write_report(report_path(output), report)
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def provenance_facts(plan: Plan, backend_name: str, identity: dict[str, Any]) -> dict[str, Any]:
    """What the film's C2PA manifest states about how it was made (cameos by hash only)."""
    appearing = {c for shot in plan.shots for c in shot.cast} | {
        line.speaker for shot in plan.shots for line in shot.dialogue
    }
    cameos = [
        {"name": ch.cameo, "capture_sha256": ch.cameo_hash}
        for cid, ch in sorted(plan.characters.items())
        if ch.cameo and cid in appearing
    ]
    return {
        "storyboard_sha256": plan.storyboard_hash,
        "backend": backend_name,
        "backend_version": identity.get("version"),
        "model": plan.backend.model,
        "seed": plan.seed,
        "cameos": cameos,
    }


def report_path(output: Path) -> Path:
    return output.with_name(output.stem + ".report.json")


def _assemble(
    plan: Plan,
    shot_files: dict[str, ShotFile],
    video: VideoSettings,
    sound: Path,
    cue_list: list[subs.Cue],
    output: Path,
    scratch: Path,
    transitions: Path,
) -> tuple[Path, Path] | None:
    """Write the film; with burned subtitles, the picture before and after burning (for the safe-area check)."""
    files = {sid: f.path for sid, f in shot_files.items()}
    segments = plan_segments(plan, files, video, transitions, {sid: f.key for sid, f in shot_files.items()})
    template = files[plan.shots[0].id]
    soft = cue_list if "soft" in plan.subtitles else None
    if "burn" in plan.subtitles and cue_list:
        stitched = scratch / "stitched.mp4"
        write_film(stitched, video_packets(segments, plan.fps), template, None, plan.duration, None)
        burned = _burn(stitched, cue_list, plan, video, scratch)
        from sora_cli.assemble.stitch import Segment

        segments = [Segment(burned, 0, plan.frames, 0)]
        template = burned
    with atomic_path(output) as tmp:
        write_film(tmp, video_packets(segments, plan.fps), template, sound, plan.duration, soft)
    return (stitched, burned) if "burn" in plan.subtitles and cue_list else None


def _burn(video_path: Path, cue_list: list[subs.Cue], plan: Plan, video: VideoSettings, scratch: Path) -> Path:
    """Draw the subtitles into the picture with libass and the fonts sora ships."""
    from sora_cli.assemble.burn_layout import burn_cues, subtitle_size
    from sora_cli.qc import profile_for
    from sora_cli.qc.burned import safe_box

    left, _, _, bottom = safe_box(profile_for(None, plan), plan.width, plan.height)
    margins = (left + max(2, plan.width // 100), plan.height - bottom + max(2, plan.height // 100))
    size = subtitle_size(plan.width, plan.height)
    cue_list = burn_cues(cue_list, plan.width - 2 * margins[0], size)  # wrapped by measured width
    text = subs.to_ass(cue_list, plan.width, plan.height, "DejaVu Sans", margins, size)
    (scratch / "subs.ass").write_text(text, encoding="utf-8")
    fonts = scratch / "fonts"
    fonts.mkdir(exist_ok=True)
    for _, font in fallback_chain():
        shutil.copy(font, fonts / font.name)
    out = scratch / "burned.mp4"
    graph = f"subtitles=filename={filter_value('subs.ass')}:fontsdir={filter_value('fonts')}"
    run_ffmpeg(
        ["-i", video_path.name, "-vf", graph, *video.codec_args(), "-an", out.name], "burning subtitles", cwd=scratch
    )
    return out


def _write_subtitles(plan: Plan, cue_list: list[subs.Cue], output: Path) -> dict[str, str]:
    written: dict[str, str] = {}
    if "sidecar" in plan.subtitles:
        srt, vtt = output.with_suffix(".srt"), output.with_suffix(".vtt")
        atomic_write_text(srt, subs.to_srt(cue_list))
        atomic_write_text(vtt, subs.to_vtt(cue_list))
        written.update(srt=str(srt), vtt=str(vtt))
    return written


def _report(
    plan: Plan,
    request: RenderRequest,
    backend_name: str,
    identity: dict[str, Any],
    shot_files: dict[str, ShotFile],
    mix: MixReport,
    output: Path,
    subtitles: dict[str, str],
    cue_count: int,
) -> dict[str, Any]:
    shots = []
    for shot in plan.shots:
        f = shot_files[shot.id]
        shots.append(
            {
                "id": shot.id,
                "start": round(shot.start, 6),
                "duration": round(shot.duration, 6),
                "frames": shot.frames,
                "reused": f.cached,
                "render_seconds": None if f.cached else round(f.seconds, 3),
                "render_fps": None if f.cached or not f.seconds else round(shot.frames / f.seconds, 1),
                "content_hash": f.key,
                "worker": f.worker or None,
                "conditioning": f.info or None,
            }
        )
    return {
        "tool": tool_info(),
        "storyboard": {"file": plan.storyboard, "sha256": plan.storyboard_hash, "title": plan.title},
        "backend": {
            "name": backend_name,
            "model": plan.backend.model,
            **{k: v for k, v in identity.items() if k not in ("name", "model")},
        },
        "seed": plan.seed,
        "draft": request.draft,
        "output": {
            "file": str(output),
            "bytes": output.stat().st_size,
            "duration": round(plan.duration, 6),
            "frames": plan.frames,
            "width": plan.width,
            "height": plan.height,
            "fps": plan.fps,
        },
        "sound": {
            "loudness_lufs": round(mix.loudness, 2),
            "target_lufs": plan.loudness,
            "true_peak_dbtp": round(mix.true_peak_dbtp, 2),
            "limited": mix.limited,
        },
        "subtitles": {"modes": list(plan.subtitles), "files": subtitles, "cues": cue_count},
        "outputs": {"film": str(output), **subtitles},
        "shots": shots,
        "reused": [s["id"] for s in shots if s["reused"]],
        "rendered": [s["id"] for s in shots if not s["reused"]],
    }
