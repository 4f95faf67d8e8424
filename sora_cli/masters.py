"""Render a storyboard's deliverables into one folder, with a manifest of what was made.

Each master is an ordinary :func:`sora_cli.film.render_film` of the storyboard
as :func:`sora_cli.storyboard.deliverables.for_deliverable` rewrites it, so it
gets its report, sidecars and QC under its own profile, and its bytes are
those of rendering it alone. What does not depend on what differs between the
masters is done once, before: every master's missing chains and every distinct
soundtrack go into the one shot cache from one pool of workers (a shot whose
planned content and frame size equal another's is drawn once; the keys are
content hashes). The masters are then assembled, signed and checked ``jobs``
at a time from the storyboard loaded once. That is what makes a matrix cheaper
than its separate renders.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sora_cli.atomic import atomic_write_text
from sora_cli.errors import UsageError
from sora_cli.film import CACHE_DIR_NAME, RenderRequest, render_film, soundtrack_stored, video_settings
from sora_cli.json_text import dumps
from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.portable import portable_path
from sora_cli.preflight import preflight
from sora_cli.progress import NullProgress, Progress
from sora_cli.provenance import check_signing
from sora_cli.render.backend import Backend, FilmSettings
from sora_cli.render.cache import ShotCache, cache_size_limit, check_layout, prune
from sora_cli.render.encode import VideoSettings
from sora_cli.render.registry import backend_class
from sora_cli.render.shots import ShotJob, plan_jobs, render_chain
from sora_cli.scratch import render_scratch
from sora_cli.sound.mix import cached_soundtrack, soundtrack_key
from sora_cli.storyboard import Storyboard, load_storyboard
from sora_cli.storyboard.deliverables import for_deliverable
from sora_cli.storyboard.overrides import Overrides, overridden
from sora_cli.workers import pool_context, run_busy, stop_workers, worker_init

MANIFEST = "deliverables.json"


def deliverable_names(request: RenderRequest) -> list[str]:
    return _all_names(load_storyboard(request.storyboard, request.cameo_dirs, request.policy), request.storyboard)


def _all_names(sb: Storyboard, storyboard: str | Path) -> list[str]:
    names = [d.name for d in sb.deliverables]
    if not names:
        raise UsageError(f"{storyboard}: no deliverables: list to render (see README, Deliverables)")
    return names


def _make_folder(folder: Path) -> None:
    """``-o DIR`` made (with its parents), or a usage error saying why it cannot be."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: with deliverables, -o names a folder, and this is a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"-o {folder}: cannot make this folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"-o {folder}: this folder is not writable")


def default_folder(storyboard: str | Path) -> Path:
    """``ad.yaml`` -> ``ad.deliverables/`` beside it."""
    p = Path(storyboard)
    return p.with_name(p.stem + ".deliverables") if str(storyboard) != "-" else Path.cwd() / "deliverables"


