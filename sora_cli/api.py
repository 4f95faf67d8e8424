"""The Python API: the front door behind every ``sora`` command.

Notebooks, CI scripts and workers call these functions; ``sora_cli.cli`` only
parses arguments, calls one of them and prints what it returns. Each returns
a typed result (a dataclass, a :class:`Plan`, a report dict where the report
is a file format) and raises :class:`~sora_cli.errors.StoryboardError` for
bad input (every problem, located), :class:`~sora_cli.errors.UsageError` for a
bad request and :class:`~sora_cli.errors.SoraError` when a tool fails.

A render from Python::

    from sora_cli import api

    report = api.render(api.RenderRequest("storyboards/polar.yaml", draft=True))
    print(report["output"]["file"], report["sound"]["loudness_lufs"])

Start-up latency: this module is imported by every ``sora`` command, even
``sora --version``, so it imports the stages (film, plan, qc, render, watch,
...) inside the function that needs them, not at the top. This is the one
documented exception to "imports at the top" (``sora_cli.cli`` shares it):
a light command must not pay for scipy, OpenCV, Skia or PyAV. The names it
re-exports from the stages (``RenderRequest``, ``Plan``, ``Watch``, ...) are
resolved on first use by the module's ``__getattr__``;
``tests/test_startup.py`` holds the line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from importlib import import_module, resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sora_cli.atomic import SYMLINK_LOOP, atomic_write_text, symlink_loop
from sora_cli.errors import Problem, StoryboardError, UsageError, did_you_mean
from sora_cli.progress import Progress
from sora_cli.sound_catalog import EFFECTS

if TYPE_CHECKING:
    from sora_cli.film import RenderRequest
    from sora_cli.plan.model import Plan
    from sora_cli.provenance import ManifestSummary, Verification
    from sora_cli.qc.result import QcResult
    from sora_cli.render.ray_executor import RayExecutor
    from sora_cli.schema import SCHEMA_FILE
    from sora_cli.storyboard import Storyboard
    from sora_cli.watch import Update, Watch, describe

#: names offered here but defined in a stage, loaded on first use (see the module docstring)
_LAZY = {
    "SCHEMA_FILE": "sora_cli.schema",
    "Plan": "sora_cli.plan.model",
    "RayExecutor": "sora_cli.render.ray_executor",
    "RenderRequest": "sora_cli.film",
    "Update": "sora_cli.watch",
    "Watch": "sora_cli.watch",
    "describe": "sora_cli.watch",
}


def __getattr__(name: str) -> Any:
    """``api.RenderRequest`` and the other re-exported names, imported when first asked for."""
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SCHEMA_FILE",
    "CacheInfo",
    "Plan",
    "Provenance",
    "RayExecutor",
    "RenderRequest",
    "Update",
    "Validation",
    "Watch",
    "board",
    "cache",
    "cameo_add",
    "cameo_list",
    "cameo_revoke",
    "cameo_show",
    "deliverables_folder",
    "describe",
    "doctor",
    "doctor_model",
    "export_fountain",
    "import_fountain",
    "import_summary",
    "init",
    "load",
    "plan",
    "qc",
    "render",
    "render_deliverables",
    "schema",
    "sound",
    "sounds",
    "validate",
    "verify",
    "voices",
    "write_text",
]


# --- storyboards ---------------------------------------------------------------------------------


def _storyboard(path: Any) -> str | Path:
    """A storyboard argument checked: a path (``str``, ``Path``) or ``-`` for stdin, else a usage error."""
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"storyboard must be a path (str or Path) or '-', not {type(path).__name__}")
    return path if isinstance(path, str) else Path(path)


def _backend(backend: Any, model: Any = None) -> None:
    """``backend`` (a name or a backend class) and ``model`` (a string) checked, else a usage error."""
    if backend is not None and not isinstance(backend, (str, type)):
        raise UsageError(f"backend must be a name or a backend class, not {type(backend).__name__}")
    if model is not None and not isinstance(model, str):
        raise UsageError(f"model must be a string (a folder or a hub id), not {type(model).__name__}")


def load(
    path: str | Path, cameo_dirs: Path | None = None, policy: Path | None = None, allow_assets: tuple[Path, ...] = ()
) -> Storyboard:
    """Load and check a storyboard (``-`` reads stdin); ``policy`` replaces the default content policy."""
    from sora_cli.storyboard import load_storyboard

    return load_storyboard(_storyboard(path), cameo_dirs, policy, allow_assets)


def plan(
    path: str | Path,
    cameo_dirs: Path | None = None,
    policy: Path | None = None,
    backend: str | type | None = None,
    model: str | None = None,
    allow_assets: tuple[Path, ...] = (),
    deliverable: str | None = None,
) -> Plan:
    """Load, check and resolve a storyboard into its :class:`Plan`, with the render's preflight
    (``deliverable``: the plan of that entry of its ``deliverables:``).

    What ``sora validate`` accepts, ``sora render`` draws: the same checks of the
    backend (``backend``/``model`` as ``--backend``/``--model`` override them)
    and of every asset run here and before a render (:mod:`sora_cli.preflight`).
    """
    from sora_cli.plan.resolve import make_plan
    from sora_cli.preflight import preflight
    from sora_cli.storyboard import load_storyboard
    from sora_cli.storyboard.overrides import Overrides, overridden

    _backend(backend, model)
    sb = overridden(
        load_storyboard(_storyboard(path), cameo_dirs, policy, allow_assets), Overrides(backend=backend, model=model)
    )
    preflight(sb, cameo_dirs, backend)
    return make_plan(overridden(sb, Overrides(deliverable=deliverable)), cameo_dirs)


@dataclass
class Validation:
    """``sora validate``: every problem of every file (none: all valid)."""

    files: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def validate(
    files: str | Path | list[str] | list[Path],
    cameo_dirs: Path | None = None,
    policy: Path | None = None,
    backend: str | None = None,
    model: str | None = None,
    allow_assets: tuple[Path, ...] = (),
) -> Validation:
    """Check storyboards as a render would before drawing; the problems of all of them, not only the first.

    ``files``: one storyboard (a ``str`` or ``Path``) or a list of them.
    """
    from sora_cli.preflight import preflight
    from sora_cli.storyboard import load_storyboard
    from sora_cli.storyboard.overrides import Overrides, overridden

    if isinstance(files, (str, os.PathLike)):
        files = [files]
    _backend(backend, model)
    result = Validation([str(_storyboard(file)) for file in files])
    for file in files:
        try:
            sb = overridden(
                load_storyboard(_storyboard(file), cameo_dirs, policy, allow_assets),
                Overrides(backend=backend, model=model),
            )
            preflight(sb, cameo_dirs, backend)
        except StoryboardError as exc:
            result.problems.extend(exc.problems)
            continue
        result.problems.extend(plan_problems(sb, cameo_dirs))
    return result


def plan_problems(sb: Storyboard, cameo_dirs: Path | None = None) -> list[Problem]:
    """Every problem of planning the film and each of its ``deliverables:`` (its language, cut and frame):
    a translation too long for a fixed-length shot is found here, not when that master renders. A
    deliverable's problems name it; one the film has too is said once."""
    from sora_cli.plan.resolve import make_plan
    from sora_cli.storyboard.overrides import Overrides, overridden

    problems: list[Problem] = []
    try:
        make_plan(sb, cameo_dirs)
    except StoryboardError as exc:
        problems.extend(exc.problems)
    film = set(problems)
    for d in sb.deliverables:
        try:
            make_plan(overridden(sb, Overrides(deliverable=d.name)), cameo_dirs)
        except StoryboardError as exc:
            for p in exc.problems:
                if p in film:
                    continue
                if f"deliverable {d.name!r}" not in p.message:
                    p = dataclasses.replace(p, message=f"deliverable {d.name!r}: {p.message}")
                problems.append(p)
    return problems


