"""Render a storyboard into a film: the whole pipeline, top to bottom.

plan -> picture (chains of shots into the shot cache, in worker processes)
     -> sound (the soundtrack, mixed at the same time in its own process)
     -> assemble (stitch, mux, subtitles) -> film + report

Every file written is written atomically: an interrupted render leaves the
previous film (or nothing) and a shot cache to resume from, never half a file.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sora_cli import faults
from sora_cli.assemble import subtitles as subs
from sora_cli.assemble.mux import write_film
from sora_cli.assemble.report import tool_info, write_report
from sora_cli.assemble.stitch import plan_segments, video_packets
from sora_cli.atomic import sweep_stale
from sora_cli.cameo.consent import note_cached_shots
from sora_cli.digests import file_digest
from sora_cli.errors import UsageError
from sora_cli.ffmpeg import filter_value, run_ffmpeg
from sora_cli.fonts import fallback_chain, quiet_fontconfig
from sora_cli.outputs import Estimate, Publisher, check_outputs, recover, set_paths
from sora_cli.outputs import preflight as output_preflight
from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.preflight import preflight
from sora_cli.progress import NullProgress, Progress
from sora_cli.provenance import sign_film, verify
from sora_cli.render.backend import Film, backend_class
from sora_cli.render.cache import ShotCache, cache_size_limit, prune
from sora_cli.render.encode import VideoSettings
from sora_cli.render.shots import Farm, ShotFile, render_shots
from sora_cli.scratch import render_scratch
from sora_cli.sound.mix import MixReport, Stem, cached_soundtrack
from sora_cli.storyboard import Storyboard, load_storyboard
from sora_cli.workers import pool_context, run_busy, stop_workers, worker_init

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
    allow_assets: tuple[Path, ...] = ()  # folders outside the storyboard's that assets may come from
    cache_size: str | None = None  # the cache's size bound (default: $SORA_CACHE_SIZE or 4G)
    prune: bool = True  # bring the cache under its bound after the render (a matrix prunes once, at its end)
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


def video_settings(plan: Plan, draft: bool) -> VideoSettings:
    """How a plan's shots are encoded (a key of every shot in the cache)."""
    return VideoSettings(
        plan.width, plan.height, plan.fps, preset="ultrafast" if draft else "veryfast", crf=28 if draft else 20
    )


