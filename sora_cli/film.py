"""Render a storyboard into a film: the conductor, five steps top to bottom.

1. load and check (the request's overrides applied, the same checks as ``sora validate``)
2. plan (every fact decided once; outputs, cache and disk checked before anything is drawn)
3. picture alongside sound (chains of shots in worker processes, the soundtrack in its own)
4. assemble (:mod:`sora_cli.assemble.assembly`: stitch, subtitles, mux, sidecars, timeline)
5. sign and report (C2PA, the delivery checks, :mod:`sora_cli.assemble.report`), then publish

Every file written is written atomically: an interrupted render leaves the
previous film (or nothing) and a shot cache to resume from, never half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sora_cli import faults
from sora_cli.assemble.assembly import Assembled, assemble
from sora_cli.assemble.report import film_report, provenance_facts, report_path, stale_files, write_report
from sora_cli.assemble.stitch import body_range, make_transition
from sora_cli.atomic import sweep_stale
from sora_cli.cameo.consent import note_cached_shots
from sora_cli.cameo.library import default_library, library_dirs
from sora_cli.digests import file_digest, verified
from sora_cli.dsp.kernels import resample_poly
from sora_cli.errors import SoraError, UsageError, did_you_mean
from sora_cli.ffmpeg import ffmpeg_version
from sora_cli.fonts import quiet_fontconfig
from sora_cli.outputs import Estimate, Publisher, check_outputs, recover
from sora_cli.outputs import preflight as output_preflight
from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.preflight import preflight
from sora_cli.progress import NullProgress, Progress
from sora_cli.provenance import check_signing, prepare_signing, sign_and_verify
from sora_cli.qc import AUDIO, QcResult, as_draft, profile_for, run_qc
from sora_cli.qc.ahead import Ahead
from sora_cli.qc.audio import heard_ahead, heard_stored
from sora_cli.qc.burned import burned_caption_check
from sora_cli.qc.measure import prepare as prepare_measures
from sora_cli.render.backend import FilmSettings
from sora_cli.render.cache import FANNED, LAYOUT, ShotCache, cache_size_limit, check_layout, prune
from sora_cli.render.chain import ShotFile
from sora_cli.render.encode import VideoSettings
from sora_cli.render.ray_executor import RayExecutor
from sora_cli.render.registry import backend_class
from sora_cli.render.shots import render_shots
from sora_cli.scratch import render_scratch
from sora_cli.sound.mix import MixReport, Stem, cached_soundtrack, soundtrack_key
from sora_cli.sound.synth import RATE, seconds
from sora_cli.storyboard import Storyboard, load_storyboard
from sora_cli.storyboard.overrides import Overrides, overridden
from sora_cli.workers import pool_context, run_busy, stop_workers, worker_init

CACHE_DIR_NAME = ".sora-cache"
QC_CACHE = "qc"  # the cache's folder of delivery-check measures


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
    ray: RayExecutor | None = None  # --executor ray: render chains on a Ray cluster instead of local processes
    qc: bool = True  # run the delivery checks (sora qc) on the written film
    allow_assets: tuple[Path, ...] = ()  # folders outside the storyboard's that assets may come from
    cache_size: str | None = None  # the cache's size bound (default: $SORA_CACHE_SIZE or 4G)
    prune: bool = True  # bring the cache under its bound after the render (a matrix prunes once, at its end)
    deliverable: str | None = None  # render this entry of the storyboard's deliverables: list

    def __post_init__(self) -> None:
        """A request a caller of the Python API got wrong is a usage error here, not a failure mid-render."""
        if not isinstance(self.storyboard, (str, os.PathLike)):
            raise UsageError(f"storyboard must be a path (str or Path) or '-', not {type(self.storyboard).__name__}")
        if self.backend is not None and not isinstance(self.backend, (str, type)):
            raise UsageError(f"backend must be a name or a backend class, not {type(self.backend).__name__}")
        if isinstance(self.jobs, bool) or not isinstance(self.jobs, int) or self.jobs < 1:
            raise UsageError(f"jobs must be a whole number of at least 1, not {self.jobs!r}")


@dataclass
class Made:
    """What step 3 made: the shot files, the soundtrack and the backend's identity (for the cache and report)."""

    shot_files: dict[str, ShotFile]
    mix: MixReport
    soundtrack: Path
    identity: dict[str, Any]
    picture_seconds: float
    heard: Future[None] | None = None  # the sound worker measuring the soundtrack for the checks, if it does


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

    # 1. Load and check: the storyboard as the request overrides it, checked as `sora validate` checks it
    sb = load_and_check(request, loaded)

    # 2. Plan: the whole truth about what renders; then the outputs are checked against it
    plan = make_plan(sb, request.cameo_dirs)
    _check_only(plan, request.only)
    output, cache_dir = output_and_cache(request, Path(plan.base_dir))
    source = None if str(request.storyboard) == "-" else Path(request.storyboard)
    check_outputs(output, source, cache_dir, _cameo_libraries(plan, request))
    # from here on absolute: the report (and --json) names the film wherever its reader runs, and
    # the report beside the film writes it relative to its own folder, not to the folder sora ran in.
    # Its folder as the kernel finds it (`sb/../x.mp4` is `x.mp4`; `link/..` is the link target's parent,
    # where a temp file staged by its textual name would not be); the name itself is not followed
    output = output.parent.resolve() / output.name
    quiet_fontconfig()  # before any worker forks: none of them prints fontconfig's start-up chatter
    check_signing()  # a signing key that cannot sign is exit 2 now, not an error after the film is drawn
    if cache_dir is not None:
        check_layout(cache_dir)  # a file where the cache keeps a folder: exit 2 now, not an internal error later
    with render_scratch() as scratch:
        cache_root = cache_dir or scratch / "cache"
        output_preflight(output, cache_root, scratch, Estimate.of(plan.frames, plan.width, plan.height, plan.duration))
        recover(output)  # a set switch a killed render journaled is finished first
        used_since = time.time() - 1.0
        cache = ShotCache(cache_root)
        checks = _checks_ahead(plan, request, cache)
        checks.early(_prepare_the_end, request.qc)
        # killed writers' temp files go beside the drawing (a look into every cache folder: 50 ms before a
        # bench edit's first frame), or after the film where that thread had no time for it
        swept = threading.Event()

        def sweep() -> None:
            sweep_cache(cache_root)
            swept.set()

        checks.early(sweep)
        try:
            # 3. Picture alongside sound: chains of shots in worker processes, the soundtrack in its own
            try:
                made = picture_and_sound(plan, request, cache, scratch / "soundtrack.m4a", progress, checks)
            except BrokenProcessPool as exc:  # killed by the system (out of memory) or by hand: say so, not a bug
                kept = ", and the shots it finished are kept in the cache" if request.use_cache else ""
                raise SoraError(
                    "a worker process of the render ended abruptly (killed: out of memory, or by a signal); "
                    f"nothing was published{kept}: run the render again"
                ) from exc

            # 4. Assemble: the film, its subtitles and sidecars, staged beside the output
            progress.stage("assemble")
            assemble_started = time.perf_counter()
            checks.settle()  # the transitions it made are ready, it makes no more
            publisher = Publisher(output)
            try:
                assembled = assemble(
                    plan,
                    made.shot_files,
                    video_settings(plan, request.draft),
                    made.soundtrack,
                    output,
                    publisher,
                    scratch,
                    cache.root / "transitions",
                    otio=request.otio,
                )

                # 5. Sign and report: the film is signed and checked before it can appear at its path
                report = sign_and_report(
                    plan, request, made, assembled, output, publisher, progress, (started, assemble_started), checks
                )
                report["set"] = {t.name: file_digest(tmp) for t, tmp in publisher.staged.items() if tmp.is_file()}
                write_report(publisher.stage(report_path(output)), report)
                faults.checkpoint("before-publish")
                publisher.publish(stale_files(output, report["outputs"]))
            except BaseException as exc:
                named = publisher.named_target(exc)  # (a storage failure names the film, not its temp file)
                publisher.discard()
                if named is not None:
                    raise named from exc
                raise
        except BaseException:
            checks.finish()
            # a worker that did not stop within its grace period was killed: its temp files go now, not next run
            sweep_cache(cache_root)
            raise
        finally:
            checks.finish()  # (its thread ends with the render, whatever happens)
        if not swept.is_set():
            sweep_cache(cache_root)
        if request.use_cache and request.prune:
            prune(cache_root, cache_size_limit(request.cache_size), keep_since=used_since)
        return report