def render_masters(
    request: RenderRequest, names: list[str], folder: Path, progress: Progress | None = None
) -> dict[str, Any]:
    """``folder/NAME.mp4`` (+ report, sidecars) for each name (every deliverable when ``names`` is empty),
    and ``folder/deliverables.json``. The storyboard is read once (stdin can only be read once)."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: with deliverables, -o names a folder, and this is a file")

    # --backend/--model hold for every master: applied once here, before the check and the shared work
    sb = overridden(
        load_storyboard(request.storyboard, request.cameo_dirs, request.policy, request.allow_assets),
        Overrides(backend=request.backend, model=request.model),
    )
    names = list(names) or _all_names(sb, request.storyboard)
    for name in names:  # every name known before anything is written
        for_deliverable(sb, name)
    preflight(sb, request.cameo_dirs, request.backend)  # as render_film checks it, before the shared work
    if request.use_cache:  # as render_film checks it, before the shared step draws into it
        check_layout(request.cache_dir or Path(sb.source.base_dir) / CACHE_DIR_NAME)
    _make_folder(folder)
    started, used_since = time.perf_counter(), time.time() - 1.0
    unique = list(dict.fromkeys(names))
    shared = make_shared_work(request, sb, unique, progress or NullProgress())
    shared_seconds = round(time.perf_counter() - started, 3)
    reports = _finish(request, sb, unique, folder, progress, shared)
    if request.use_cache and request.prune:  # once, keeping everything this matrix used
        root = request.cache_dir or Path(sb.source.base_dir) / CACHE_DIR_NAME  # as render_film finds it
        prune(root, cache_size_limit(request.cache_size), keep_since=used_since)
    entries = [_entry(name, report, shared.reused.get(name)) for name, report in zip(unique, reports, strict=True)]
    sha = reports[0]["storyboard"].get("sha256")
    for e in entries:
        e["storyboard_sha256"] = sha
    kept = _still_present(folder, _listed(reports[0]["storyboard"], folder), {d.name for d in sb.deliverables} - set(unique))
    order = {d.name: i for i, d in enumerate(sb.deliverables)}
    manifest = {
        "storyboard": reports[0]["storyboard"],
        "deliverables": sorted(entries + kept, key=lambda e: order.get(e["name"], len(order))),
        "rendered": unique,  # this run's masters; the others listed were made before and are still here
        "shared": {"chains": shared.chains, "soundtracks": shared.soundtracks, "seconds": shared_seconds},
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    listed = {**manifest, "storyboard": _listed(manifest["storyboard"], folder)}
    atomic_write_text(folder / MANIFEST, dumps(listed, indent=2, ensure_ascii=False) + "\n")
    return manifest


def _listed(storyboard: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The storyboard as ``deliverables.json`` lists it: its file relative to the folder (as a report does)."""
    return {**storyboard, "file": portable_path(storyboard["file"], folder.absolute())}


def _still_present(folder: Path, storyboard: dict[str, Any], names: set[str]) -> list[dict[str, Any]]:
    """Entries of an earlier ``deliverables.json`` in ``folder`` that a subset rerun did not redo and that
    are still true to the folder: masters of this storyboard (same file name), still among its deliverables,
    whose film is there with the bytes listed. Each keeps the ``storyboard_sha256`` it was made from, so a
    master made from an older version of the storyboard says so."""
    try:
        old = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if old.get("storyboard", {}).get("file") != storyboard.get("file"):
            return []
        kept = []
        for e in old.get("deliverables", []):
            film = folder / str(e.get("file", ""))
            if e.get("name") in names and film.is_file() and film.stat().st_size == e.get("bytes"):
                e.setdefault("storyboard_sha256", old["storyboard"].get("sha256"))
                kept.append(e)
        return kept
    except (OSError, ValueError, TypeError, AttributeError):
        return []  # no earlier listing, or not one sora wrote: only this run's masters


def _entry(name: str, report: dict[str, Any], reused: list[str] | None) -> dict[str, Any]:
    out, qc = report["output"], report.get("qc")
    return {
        "name": name,
        "file": f"{name}.mp4",
        "bytes": out["bytes"],
        "settings": {
            "width": out["width"],
            "height": out["height"],
            "fps": out["fps"],
            "duration": out["duration"],
            "profile": qc["profile"] if qc else None,
            "subtitles": report["subtitles"]["modes"],
            "shots": [s["id"] for s in report["shots"]],
        },
        "qc": {"passed": qc["passed"], "profile": qc["profile"]} if qc else None,
        "outputs": {k: Path(v).name for k, v in report["outputs"].items()},
        # drawn before this master needed them (by an earlier master of the list, or an earlier render)
        "reused_shots": report["reused"] if reused is None else reused,
        "seconds": report["timings"]["total_seconds"],
    }