def render_film(
    request: RenderRequest, progress: Progress | None = None, loaded: Storyboard | None = None
) -> dict[str, Any]:
    """Render ``request.storyboard``; returns the report (also written beside the film).

    ``loaded``: the request's storyboard, already loaded and preflighted (a matrix of masters loads it once).
    """
    progress = progress or NullProgress()
    started = time.perf_counter()
    if request.otio and not request.use_cache:
        raise UsageError("--otio points the timeline at the shot files in the cache; it cannot be used with --no-cache")
    sb = loaded or load_storyboard(request.storyboard, request.cameo_dirs, request.policy, request.allow_assets)
    backend = request.backend or sb.backend.name
    if request.model is not None:
        sb = with_model(sb, request.model)
    if loaded is None:
        preflight(sb, request.cameo_dirs, request.backend)  # the same checks as `sora validate`
    backend_name = backend_class(backend).name
    if request.deliverable:
        from sora_cli.storyboard.deliverables import for_deliverable

        sb = for_deliverable(sb, request.deliverable)
    if request.draft:
        sb = draft_storyboard(sb)
    plan = make_plan(sb, request.cameo_dirs)
    unknown = [s for s in request.only if s not in {shot.id for shot in plan.shots}]
    if unknown:
        from sora_cli.errors import did_you_mean

        ids = [shot.id for shot in plan.shots]
        raise UsageError(f"--only: no shot {unknown[0]!r}{did_you_mean(unknown[0], ids)} (shots: {', '.join(ids)})")
    output = Path(request.output) if request.output else default_output(request.storyboard, request.draft)
    cache_dir = (request.cache_dir or Path(plan.base_dir) / CACHE_DIR_NAME) if request.use_cache else None
    source = None if str(request.storyboard) == "-" else Path(request.storyboard)
    check_outputs(output, source, cache_dir, _cameo_libraries(plan, request))
    video = video_settings(plan, request.draft)
    film = Film.from_plan(plan)
    quiet_fontconfig()  # before any worker forks: none of them prints fontconfig's start-up chatter
    with render_scratch() as scratch:
        cache_root = cache_dir or scratch / "cache"
        output_preflight(output, cache_root, scratch, Estimate.of(plan.frames, plan.width, plan.height, plan.duration))
        recover(output)  # a set switch a killed render journaled is finished first
        sweep_cache(cache_root)
        used_since = time.time() - 1.0
        cache = ShotCache(cache_root)
        identity: dict[str, Any] = {}
        sound_path = scratch / "soundtrack.m4a"
        context = pool_context()
        with ProcessPoolExecutor(1, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)) as sound_pool:
            # a model that makes sound with its picture: the mix waits for the picture (its stems)
            model_audio = getattr(backend_class(backend), "model_audio", None)
            audio_mode = model_audio(plan.backend.model, Path(plan.base_dir), film.options) if model_audio else None
            sound: Future[MixReport] | None = None
            if not audio_mode and soundtrack_stored(plan, cache):  # a copy from the cache: no worker needed
                sound = Future()
                sound.set_result(cached_soundtrack(plan, cache, sound_path))
            elif not audio_mode:
                sound = sound_pool.submit(run_busy, cached_soundtrack, plan, cache, sound_path)
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
                if request.use_cache:  # so that revoking a cameo can purge the shots that show it
                    note_cached_shots(_cameo_shots(plan, shot_files))
                progress.stage("sound")
                if sound is None:
                    stems = model_stems(plan, shot_files, cache, str(audio_mode))
                    sound = sound_pool.submit(run_busy, cached_soundtrack, plan, cache, sound_path, stems)
                mix = sound.result()
            except BaseException:
                stop_workers(sound_pool)
                raise
        progress.stage("assemble")
        assemble_started = time.perf_counter()
        cue_list = subs.cues(plan)
        publisher = Publisher(output)
        try:
            staged_film = publisher.stage(output)
            burn_pair = _assemble(
                plan, shot_files, video, sound_path, cue_list, staged_film, scratch, cache.root / "transitions"
            )
            generative = bool(getattr(backend_class(backend), "generative", False))
            facts = provenance_facts(plan, backend_name, identity)
            sign_film(staged_film, plan.title, generative, facts)  # signed before it can appear at its path
            written = _write_subtitles(plan, cue_list, output, publisher)
            assemble_seconds = time.perf_counter() - assemble_started
            report = _report(
                plan, request, backend_name, identity, shot_files, mix, output, staged_film, written, len(cue_list)
            )
            check = verify(staged_film)
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
            if request.qc:  # the delivery checks run on the film that will appear, before it does
                from sora_cli.qc import profile_for, run_qc

                progress.stage("qc")
                profile = profile_for(None, plan)
                sidecars = [tmp for target, tmp in publisher.staged.items() if target.suffix in (".srt", ".vtt")]
                checked = run_qc(staged_film, profile, plan, sidecars)
                if burn_pair:
                    from sora_cli.qc.burned import burned_caption_check

                    middles = [(c.start + c.end) / 2 for c in cue_list]
                    checked.checks.append(burned_caption_check(*burn_pair, middles, profile))
                report["qc"] = checked.to_json()
            if request.otio:
                from sora_cli.assemble.timeline import write_otio

                otio_path = output.with_suffix(".otio")
                write_otio(plan, shot_files, output, publisher.stage(otio_path), written)
                report["outputs"]["otio"] = str(otio_path)
            report["set"] = {target.name: file_digest(tmp) for target, tmp in publisher.staged.items()}
            write_report(publisher.stage(report_path(output)), report)
            faults.checkpoint("before-publish")
            publisher.publish(_stale(output, report["outputs"]))
        except BaseException:
            publisher.discard()
            raise
        if request.use_cache and request.prune:
            prune(cache_root, cache_size_limit(request.cache_size), keep_since=used_since)
        return report


def soundtrack_stored(plan: Plan, cache: ShotCache) -> bool:
    """Whether the plan's soundtrack is in the cache (a matrix's masters of one language and cut share it)."""
    from sora_cli.digests import verified
    from sora_cli.sound.mix import soundtrack_key

    audio = cache.root / "sound" / f"{soundtrack_key(plan)}.m4a"
    return verified(audio) and verified(audio.with_suffix(".json"))