def load_and_check(request: RenderRequest, loaded: Storyboard | None = None) -> Storyboard:
    """Step 1: the storyboard with the request's overrides, through the same preflight as ``sora validate``.

    The backend and its model are checked as overridden at the storyboard's own
    size; the deliverable and the draft then change what is drawn.
    """
    sb = loaded or load_storyboard(request.storyboard, request.cameo_dirs, request.policy, request.allow_assets)
    sb = overridden(sb, Overrides(backend=request.backend, model=request.model))
    if loaded is None:
        preflight(sb, request.cameo_dirs, request.backend)
    return overridden(sb, Overrides(draft=request.draft, deliverable=request.deliverable))


def _check_only(plan: Plan, only: tuple[str, ...]) -> None:
    """``--only`` names shots of the plan (a usage error with the nearest id otherwise)."""
    ids = [shot.id for shot in plan.shots]
    unknown = [s for s in only if s not in ids]
    if unknown:
        raise UsageError(f"--only: no shot {unknown[0]!r}{did_you_mean(unknown[0], ids)} (shots: {', '.join(ids)})")


def video_settings(plan: Plan, draft: bool) -> VideoSettings:
    """The encoder settings every shot file and overlap shares (drafts: fastest preset, lower quality)."""
    return VideoSettings(
        plan.width, plan.height, plan.fps, preset="ultrafast" if draft else "veryfast", crf=28 if draft else 20
    )