def _finish(
    request: RenderRequest,
    sb: Storyboard,
    names: list[str],
    folder: Path,
    progress: Progress | None,
    shared: Shared | None = None,
) -> list[dict[str, Any]]:
    """Each master's render_film (assembly, burn, signing, qc), ``jobs`` workers at a time: with the
    picture and sound in the cache, what is left is mostly one-core work per master.

    Masters that play the same soundtrack go to the same worker (see :func:`worker_groups`): a worker
    decodes and meters a soundtrack once for all its masters (qc's memo is per process), so a matrix
    of two languages meters each language once rather than once per worker."""
    # no master prunes the cache while another may still read the shots the shared step drew for it
    requests = {n: dataclasses.replace(request, deliverable=n, output=folder / f"{n}.mp4", prune=False) for n in names}
    workers = max(1, min(request.jobs, len(names)))
    if workers == 1:
        return [render_film(requests[n], progress or NullProgress(), sb) for n in names]
    shared = shared or Shared()
    groups = worker_groups(names, shared.soundtrack, shared.frames, workers)
    context = pool_context()
    if progress is not None:
        progress.stage("masters", len(names))
    reports: dict[str, dict[str, Any]] = {}
    with ProcessPoolExecutor(workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(run_busy, _render_group, [requests[n] for n in g], sb): g for g in groups}
        try:
            for future in as_completed(futures):
                reports.update(zip(futures[future], future.result(), strict=True))
                if progress is not None:
                    progress.stage_advanced(len(futures[future]))
        except BaseException:
            stop_workers(pool)
            raise
    return [reports[n] for n in names]


def _render_group(requests: list[RenderRequest], sb: Storyboard) -> list[dict[str, Any]]:
    return [render_film(r, NullProgress(), sb) for r in requests]


def worker_groups(
    names: list[str], soundtrack: dict[str, str], frames: dict[str, int], workers: int
) -> list[list[str]]:
    """``names`` in at most ``workers`` groups, one per worker: masters of one soundtrack together, the
    groups about equal in frames (heaviest first onto the lightest worker). A soundtrack whose masters
    are needed to keep every worker busy is split. Masters the shared step did not key each go alone."""
    by_sound: dict[str, list[str]] = {}
    for n in names:
        by_sound.setdefault(soundtrack.get(n, f"alone:{n}"), []).append(n)
    parts = list(by_sound.values())

    def weight(group: list[str]) -> int:
        return sum(frames.get(n, 1) for n in group)

    while len(parts) < workers and any(len(p) > 1 for p in parts):
        heaviest = max((p for p in parts if len(p) > 1), key=weight)
        parts.remove(heaviest)
        half = (len(heaviest) + 1) // 2
        parts += [heaviest[:half], heaviest[half:]]
    bins: list[list[str]] = [[] for _ in range(min(workers, len(parts)))]
    for part in sorted(parts, key=weight, reverse=True):
        min(bins, key=weight).extend(part)
    order = {n: i for i, n in enumerate(names)}
    return [sorted(b, key=order.__getitem__) for b in bins if b]


# --- the work masters share, done once in one pool ------------------------------------------------


@dataclass(frozen=True)
class _Master:
    """What drawing one master's shots needs (its plan's chains, keyed as render_film keys them)."""

    name: str
    film: FilmSettings
    video: VideoSettings
    chains: list[list[ShotJob]]
    sound: str  # the soundtrack's cache key
    frames: int


def _masters(request: RenderRequest, sb: Storyboard, names: list[str]) -> tuple[list[_Master], dict[str, Plan]]:
    """Each master's chains (as :func:`sora_cli.render.shots.plan_jobs` keys them) and one plan per distinct
    soundtrack (by its cache key)."""

    cls = backend_class(request.backend or sb.backend.name)
    sb = overridden(sb, Overrides(backend=request.backend, model=request.model))
    masters, sounds = [], {}
    for name in names:
        plan = make_plan(overridden(sb, Overrides(draft=request.draft, deliverable=name)), request.cameo_dirs)
        film, video = FilmSettings.from_plan(plan), video_settings(plan, request.draft)
        chains = plan_jobs(plan, cls.identity_for(film), cls.generative, video, set(), cls.hears_takes)
        sound = soundtrack_key(plan)
        masters.append(_Master(name, film, video, chains, sound, plan.frames))
        sounds.setdefault(sound, plan)
    return masters, sounds


@dataclass
class Shared:
    """What the shared phase did: chains drawn, soundtracks mixed, and per master the shots it did not
    need drawn for itself (cached before, or drawn for a master earlier in the list)."""

    chains: int = 0
    soundtracks: int = 0
    reused: dict[str, list[str]] = field(default_factory=dict)
    soundtrack: dict[str, str] = field(default_factory=dict)  # master -> its soundtrack's cache key
    frames: dict[str, int] = field(default_factory=dict)  # master -> its length in frames