def _stale(output: Path, outputs: dict[str, str]) -> list[Path]:
    """Files of the previous set (as its report lists them) that the new set does not have."""
    import json

    try:
        previous = json.loads(report_path(output).read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return []
    keep = {Path(p).name for p in outputs.values()}
    names = {p.name for p in set_paths(output).values()}
    return [
        output.with_name(Path(p).name)
        for p in previous.values()
        if isinstance(p, str) and Path(p).name in names and Path(p).name not in keep
    ]


def _cameo_libraries(plan: Plan, request: RenderRequest) -> list[Path]:
    """The cameo libraries this render reads (an output must not land in one)."""
    from sora_cli.cameo.library import default_library, library_dirs

    found = list(library_dirs(Path(plan.base_dir)))
    if request.cameo_dirs:
        found.append(Path(request.cameo_dirs))
    found.append(default_library())
    return found


def sweep_cache(root: Path) -> None:
    """Remove killed writers' temp files from the cache's own folders (one level each, no deeper)."""
    folders = [root, root / "sound", root / "sound" / "blocks"]
    for sub in ("shots", "transitions"):
        if (root / sub).is_dir():
            folders.extend(p for p in (root / sub).iterdir() if p.is_dir())
    for folder in folders:
        sweep_stale(folder)


def model_stems(plan: Plan, shot_files: dict[str, ShotFile], cache: ShotCache, mode: str) -> tuple[Stem, ...]:
    """The sound each shot's model made (kept in its carry), as mix stems at the shot's place in the film.

    ``mode`` ``ambience``: it replaces sora's ambience and effects in the shot; ``all``: its speech too.
    Each stem is mono, resampled to the mix rate and brought to a 0.5 peak, like a recorded take.
    """
    import hashlib

    import numpy as np
    from scipy.signal import resample_poly

    from sora_cli.sound.synth import RATE, seconds

    replaces = frozenset({"ambience", "effects"} | ({"speech"} if mode == "all" else set()))
    stems = []
    for f in shot_files.values():
        carry = cache.load_carry(f.key)
        if carry is None or carry.audio is None or not len(carry.audio):
            continue
        mono = carry.audio.mean(axis=1) if carry.audio.ndim == 2 else carry.audio
        x = resample_poly(mono, RATE, carry.audio_rate).astype(np.float32)
        x *= np.float32(0.5 / max(float(np.max(np.abs(x))), 1e-9))
        digest = hashlib.sha256(x.tobytes()).hexdigest()
        stems.append(Stem(seconds(plan.shot(f.shot_id).start), x, replaces, digest))
    return tuple(stems)


def _cameo_shots(plan: Plan, shot_files: dict[str, ShotFile]) -> dict[str, list[Path]]:
    """Capture hash of each cameo -> the cached shot files that show it."""
    out: dict[str, list[Path]] = {}
    for shot in plan.shots:
        for cid in shot.cast:
            if capture := plan.characters[cid].cameo_hash:
                out.setdefault(capture, []).append(shot_files[shot.id].path)
    return out


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
    write_film(output, video_packets(segments, plan.fps), template, sound, plan.duration, soft)
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


def _write_subtitles(plan: Plan, cue_list: list[subs.Cue], output: Path, publisher: Publisher) -> dict[str, str]:
    """Stage the sidecars (they appear with the film, see :class:`Publisher`); their final paths."""
    written: dict[str, str] = {}
    if "sidecar" in plan.subtitles:
        srt, vtt = output.with_suffix(".srt"), output.with_suffix(".vtt")
        publisher.stage(srt).write_text(subs.to_srt(cue_list), encoding="utf-8")
        publisher.stage(vtt).write_text(subs.to_vtt(cue_list), encoding="utf-8")
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
    staged: Path,
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
            "bytes": staged.stat().st_size,
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
            "reused": mix.reused,
        },
        "subtitles": {"modes": list(plan.subtitles), "files": subtitles, "cues": cue_count},
        "outputs": {"film": str(output), **subtitles},
        "shots": shots,
        "reused": [s["id"] for s in shots if s["reused"]],
        "rendered": [s["id"] for s in shots if not s["reused"]],
    }