def picture_and_sound(
    plan: Plan,
    request: RenderRequest,
    cache: ShotCache,
    sound_path: Path,
    progress: Progress,
    checks: Ahead | None = None,
) -> Made:
    """Step 3: the shots into the cache while the soundtrack is mixed in another process.

    A backend whose model makes sound with its picture hands that sound to the
    mix as stems, so then the mix waits for the picture. Once the drawing workers have forked,
    ``checks`` makes each transition as soon as its two shots exist, and measures
    each finished shot and transition for the delivery checks (the picture only where the
    film copies it: not under burned subtitles); the sound worker measures the soundtrack.
    """
    index = {shot.id: i for i, shot in enumerate(plan.shots)}
    copied = "burn" not in plan.subtitles
    video = video_settings(plan, request.draft)
    ready: dict[str, ShotFile] = {}
    waiting = {i for i, shot in enumerate(plan.shots) if shot.transition.frames}  # transitions not begun

    def transition(i: int, files: dict[str, Path], keys: dict[str, str]) -> None:
        path = make_transition(plan, i, files, video, cache.root / "transitions", keys)
        if checks and copied:
            checks.shot(path, 0, plan.shots[i].transition.frames)

    def measure(files: list[ShotFile]) -> None:
        if not checks:
            return
        for f in files:
            ready[f.shot_id] = f
            if copied and (body := body_range(plan, index[f.shot_id])):
                checks.shot(f.path, *body)
        for i in sorted(waiting):  # each transition as soon as the two shots it joins exist
            if plan.shots[i].id in ready and (i == 0 or plan.shots[i - 1].id in ready):
                waiting.discard(i)
                paths, keys = {k: f.path for k, f in ready.items()}, {k: f.key for k, f in ready.items()}
                checks.early(transition, i, paths, keys)

    backend = request.backend if isinstance(request.backend, type) else plan.backend.name
    film = FilmSettings.from_plan(plan)
    identity: dict[str, Any] = {}
    heard_in = checks.cache / AUDIO if checks and checks.ranges is not None else None
    sound_pool = ProcessPoolExecutor(1, mp_context=pool_context(), initializer=worker_init, initargs=(os.getpid(),))
    heard: Future[None] | None = None

    def hear() -> Future[None]:
        """The soundtrack measured for the checks, by the sound worker (queued behind a mix it is given)."""
        return sound_pool.submit(run_busy, heard_ahead, sound_path, heard_in, plan.duration)

    def mix(stems: tuple[Stem, ...] = ()) -> Future[MixReport]:
        """The soundtrack, then its measurement for the checks."""
        nonlocal heard
        mixed = sound_pool.submit(run_busy, cached_soundtrack, plan, cache, sound_path, stems)
        if heard_in is not None:
            heard = hear()
        return mixed

    try:
        audio_mode = backend_class(backend).model_audio(plan.backend.model, Path(plan.base_dir), film.options)
        sound: Future[MixReport] | None = None
        if not audio_mode and soundtrack_stored(plan, cache):  # a copy from the cache: no mix
            sound = Future()
            sound.set_result(cached_soundtrack(plan, cache, sound_path))
            if heard_in is not None and not heard_stored(sound_path, heard_in, plan.duration):
                heard = hear()
            elif checks:  # (found by digest: the render that mixed it measured it)
                checks.soundtrack(sound_path, plan.duration)
        elif not audio_mode:  # the worker measures what it mixes for the checks
            sound = mix()
        progress.stage("picture", plan.frames)
        picture_started = time.perf_counter()
        shot_files = render_shots(
            plan,
            backend,
            film,
            video_settings(plan, request.draft),
            cache,
            set(request.only),
            max(1, request.jobs),
            progress,
            identity.update,
            request.ray,
            checks.start if checks and not audio_mode else None,
            measure,
        )
        if checks and not audio_mode:
            checks.start()  # the picture is done (where no workers forked: one job, Ray)
        picture_seconds = time.perf_counter() - picture_started
        if request.use_cache:  # so that revoking a cameo can purge the shots that show it
            note_cached_shots(_cameo_shots(plan, shot_files))
        progress.stage("sound")
        if sound is None:
            sound = mix(model_stems(plan, shot_files, cache, str(audio_mode)))
            if checks:
                checks.start()  # (only now: no thread may run while the sound worker forks)
        mix_report = sound.result()
        if checks and not audio_mode:
            checks.start(2)  # nothing left to wait for but the checks' thread: both cores are its
    except BaseException:
        stop_workers(sound_pool)
        raise
    sound_pool.shutdown(wait=False)  # (the worker ends once it has measured the soundtrack)
    return Made(shot_files, mix_report, sound_path, identity, picture_seconds, heard)