def schema() -> str:
    """The storyboard JSON Schema (for editors)."""
    from sora_cli.schema import schema_text

    return schema_text()


def init(directory: Path, force: bool = False) -> Path:
    """A storyboard project in ``directory``: a commented storyboard, ``assets/`` and the schema; the storyboard."""
    from sora_cli.schema import SCHEMA_FILE, schema_text

    target = directory / "storyboard.yaml"
    if symlink_loop(directory):
        raise UsageError(f"{directory}: {SYMLINK_LOOP}")
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite it)")
    try:
        (directory / "assets").mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (a file where a folder must go, a folder sora may not write in)
        raise UsageError(f"{directory}: cannot make the project's folders ({exc.strerror})") from None
    starter = resources.files("sora_cli.templates").joinpath("starter.yaml").read_text(encoding="utf-8")
    atomic_write_text(target, starter)
    atomic_write_text(directory / SCHEMA_FILE, schema_text())
    return target


# --- films ---------------------------------------------------------------------------------------


def render(request: RenderRequest, progress: Progress | None = None) -> dict[str, Any]:
    """Render a film; the report (``NAME.report.json``, also written beside the film)."""
    from sora_cli.film import render_film

    return render_film(request, progress)


def render_deliverables(
    request: RenderRequest, names: list[str], folder: Path | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Render masters of the storyboard's ``deliverables:`` (all when ``names`` is empty) into ``folder``.

    Returns the manifest written as ``folder/deliverables.json`` (there, the storyboard's file is relative to
    the folder; here it is absolute).
    """
    from sora_cli.masters import default_folder, render_masters

    return render_masters(request, list(names), folder or default_folder(request.storyboard), progress)


def deliverables_folder(storyboard: str | Path) -> Path:
    """Where :func:`render_deliverables` writes when not told: a folder named for the storyboard, beside it."""
    from sora_cli.masters import default_folder

    return default_folder(storyboard)


def board(
    path: str | Path,
    output: Path = Path("board.png"),
    backend: str | None = None,
    cameo_dirs: Path | None = None,
    allow_assets: tuple[Path, ...] = (),
) -> Path:
    """The storyboard sheet (PNG or PDF): a key frame per shot with its timing, camera, cast and words."""
    from sora_cli.board import make_board

    the_plan = plan(path, cameo_dirs, backend=backend, allow_assets=allow_assets)
    return make_board(the_plan, the_plan.backend.name, output)


def qc(film: str | Path, profile: str | None = None, storyboard: str | Path | None = None,
       cameo_dirs: Path | None = None, deliverable: str | None = None) -> QcResult:  # fmt: skip
    """``sora qc``: the film checked against ``profile`` (default: the storyboard's, else web).

    With ``storyboard`` the checks know the film's plan (its fades and title cards are not defects);
    ``deliverable``: the plan of that entry of its ``deliverables:``.
    """
    from sora_cli.qc import profile_for, run_qc

    the_plan = plan(storyboard, cameo_dirs, deliverable=deliverable) if storyboard is not None else None
    return run_qc(Path(film), profile_for(profile, the_plan, Path.cwd()), the_plan)


@dataclass
class Provenance:
    """``sora verify``: the manifest's validation and, when there is one, what it says."""

    film: Path
    verification: Verification
    summary: ManifestSummary | None

    @property
    def ok(self) -> bool:
        return self.verification.ok


def verify(film: Path) -> Provenance:
    """Read and validate a film's C2PA manifest."""
    from sora_cli.provenance import verify as check

    if not Path(film).is_file():
        raise UsageError(f"{film}: no such file")
    result = check(Path(film))
    return Provenance(Path(film), result, result.summary())


# --- sounds, cameos, screenplays, the cache, the installation -----------------------------------------


def sounds() -> dict[str, str]:
    """The built-in sound effects: name -> what it sounds like."""
    return dict(EFFECTS)


def sound(name: str, target: Path | None = None) -> Path:
    """Write built-in sound ``name`` to a WAV file (default ``NAME.wav``); the file."""
    from sora_cli.audio_files import write_wav
    from sora_cli.sound.effects import effect

    if name not in EFFECTS:
        raise UsageError(f"no built-in sound {name!r}{did_you_mean(name, EFFECTS)} (`sora sounds` lists them)")
    target = Path(target or f"{name}.wav")
    if not target.parent.is_dir():  # never a folder sora was not asked for
        raise UsageError(f"{target}: folder {target.parent} does not exist")
    write_wav(target, effect(name))
    return target


def cameo_add(
    name: str,
    capture: Path,
    consent_by: str,
    library: Path | None = None,
    expires: dt.date | str | None = None,
) -> dict[str, Any]:
    """Make cameo ``name`` from a capture video with the consent of ``consent_by``; its record."""
    from sora_cli.cameo.capture import add_cameo
    from sora_cli.cameo.library import cameo_name, default_library, read_record

    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise UsageError(f"--expires {expires!r} is not a date (YYYY-MM-DD)") from None
    folder = add_cameo(cameo_name(name), capture, consent_by, library or default_library(), expires)
    return {**read_record(folder / "cameo.json"), "folder": str(folder)}


def cameo_list(library: Path | None = None) -> list[dict[str, Any]]:
    """The cameos in ``library`` with their consent state (``usable`` or why not)."""
    from sora_cli.cameo.library import default_library, list_cameos

    return list_cameos(library or default_library())


def cameo_show(name: str, library: Path | None = None) -> str:
    """Cameo ``name``'s record as stored (JSON text)."""
    from sora_cli.cameo.library import cameo_record_text, default_library

    return cameo_record_text(name, library or default_library())


def cameo_revoke(name: str, library: Path | None = None) -> Path:
    """Withdraw consent: the likeness and voice are deleted, a tombstone stays; the cameo's folder."""
    from sora_cli.cameo.capture import revoke_cameo
    from sora_cli.cameo.library import cameo_name, default_library

    return revoke_cameo(cameo_name(name), library or default_library())


def import_fountain(
    script: str, output: Path | None = None, policy: Path | None = None, allow_assets: tuple[Path, ...] = ()
) -> str:
    """The storyboard text of a Fountain screenplay (``-`` reads stdin), checked as ``sora validate`` checks.

    ``output`` is where the storyboard will live: asset paths are resolved from its folder.
    """
    from sora_cli.screenplay.files import read_script
    from sora_cli.screenplay.importer import import_fountain as breakdown

    raw, name, _ = read_script(script)
    base = output.resolve().parent if output else Path.cwd()
    return breakdown(raw, name, base, policy, allow_assets)


def import_summary(storyboard: str) -> str:
    """``3 scenes, 12 shots, 30 lines`` of an imported storyboard's text."""
    from sora_cli.screenplay.importer import summary

    return summary(storyboard)


def write_text(text: str, output: Path, force: bool = False) -> Path:
    """Write an imported storyboard or exported screenplay to ``output`` (an existing file only with ``force``)."""
    if output.exists() and not force:
        raise UsageError(f"{output} already exists (use --force to replace it)")
    if output.exists() and not output.is_file():
        raise UsageError(f"{output} is not a file")
    atomic_write_text(output, text)
    return output


def export_fountain(path: str | Path, output: Path | None = None, cameo_dirs: Path | None = None) -> str:
    """A storyboard as a Fountain screenplay; asset paths rewritten for ``output``'s folder."""
    from sora_cli.screenplay.export import export_fountain as write
    from sora_cli.storyboard import load_storyboard

    folder = output.resolve().parent if output else Path.cwd()
    return write(load_storyboard(path, cameo_dirs), folder)


@dataclass
class CacheInfo:
    """``sora cache``: where the cache is, its size and bound, and what a prune or clear removed."""

    cache: Path
    bytes: int
    entries: int
    bound: int
    freed_bytes: int = 0
    removed: int = 0


def cache_root(where: Path) -> Path:
    """The cache of a storyboard, of a folder holding ``.sora-cache``, or a cache folder itself."""
    from sora_cli.film import CACHE_DIR_NAME

    root = where.parent / CACHE_DIR_NAME if where.is_file() else where
    if (root / CACHE_DIR_NAME).is_dir():
        root = root / CACHE_DIR_NAME
    if not root.is_dir():
        raise UsageError(f"no cache at {root}")
    return root


def check_cache_size(text: str | None) -> str | None:
    """A ``--cache-size`` checked up front (a usage error), returned as written."""
    from sora_cli.render.cache import parse_size

    if text is not None:
        try:
            parse_size(text)
        except ValueError as exc:
            raise UsageError(f"--cache-size: {exc}") from None
    return text


def cache(where: Path = Path("."), prune: bool = False, clear: bool = False, size: str | None = None) -> CacheInfo:
    """The cache's size and entries; ``prune`` evicts least recently used entries down to the bound, ``clear`` all."""
    from sora_cli.render.cache import cache_size_limit, usage
    from sora_cli.render.cache import prune as prune_cache

    root = cache_root(where)
    limit = cache_size_limit(check_cache_size(size))
    freed = removed = 0
    if prune or clear:
        freed, removed = prune_cache(root, 0 if clear else limit)
    total, count = usage(root)
    return CacheInfo(root, total, count, limit, freed, removed)


def doctor(diffusers: bool = False) -> list[tuple[str, bool | None, str]]:
    """The installation's parts as (part, ok, details): ok None for an optional part that is missing."""
    from sora_cli.doctor import checks, diffusers_smoke_test

    results = checks()
    if diffusers:
        works, detail = diffusers_smoke_test()
        results.append(("diffusers backend", works, detail))
    return results


def doctor_model(model: str, storyboard: str | None = None, device: str | None = None) -> dict[str, Any]:
    """What a diffusers model folder is and needs (no weights loaded), at a storyboard's size when given."""
    from sora_cli.doctor import model_report

    return model_report(model, storyboard, device)


def voices() -> tuple[list[str], list[str]]:
    """The speech engine's voices and its voice variants (``voice+variant``)."""
    from sora_cli.speech.engine import EspeakEngine

    engine = EspeakEngine()
    return list(engine.voice_names()), list(engine.variant_names())