def make_shared_work(request: RenderRequest, sb: Storyboard, names: list[str], progress: Progress) -> Shared:
    """Draw every master's missing shots and mix every distinct soundtrack into the cache, in one pool.

    A shot drawn for one master is not drawn again for another (equal keys: equal content and size), and
    the masters' chains keep all ``jobs`` workers busy together instead of one master's few chains at a
    time. Each master's :func:`render_film` then finds its picture and sound in the cache and only
    assembles, signs and checks. Only an optimisation: what it leaves undone, render_film does itself.
    """

    backend = request.backend or sb.backend.name
    cls = backend_class(backend)
    makes_sound = (
        cls.model_audio.__func__ is not Backend.model_audio.__func__
    )  # a model's own sound: the mix waits for its picture
    if not request.use_cache or request.ray is not None or makes_sound:
        return Shared()
    check_signing()  # made once here (not raced for by masters signing at once), and checked before drawing
    masters, sounds = _masters(request, sb, names)
    cache = ShotCache(request.cache_dir or masters[0].film.base_dir / CACHE_DIR_NAME)  # as render_film finds it
    work: dict[tuple[str, ...], tuple[int, list[ShotJob]]] = {}
    seen = {job.key for m in masters for chain in m.chains for job in chain if cache.has(job.key)}
    reused: dict[str, list[str]] = {}
    for i, master in enumerate(masters):
        reused[master.name] = [job.shot.id for chain in master.chains for job in chain if job.key in seen]
        for chain in master.chains:
            keys = tuple(job.key for job in chain)
            seen.update(keys)
            if keys not in work and not all(cache.has(k) for k in keys):
                work[keys] = (i, chain)
    mixes = [plan for plan in sounds.values() if not soundtrack_stored(plan, cache)]
    keyed = {"soundtrack": {m.name: m.sound for m in masters}, "frames": {m.name: m.frames for m in masters}}
    if not work and not mixes:
        return Shared(reused=reused, **keyed)
    progress.stage("shared picture and sound", len(work) + len(mixes))
    context = pool_context()
    films = [m.film for m in masters]
    with (
        ProcessPoolExecutor(
            max(1, request.jobs),
            mp_context=context,
            initializer=_open_shared,
            initargs=(backend, films, cache.root, os.getpid()),
        ) as pool,
        render_scratch() as scratch,
    ):
        # master by master (a worker keeps one backend open, see _draw_shared), the longest chains first
        order = sorted(work.values(), key=lambda item: (item[0], -sum(job.shot.frames for job in item[1])))
        pending: set[Future[Any]] = {
            pool.submit(_mix_shared, plan, scratch / f"mix-{k}.m4a") for k, plan in enumerate(mixes)
        }
        pending |= {pool.submit(_draw_shared, i, chain, masters[i].video) for i, chain in order}
        try:
            for future in as_completed(pending):
                future.result()
                progress.stage_advanced(1)
        except BaseException:
            stop_workers(pool)
            raise
    return Shared(len(work), len(mixes), reused, **keyed)


_shared: dict[str, Any] = {}


def _open_shared(backend_name: str, films: list[FilmSettings], cache_root: Path, parent: int) -> None:
    worker_init(parent)
    _shared.update(backend_name=backend_name, films=films, cache=ShotCache(cache_root), open={})


def _draw_shared(film_index: int, chain: list[ShotJob], video: VideoSettings) -> None:
    """One chain, with the backend open for its master's film: one backend at a time in a worker (a
    generative one holds a model), closed and opened again when the film changes."""
    opened = _shared["open"]
    if film_index not in opened:
        for previous in opened.values():
            previous.close()
        opened.clear()
        backend = backend_class(_shared["backend_name"])()
        backend.open(_shared["films"][film_index])
        opened[film_index] = backend
    run_busy(render_chain, chain, opened[film_index], _shared["cache"], video, NullProgress())


def _mix_shared(plan: Plan, out_path: Path) -> None:

    run_busy(cached_soundtrack, plan, _shared["cache"], out_path)