def _checks_ahead(plan: Plan, request: RenderRequest, cache: ShotCache) -> Ahead:
    """The driver's thread that works ahead: transitions, and the measures the delivery checks will need.

    The measures are kept in the cache by content (in the scratch with ``--no-cache``), so the
    checks of the film decode only what no earlier render measured: transitions and edited shots.
    """
    spec = profile_for(None, plan).picture
    return Ahead(cache.root / QC_CACHE, (spec.luma_range, spec.chroma_range) if request.qc else None)


def _prepare_the_end(qc: bool) -> None:
    """Import what the render's end needs and its start did not (signing's c2pa-rs and cryptography, the
    checks' OpenCV: ~0.15 s), in the thread that works ahead while the picture is drawn: after a one-shot
    edit they were imported on the way to the film, once the picture was done. The report's ffmpeg
    version (a run of ``ffmpeg -version``) is asked here too."""
    prepare_signing()
    ffmpeg_version()
    if qc:
        prepare_measures()


def soundtrack_stored(plan: Plan, cache: ShotCache) -> bool:
    """Whether the plan's soundtrack is in the cache (a matrix's masters of one language and cut share it)."""
    audio = cache.root / "sound" / f"{soundtrack_key(plan)}.m4a"
    return verified(audio) and verified(audio.with_suffix(".json"))


def sign_and_report(
    plan: Plan,
    request: RenderRequest,
    made: Made,
    assembled: Assembled,
    output: Path,
    publisher: Publisher,
    progress: Progress,
    clock: tuple[float, float],
    checks: Ahead | None = None,
) -> dict[str, Any]:
    """Step 5: sign the staged film, read the signature back, run the delivery checks; the report.

    ``clock``: when the render and its assembly started (``time.perf_counter``), for the timings.
    ``checks``: the driver's thread that measured ahead for the checks (what it has not begun, they measure).
    """
    cls = backend_class(request.backend if isinstance(request.backend, type) else plan.backend.name)
    generative = cls.generative
    facts = provenance_facts(plan, cls.name, made.identity)
    # signed before it can appear at its path; meanwhile the checks measure its picture and sound, which
    # signing does not change (c2pa-rs works in native code, without the GIL): only the container checks wait
    with ThreadPoolExecutor(1, thread_name_prefix="sora-sign") as pool:
        signing = pool.submit(_signed, assembled.film, plan.title, generative, facts)
        checked = _checked(plan, request, made, assembled, publisher, progress, checks, signing) if request.qc else None
        signed, done = signing.result()
    report = film_report(
        plan,
        cls.name,
        request.draft,
        made.identity,
        made.shot_files,
        made.mix,
        output,
        assembled.film,
        assembled.subtitles,
        len(assembled.cues),
    )
    report["provenance"] = {
        "c2pa": signed,
        "digital_source_type": "trainedAlgorithmicMedia" if generative else "algorithmicMedia",
        **facts,
    }
    report["timings"] = {
        "picture_seconds": round(made.picture_seconds, 3),
        "assemble_seconds": round(done - clock[1], 3),
        "total_seconds": round(time.perf_counter() - clock[0], 3),
    }
    if checked is not None:
        checked.film = str(output)  # measured on the staged file, reported as the film it becomes
        report["qc"] = checked.to_json()
    if assembled.otio is not None:
        report["outputs"]["otio"] = str(assembled.otio)
        if assembled.media is not None:
            report["outputs"]["media"] = str(assembled.media)
    return report


def _signed(film: Path, title: str, generative: bool, facts: dict[str, Any]) -> tuple[str, float]:
    """Sign ``film`` and read it back: its C2PA state, and when that was done (``time.perf_counter``)."""
    return sign_and_verify(film, title, generative, facts), time.perf_counter()


def _checked(
    plan: Plan,
    request: RenderRequest,
    made: Made,
    assembled: Assembled,
    publisher: Publisher,
    progress: Progress,
    checks: Ahead | None,
    signing: Future[tuple[str, float]],
) -> QcResult:
    """The delivery checks of the staged film, which is being signed meanwhile (``signing``)."""
    progress.stage("qc")
    profile = profile_for(None, plan)
    sidecars = {target.name: tmp for target, tmp in publisher.staged.items() if target.suffix in (".srt", ".vtt")}
    if checks:
        checks.finish()
    if made.heard is not None:  # measuring ahead never fails a render (nor does a worker lost meanwhile):
        with contextlib.suppress(Exception):  # what it did not measure, the checks measure
            made.heard.result()
    # the film's C2PA state is the one the signing reads back from it: the checks do not hold the film again
    checked = run_qc(
        assembled.film, profile, plan, sidecars, checks.cache if checks else None, lambda: signing.result()[0]
    )
    if request.draft:  # a preview: its size and rate are the draft's, every other check applies
        checked = as_draft(checked)
    if assembled.burned:
        middles = [(c.start + c.end) / 2 for c in assembled.cues]
        checked.checks.append(burned_caption_check(*assembled.burned, middles, profile))
    return checked


def output_and_cache(request: RenderRequest, base_dir: Path) -> tuple[Path, Path | None]:
    """The film's path and the cache folder (None with ``--no-cache``) the request names, or their defaults
    (``base_dir``: the storyboard's folder, where the cache is kept by default)."""
    output = Path(request.output) if request.output else default_output(request.storyboard, request.draft)
    return output, (request.cache_dir or base_dir / CACHE_DIR_NAME) if request.use_cache else None


def default_output(storyboard: str | Path, draft: bool) -> Path:
    """``film.yaml`` -> ``film.mp4`` beside it (``film.draft.mp4`` for drafts); stdin -> ``./film.mp4``."""
    suffix = ".draft.mp4" if draft else ".mp4"
    if str(storyboard) == "-":
        return Path.cwd() / f"film{suffix}"
    p = Path(storyboard)
    return p.with_name(p.stem + suffix)


def _cameo_libraries(plan: Plan, request: RenderRequest) -> list[Path]:
    """The cameo libraries this render reads (an output must not land in one)."""
    found = list(library_dirs(Path(plan.base_dir)))
    if request.cameo_dirs:
        found.append(Path(request.cameo_dirs))
    found.append(default_library())
    return found


def sweep_cache(root: Path) -> None:
    """Remove killed writers' temp files from the cache's own folders (one level each, no deeper)."""
    folders = [root, *(root / part for part in LAYOUT if part not in FANNED)]
    for part in FANNED:  # (their entries are in the two-hex-digit folders under them)
        if (root / part).is_dir():
            folders.extend(p for p in (root / part).iterdir() if p.is_dir())
    for folder in folders:
        sweep_stale(folder)


def model_stems(plan: Plan, shot_files: dict[str, ShotFile], cache: ShotCache, mode: str) -> tuple[Stem, ...]:
    """The sound each shot's model made (kept in its carry), as mix stems at the shot's place in the film.

    ``mode`` ``ambience``: it replaces sora's ambience and effects in the shot; ``all``: its speech too.
    Each stem is mono, resampled to the mix rate and brought to a 0.5 peak, like a recorded take.
    """
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
