"""The ``sora`` command line: parse arguments, call the API, print.

Every command funnels errors through :func:`_guard` so the exit codes are the
same everywhere: 0 ok, 1 internal or tool failure (one line), 2 bad input or
usage (``FILE:LINE:COL: path: message``), 130 interrupted. Tracebacks only
with ``--debug``.

Start-up latency: every command imports this module, so it reaches the stages
only through :mod:`sora_cli.api`, which imports them inside the function that
needs them (a documented exception to "imports at the top"; see the README's
layout section); anything heavy this module needs is imported in the command.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from sora_cli import __version__, api, json_text
from sora_cli.errors import SoraError, StoryboardError, UsageError, detail_lines, internal_error, one_line

DEBUG = "--debug"


class _Commands(TyperGroup):
    """sora's commands. ``--debug`` is an option of ``sora`` itself, but the hint of an internal error and habit
    put it after the command (``sora render film.yaml --debug``): there it is moved to the front before parsing
    (never an argument after ``--``), so it works in both places."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        head = args.index("--") if "--" in args else len(args)
        if DEBUG in args[1:head]:
            args = [DEBUG, *(a for i, a in enumerate(args) if not (a == DEBUG and i < head))]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_Commands,
    name="sora",
    help="Turn a YAML storyboard into a finished film: picture, dialogue, sound and subtitles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

_state = {"debug": False}


class _StdoutConsole(Console):
    def on_broken_pipe(self) -> None:
        """The reader went away (`sora plan x | head -1`): exit 141 like any tool killed by SIGPIPE, not 1."""
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(141)


def _stdout() -> Console:
    return _StdoutConsole(highlight=False, soft_wrap=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"sora: {one_line(message)}\n")
    raise typer.Exit(code)


@contextmanager
def _guard() -> Iterator[None]:
    """Map every failure to its exit code and one readable message."""
    try:
        yield
    except StoryboardError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        n = len(exc.problems)
        sys.stderr.write(f"sora: {n} problem{'s' if n != 1 else ''}; nothing was rendered\n")
        raise typer.Exit(2) from None
    except UsageError as exc:
        _fail(str(exc), 2)
    except SoraError as exc:  # a tool failed: its headline, then the tool's stderr lines (each one line)
        head, *tail = detail_lines(str(exc))
        sys.stderr.write(f"sora: {head}\n" + "".join(f"  {line}\n" for line in tail))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        sys.stderr.write("sora: interrupted\n")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, BrokenPipeError):
        raise  # a closed stdout is the reader's choice, not a bug: see run()
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if _state["debug"]:
            raise
        _fail(internal_error(exc), 1)


def _version(value: bool) -> None:
    if value:
        print(f"sora {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[
        bool, typer.Option(DEBUG, help="Show tracebacks for internal errors (also taken after the command).")
    ] = False,
) -> None:
    """[bold]sora[/] renders storyboards into films.

    Examples:

      sora init my-film && cd my-film && sora render storyboard.yaml

      sora validate storyboards/*.yaml

      cat storyboard.yaml | sora plan - --json | jq '.shots[].start'
    """
    _state["debug"] = debug


CORES = os.cpu_count() or 1  # --jobs default
BackendOption = Annotated[str | None, typer.Option("--backend", help="Backend to draw with (default: the storyboard's).")]
JobsOption = Annotated[
    int, typer.Option("--jobs", "-j", min=1, help="Continuity chains rendered in parallel (default: the number of cores).")
]
CacheDirOption = Annotated[
    Path | None, typer.Option("--cache-dir", help="Shot cache (default: .sora-cache beside the storyboard).")
]
CacheSizeOption = Annotated[
    str | None,
    typer.Option(
        "--cache-size", help="Bound of the cache, least recently used out first (default: $SORA_CACHE_SIZE or 4G)."
    ),
]
CameoOption = Annotated[
    Path | None, typer.Option("--cameos", help="Cameo library folder (default: cameos/ beside the storyboard).")
]
AllowAssetsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-assets",
        help="A folder outside the storyboard's that assets may come from (repeat for several).",
        metavar="DIR",
    ),
]
PolicyOption = Annotated[
    Path | None,
    typer.Option(
        "--policy", help="Content policy file replacing the default (see sora_cli/storyboard/policy/default.yaml)."
    ),
]


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Storyboard files; - reads stdin.", metavar="FILE...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the errors as JSON objects on stdout.")] = False,
    cameos: CameoOption = None,
    policy: PolicyOption = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Check as `render --backend NAME` would draw.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Check as `render --model MODEL` would load.")] = None,
    allow_assets: AllowAssetsOption = None,
) -> None:
    """Check storyboards against every rule of the format and everything a render checks before drawing
    (backend, options, model, every asset decodes); exit 2 if any breaks one.

    Examples:

      sora validate storyboard.yaml

      sora validate --json storyboards/*.yaml | jq '.errors[].message'
    """
    with _guard():
        problems = api.validate(files, cameos, policy, backend, model, tuple(allow_assets or ())).problems
    if as_json:
        print(json_text.dumps({"valid": not problems, "files": files, "errors": [p.to_json() for p in problems]}, indent=2))
    else:
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        if not problems:
            _stderr().print(f"[green]ok[/] {len(files)} storyboard{'s' if len(files) != 1 else ''} valid")
    if problems:
        raise typer.Exit(2)


@app.command("plan")
def plan_command(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole resolved plan as JSON.")] = False,
    cameos: CameoOption = None,
    allow_assets: AllowAssetsOption = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Plan as `render --backend NAME` would draw.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Plan as `render --model MODEL` would load.")] = None,
) -> None:
    """Show every shot as it will be rendered: world, timing, cast, prompt.

    Examples:

      sora plan storyboard.yaml

      sora plan storyboard.yaml --json | jq '.shots[] | {id, start, duration}'

      sora plan storyboard.yaml --backend animatic --json | jq .backend
    """
    with _guard():
        plan = api.plan(file, cameos, backend=backend, model=model, allow_assets=tuple(allow_assets or ()))
    if as_json:
        print(json_text.dumps(plan.summary(), indent=2, ensure_ascii=False))
        return
    _print_plan(plan)


def _print_plan(plan: api.Plan) -> None:
    console = _stdout()
    table = Table(
        title=f"{escape(plan.title)}: {len(plan.shots)} shots, {plan.duration:.2f} s, {plan.width}x{plan.height} @ {plan.fps} fps",
        show_lines=True,
    )
    for column, kw in (
        ("#", {"justify": "right", "no_wrap": True}),
        ("shot", {"no_wrap": True}),
        ("start", {"justify": "right", "no_wrap": True}),
        ("dur", {"justify": "right", "no_wrap": True}),
        ("enters by", {"no_wrap": True}),
        ("cast", {}),
        ("world", {}),
        ("camera", {}),
        ("prompt", {"ratio": 1}),
    ):
        table.add_column(column, **kw)  # type: ignore[arg-type]
    for shot in plan.shots:
        enters = "continue" if shot.continuity == "continue" else shot.transition.type
        if shot.transition.frames:
            enters += f" {shot.transition.duration:g}s"
        world = shot.world
        table.add_row(
            str(shot.index),
            escape(shot.id),
            f"{shot.start:.2f}",
            f"{shot.duration:.2f}",
            enters,
            escape(", ".join(shot.cast)) or "-",
            escape(f"{world.time_of_day}, {world.weather}\n{world.lighting}"),
            f"{shot.camera.framing}\n{shot.camera.move}",
            escape(shot.prompt),
        )
    console.print(table)


@app.command()
def schema() -> None:
    """Print the storyboard JSON Schema (for editors: yaml-language-server).

    Example:

      sora schema > storyboard.schema.json
    """
    sys.stdout.write(api.schema())


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new project.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing storyboard.yaml.")] = False,
) -> None:
    """Start a storyboard project: a commented storyboard, assets/, and the schema for your editor.

    Example:

      sora init my-film && sora render my-film/storyboard.yaml
    """
    with _guard():
        target = api.init(directory, force)
    _stderr().print(
        f"[green]created[/] {escape(str(target))}, {escape(str(directory / api.SCHEMA_FILE))} and assets/\n"
        f"next: sora render {escape(str(target))}"
    )


@app.command()
def render(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The film (default: FILE's name with .mp4, beside it).")
    ] = None,
    backend: BackendOption = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model folder or hub id for a generative backend (default: backend.model)."),
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Fast preview: quarter resolution, 12 fps, fastest encode.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Re-render these shots (and the continue shots after them); repeat or comma-separate.",
            metavar="SHOT_ID",
        ),
    ] = None,
    jobs: JobsOption = CORES,
    cache_dir: CacheDirOption = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the shot cache.")] = False,
    cache_size: CacheSizeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    otio: Annotated[bool, typer.Option("--otio", help="Also write an OpenTimelineIO timeline (FILM.otio).")] = False,
    cameos: CameoOption = None,
    policy: PolicyOption = None,
    allow_assets: AllowAssetsOption = None,
    executor: Annotated[
        str, typer.Option("--executor", help="Where chains render: local (worker processes) or ray (a Ray cluster).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="The cluster to use (host:port, ray://host:port or auto); default: a local one."
        ),
    ] = None,
    ray_actors: Annotated[
        int, typer.Option("--ray-actors", min=1, help="Actors (backend instances) on the cluster.")
    ] = 2,
    ray_gpus: Annotated[
        float, typer.Option("--ray-gpus-per-actor", min=0, help="GPUs each actor reserves (one model per GPU).")
    ] = 0.0,
    no_qc: Annotated[
        bool, typer.Option("--no-qc", help="Skip the delivery checks (sora qc) on the written film.")
    ] = False,
    deliverable: Annotated[
        list[str] | None,
        typer.Option(
            "--deliverable", help="Render this entry of deliverables: (repeatable) into the -o folder.", metavar="NAME"
        ),
    ] = None,
    all_deliverables: Annotated[
        bool, typer.Option("--all-deliverables", help="Render every deliverable into -o DIR (DIR/NAME.mp4).")
    ] = False,
) -> None:
    """Render a storyboard into a film: picture, dialogue, sound and subtitles.

    Writes FILM.mp4, FILM.report.json and, per output.subtitles, FILM.srt/.vtt.
    Shots are cached by content: a re-render only redraws what changed.
    The film is then checked against its delivery profile (output.profile, as
    sora qc does): exit 3 when it is out of spec (the film stays), unless --no-qc.

    Examples:

      sora render storyboards/polar.yaml

      sora render ad.yaml --draft -o preview.mp4

      sora render ad.yaml --only end-card --json | jq .rendered
    """
    from sora_cli.progress_ui import choose

    with _guard():
        if deliverable and all_deliverables:
            raise UsageError("--deliverable and --all-deliverables: give one (--all-deliverables renders every entry)")
        request = api.RenderRequest(
            storyboard=file,
            output=output,
            backend=backend,
            model=model,
            draft=draft,
            only=tuple(s.strip() for item in (only or []) for s in item.split(",") if s.strip()),
            jobs=jobs,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            otio=otio,
            cameo_dirs=cameos,
            policy=policy,
            ray=_ray_executor(executor, ray_address, ray_actors, ray_gpus),
            qc=not no_qc,
            allow_assets=tuple(allow_assets or ()),
            cache_size=api.check_cache_size(cache_size),
        )
        progress = choose(quiet or (as_json and not sys.stderr.isatty()))
        with _stops_cleanly():
            if deliverable or all_deliverables:
                _render_masters(request, deliverable or [], output, progress, as_json, quiet)
                return
            if hasattr(progress, "__enter__"):
                with progress:  # type: ignore[attr-defined]
                    report = api.render(request, progress)
            else:
                report = api.render(request, progress)
    if as_json:
        print(json_text.dumps(report, indent=2, ensure_ascii=False))
    elif not quiet:
        out = report["output"]
        reused = len(report["reused"])
        _stderr().print(
            f"[green]wrote[/] {escape(out['file'])}  {out['duration']:.2f} s, {out['width']}x{out['height']} @ {out['fps']} fps, "
            f"{_loudness(report['sound'])}, {reused}/{len(report['shots'])} shots reused"
            + (f", passes {escape(report['qc']['profile'])}" if report.get("qc", {}).get("passed") else "")
        )
    qc = report.get("qc")
    if qc and not qc["passed"]:
        if not as_json and not quiet:
            print_qc(_stderr(), qc)
        _fail(f"{report['output']['file']} is out of spec for {qc['profile']} (sora qc); the film is kept", QC_FAILED)


def _absolute(path: str, base: str = "") -> str:
    """``path`` (relative to ``base``, else to the current folder) as an absolute path; stdin (``-``) stays."""
    return path if path == "-" else os.path.abspath(os.path.join(base, path))


def _absolute_manifest(manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The masters' manifest as ``--json`` prints it: each master's files (relative to ``folder`` in
    ``deliverables.json``) absolute, as the storyboard's file already is."""
    entries = [
        {**e, "file": _absolute(e["file"], str(folder)), "outputs": {k: _absolute(v, str(folder)) for k, v in out.items()}}
        for e in manifest["deliverables"]
        for out in [e.get("outputs", {})]
    ]
    return {**manifest, "deliverables": entries}


def _loudness(sound: dict[str, Any]) -> str:
    """The soundtrack's measured loudness as the summary line says it (a silent one has none)."""
    if sound.get("loudness_lufs") is None:
        return "silent soundtrack" if sound.get("silent") else "loudness under the gate"
    return f"{sound['loudness_lufs']} LUFS"


@app.command()
def watch(
    file: Annotated[str, typer.Argument(help="Storyboard file to watch.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The film (default: FILE's name with .draft.mp4, beside it).")
    ] = None,
    backend: BackendOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Render at the storyboard's own size and quality instead of a draft.")
    ] = False,
    jobs: JobsOption = CORES,
    cache_dir: CacheDirOption = None,
    cache_size: CacheSizeOption = None,
    qc: Annotated[bool, typer.Option("--qc", help="Run the delivery checks (sora qc) on every update.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per update on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    cameos: CameoOption = None,
    policy: PolicyOption = None,
    allow_assets: AllowAssetsOption = None,
) -> None:
    """Render a draft, then render it again whenever the storyboard or one of its assets is saved.

    Only what an edit touches is redrawn (the other shots and the sound come from
    the cache). Each update says what changed and how long it took; a storyboard
    error is printed and the last good film stays. The film is replaced whole,
    so a player pointed at it never sees half a file. Ctrl-C stops (exit 130).

    Examples:

      sora watch storyboards/polar.yaml

      sora watch ad.yaml -o preview.mp4 --json | jq .seconds
    """

    made = False  # whether an update has made a film yet (before, there is no last good film to keep)

    def report(update: api.Update) -> None:
        nonlocal made
        if as_json:
            print(json_text.dumps(update.to_json(), ensure_ascii=False), flush=True)
        made = made or update.ok
        kept = "the last good film stays" if made else "no film yet"
        if update.problems:
            for problem in update.problems:
                sys.stderr.write(f"{problem}\n")
            n = len(update.problems)
            sys.stderr.write(f"sora: {n} problem{'s' if n != 1 else ''}; {kept}, waiting for a fix\n")
        elif update.error:
            sys.stderr.write(f"sora: {update.error}; {kept}, waiting for a change\n")
        elif not quiet and not as_json:
            sys.stderr.write(api.describe(update) + "\n")
        sys.stderr.flush()

    with _guard():
        request = api.RenderRequest(
            storyboard=file,
            output=output,
            backend=backend,
            draft=not full,
            jobs=jobs,
            cache_dir=cache_dir,
            cameo_dirs=cameos,
            policy=policy,
            qc=qc,
            allow_assets=tuple(allow_assets or ()),
            cache_size=api.check_cache_size(cache_size),
        )
        with _stops_cleanly():
            api.Watch(request, report, _state["debug"]).run()


def _render_masters(
    request: Any, names: list[str], output: Path | None, progress: Any, as_json: bool, quiet: bool
) -> None:
    """``--deliverable``/``--all-deliverables``: the masters into a folder, exit 3 when any is out of spec."""
    if hasattr(progress, "__enter__"):
        with progress:
            manifest = api.render_deliverables(request, names, output, progress)
    else:
        manifest = api.render_deliverables(request, names, output, progress)
    folder = output or api.deliverables_folder(request.storyboard)
    if as_json:
        print(json_text.dumps(_absolute_manifest(manifest, folder), indent=2, ensure_ascii=False))
    elif not quiet:
        for e in manifest["deliverables"]:
            if e["name"] not in manifest.get("rendered", [e["name"]]):
                continue
            st, qc = e["settings"], e["qc"]
            verdict = "" if qc is None else f", {'passes' if qc['passed'] else 'FAILS'} {qc['profile']}"
            _stderr().print(
                f"[green]wrote[/] {escape(str(folder / e['file']))}  {st['width']}x{st['height']} @ {st['fps']} fps, "
                f"{st['duration']:.2f} s, {e['bytes']} bytes{verdict}"
            )
    rendered = set(manifest.get("rendered", []))
    failed = [e["name"] for e in manifest["deliverables"] if e["name"] in rendered and e["qc"] and not e["qc"]["passed"]]
    if failed:
        _fail(f"out of spec (sora qc): {', '.join(failed)}; the films are kept", QC_FAILED)


@app.command()
def board(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="board.png or board.pdf")] = Path("board.png"),
    backend: Annotated[str | None, typer.Option("--backend", help="Backend to draw the key frames with.")] = None,
    cameos: CameoOption = None,
    allow_assets: AllowAssetsOption = None,
) -> None:
    """The storyboard sheet for client approval: a key frame per shot, with timing, camera, cast, action and dialogue.

    Examples:

      sora board storyboards/product_ad.yaml -o board.pdf
    """
    with _guard():
        out = api.board(file, output, backend, cameos, tuple(allow_assets or ()))
    _stderr().print(f"[green]wrote[/] {escape(str(out))}")


@app.command()
def sounds(
    play: Annotated[str | None, typer.Option("--play", help="Write this sound to a WAV file.", metavar="NAME")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Where --play writes (default: NAME.wav).")
    ] = None,
) -> None:
    """List the built-in sound effects (use them in `sfx: [{sound: NAME}]`).

    Examples:

      sora sounds

      sora sounds --play thunder -o thunder.wav
    """
    with _guard():
        if play is None:
            effects = api.sounds()
            table = Table(title=f"{len(effects)} built-in sounds", show_header=True)
            table.add_column("name", no_wrap=True)
            table.add_column("sound")
            for name, description in effects.items():
                table.add_row(name, description)
            _stdout().print(table)
            return
        target = api.sound(play, output)
    _stderr().print(f"[green]wrote[/] {escape(str(target))}")


@app.command()
def doctor(
    voices: Annotated[bool, typer.Option("--voices", help="Also list the speech engine's voices.")] = False,
    diffusers: Annotated[
        bool, typer.Option("--diffusers", help="Smoke-test the diffusers backend with a tiny random pipeline.")
    ] = False,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="A diffusers model folder (or cached hub id): what it is and needs, no weights loaded."
        ),
    ] = None,
    film: Annotated[
        str | None, typer.Option("--film", help="With --model: estimate at this storyboard's size and options.")
    ] = None,
    device: Annotated[str | None, typer.Option("--device", help="With --model: cpu | cuda | cuda:N.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The checks (with --model: its report) as JSON.")] = False,
) -> None:
    """Check the installation: ffmpeg, speech engine, backends, torch and GPU.

    Example:

      sora doctor
      sora doctor --model ./LTX-2 --film ad.yaml
    """
    if model is not None:
        with _guard():
            report = api.doctor_model(model, film, device)
            if as_json:
                print(json_text.dumps({"model": {k: v for k, v in report.items() if k != "rows"}}, indent=2))
            else:
                table = Table(show_header=False)
                for part, details in report["rows"]:
                    table.add_row(part, escape(details))
                for problem in report["problems"]:
                    table.add_row("[red]cannot[/]", escape(f"{problem['path']}: {problem['message']}"))
                _stdout().print(table)
        if report["problems"]:
            raise typer.Exit(2)
        return
    with _guard():
        results = api.doctor(diffusers)
        ok = all(good is not False for _, good, _ in results)
        said = {True: "ok", False: "missing", None: "optional"}
        names, variants = api.voices() if voices else ([], [])
        if as_json:  # (a pipeline reads the same parts, statuses and details as the table)
            parts = [{"part": part, "status": said[good], "details": details} for part, good, details in results]
            extra = {"voices": names, "variants": variants} if voices else {}
            print(json_text.dumps({"ok": ok, "parts": parts, **extra}, indent=2))
        else:
            table = Table(show_header=True)
            table.add_column("part", no_wrap=True)
            table.add_column("status", no_wrap=True)
            table.add_column("details")
            colour = {True: "green", False: "red", None: "yellow"}
            for part, good, details in results:
                table.add_row(part, f"[{colour[good]}]{said[good]}[/]", escape(details))
            _stdout().print(table)
            if voices:
                _stdout().print("voices: " + ", ".join(names))
                _stdout().print("variants (voice+variant): " + ", ".join(variants))
    if not ok:
        raise typer.Exit(1)


@app.command("verify")
def verify_command(
    film: Annotated[Path, typer.Argument(help="A film made by sora (or any MP4 with a C2PA manifest).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest and validation as JSON.")] = False,
) -> None:
    """Check a film's provenance: what its C2PA manifest says, and whether it is intact.

    Exits 0 for a valid manifest, 1 for a tampered file or one without a manifest.

    Examples:

      sora verify storyboards/polar.mp4
    """
    with _guard():
        checked = api.verify(film)
    result, summary = checked.verification, checked.summary
    if as_json:
        print(json_text.dumps({"state": result.state, "failures": result.failures, "manifest": result.manifest}, indent=2))
    elif result.manifest is None and result.state == "Invalid":
        _stdout().print(f"[red]Invalid[/]  {escape(str(film))}")
        for failure in result.failures:
            _stdout().print(f"  [red]{'failed':<18}[/] {escape(one_line(failure))}", soft_wrap=True)
    elif result.manifest is None:
        _stderr().print(
            f"[red]no provenance[/]: {escape(str(film))} has no C2PA manifest"
            + (f" ({escape(result.failures[0])})" if result.failures else "")
        )
    else:
        assert summary is not None
        console = _stdout()
        colour = "green" if result.ok else "red"
        console.print(f"[{colour}]{result.state}[/]  {escape(str(film))}")
        console.print(f"  {'title':<18} {escape(summary.title)}")
        for action, source in summary.actions:
            console.print(f"  {'action':<18} {escape(action)} ({escape(source)})")
        for key, value in summary.facts.items():
            console.print(
                f"  {key:<18} {escape(json.dumps(value) if not isinstance(value, str) else value)}", soft_wrap=True
            )
        for failure in result.failures:
            console.print(f"  [red]{'failed':<18}[/] {escape(failure)}", soft_wrap=True)
    if not result.ok:
        raise typer.Exit(1)


QC_FAILED = 3  # the film was written but is out of spec for its delivery profile


@app.command("qc")
def qc_command(
    film: Annotated[Path, typer.Argument(help="An MP4 or MOV (made by sora or not).")],
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="web, ebu-r128, ebu-r128-s1, atsc-a85, social-9x16, social-1x1, or a profile .yaml file."
        ),
    ] = None,
    plan_file: Annotated[
        str | None,
        typer.Option(
            "--plan", help="The film's storyboard: its fades and title cards are not defects.", metavar="STORYBOARD"
        ),
    ] = None,
    deliverable: Annotated[
        str | None,
        typer.Option("--deliverable", help="With --plan: the entry of its deliverables: this film is.", metavar="NAME"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON on stdout.")] = False,
    cameos: CameoOption = None,
) -> None:
    """Check a film against a delivery profile: loudness, true peak, picture, container and captions.

    Exits 0 when every check passes, 3 when the film is out of spec, 2 for bad input.
    The profile is --profile, else the --plan storyboard's output.profile, else web.

    Examples:

      sora qc film.mp4

      sora qc ad.mp4 --profile ebu-r128-s1 --plan ad.yaml

      sora qc masters/vertical-9x16.mp4 --plan campaign.yaml --deliverable vertical-9x16

      sora qc film.mp4 --json | jq '.checks[] | select(.passed | not)'
    """
    with _guard():
        if deliverable and not plan_file:
            raise UsageError("--deliverable names an entry of the --plan storyboard's deliverables: give --plan too")
        try:
            result = api.qc(film, profile, plan_file, cameos, deliverable)
        except StoryboardError as exc:  # the --plan storyboard's problems: nothing was checked (not rendered)
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
            _fail(f"the --plan storyboard has {len(exc.problems)} problem(s); nothing was checked", 2)
    if as_json:
        print(json_text.dumps({**result.to_json(), "film": _absolute(result.film)}, indent=2, ensure_ascii=False))
    else:
        print_qc(_stdout(), result.to_json())
    if not result.passed:
        raise typer.Exit(QC_FAILED)


def print_qc(console: Console, result: dict) -> None:
    """The checks as a table: id, measured value, limit, pass/fail and the first times it failed."""
    if not console.is_terminal:
        console.width = max(console.width, 150)  # a pipe or a log: whole check ids and values, not ellipses
    verdict = "[green]passes[/]" if result["passed"] else "[red]fails[/]"
    table = Table(title=f"{escape(result['film'])}: {verdict} {escape(result['profile'])}", show_lines=False)
    for column in ("check", "value", "limit", "", "at (s)"):
        table.add_column(column, no_wrap=column != "at (s)")
    for check in result["checks"]:
        value = check["value"]
        shown = "-" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        unit = f" {check['unit']}" if check.get("unit") and value is not None else ""
        limit = check["limit"]
        status = "[green]ok[/]" if check["passed"] else "[red]FAIL[/]"
        if check.get("note") == "reported":
            status = "[dim]info[/]"
        elif str(check.get("note", "")).startswith("skipped"):
            status = "[dim]skipped[/]"
        at = ", ".join(f"{t:g}" for t in check["at"][:6]) + (" ..." if len(check["at"]) > 6 else "")
        table.add_row(
            escape(check["id"]), escape(shown + unit), escape("-" if limit is None else str(limit)), status, at
        )
    console.print(table)


@app.command("import")
def import_command(
    script: Annotated[str, typer.Argument(help="A Fountain screenplay (.fountain); - reads stdin.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The storyboard (default: stdout).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    policy: PolicyOption = None,
    allow_assets: AllowAssetsOption = None,
) -> None:
    """Turn a Fountain screenplay into a commented storyboard that validates and renders as it is.

    Examples:

      sora import script.fountain -o storyboard.yaml && sora render storyboard.yaml --draft

      cat script.fountain | sora import - | sora validate -
    """
    with _guard():
        text = api.import_fountain(script, output, policy, tuple(allow_assets or ()))
        _write_output(text, output, force)
    if output is not None and str(output) != "-":  # `-o -` is stdout: nothing was written to a file
        _stderr().print(f"[green]wrote[/] {escape(str(output))}: {api.import_summary(text)}", soft_wrap=True)


def _write_output(text: str, output: Path | None, force: bool) -> None:
    """``-o FILE`` through the API; no ``-o`` (or ``-o -``) prints the text."""
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    api.write_text(text, output, force)


export_app = typer.Typer(help="Write a storyboard in another format.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("fountain")
def export_fountain_command(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The screenplay (default: stdout).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    cameos: CameoOption = None,
) -> None:
    """A Fountain screenplay of a storyboard, for screenwriting apps; `sora import` reads it back to the same shots.

    Example:

      sora export fountain storyboards/harbour_night.yaml -o harbour.fountain
    """
    with _guard():
        _write_output(api.export_fountain(file, output, cameos), output, force)


cameo_app = typer.Typer(
    help="Cameos: a consenting person's likeness and voice, for `cameo: NAME` characters.", no_args_is_help=True
)
app.add_typer(cameo_app, name="cameo")
LibraryOption = Annotated[
    Path | None,
    typer.Option(
        "--library", help="Cameo library (default: $SORA_CAMEOS, ./cameos if present, else the user's data dir)."
    ),
]


@cameo_app.command("add")
def cameo_add(
    name: Annotated[str, typer.Argument(help="The cameo's name, used as `cameo: NAME` in storyboards.")],
    capture: Annotated[
        Path, typer.Option("--from", help="A short video of the person facing the camera and speaking.")
    ],
    consent_by: Annotated[
        str,
        typer.Option(
            "--consent-by", help="Full name of the person who consents to this use of their likeness and voice."
        ),
    ],
    expires: Annotated[str | None, typer.Option("--expires", help="Consent ends on this date (YYYY-MM-DD).")] = None,
    library: LibraryOption = None,
) -> None:
    """Make a cameo from a capture: face crops, a portrait, a voice sample and profile, and the consent record.

    Example:

      sora cameo add ada --from ada.mp4 --consent-by "Ada Lovelace" --expires 2027-12-31
    """
    with _guard():
        manifest = api.cameo_add(name, capture, consent_by, library, expires)
        folder = manifest["folder"]
    _stderr().print(
        f"[green]added[/] cameo {escape(name)} in {escape(str(folder))}: {len(manifest['likeness'])} face crops, "
        f"voice ~{manifest['voice']['median_pitch_hz']} Hz; consent by {escape(manifest['consent']['by'])}"
    )


@cameo_app.command("list")
def cameo_list(library: LibraryOption = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The cameos in the library, with their consent state."""
    with _guard():
        cameos = api.cameo_list(library)
    if as_json:
        print(json_text.dumps(cameos, indent=2))
        return
    table = Table(title=f"cameos in {escape(str(library or api.default_library()))}")
    for column in ("name", "consent by", "since", "expires", "state"):
        table.add_column(column)
    for c in cameos:
        consent = c.get("consent") or {}
        state = c["state"] if c["usable"] else f"[red]not usable: {escape(c.get('error') or c['state'])}[/]"
        table.add_row(
            escape(c["name"]),
            escape(str(consent.get("by") or "-")),
            escape(str(consent.get("on") or "-")),
            escape(str(consent.get("expires") or "-")),
            state,
        )
    _stdout().print(table)


@cameo_app.command("show")
def cameo_show(name: Annotated[str, typer.Argument()], library: LibraryOption = None) -> None:
    """A cameo's manifest: consent, likeness files, voice profile."""
    with _guard():
        text = api.cameo_show(name, library)
    print(text, end="")


@cameo_app.command("revoke")
def cameo_revoke(name: Annotated[str, typer.Argument()], library: LibraryOption = None) -> None:
    """Withdraw consent: delete the likeness and voice, keep a tombstone so renders that name it fail."""
    with _guard():
        api.cameo_revoke(name, library)
    _stderr().print(f"[yellow]revoked[/] cameo {escape(name)}: likeness and voice deleted")


@contextmanager
def _stops_cleanly() -> Iterator[None]:
    """While rendering, SIGTERM (a cancelled CI job, ``timeout``) stops like Ctrl-C, and the first of either is
    the only one: the cleanup it starts (workers stopped, temp files and scratch removed) is not cut short
    by a second Ctrl-C, which used to leave a checks' temp file behind or end in an internal error.

    The previous handlers come back afterwards (the CLI can run in-process, in
    tests and notebooks), and a process forked meanwhile that still has this
    handler dies of the signal as it would have without it.
    """
    import signal

    owner = os.getpid()
    signals = (signal.SIGINT, signal.SIGTERM)

    def stop(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        for each in signals:  # once: the cleanup must not be cut short
            signal.signal(each, signal.SIG_IGN)
        raise KeyboardInterrupt

    try:
        previous = {each: signal.signal(each, stop) for each in signals}
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


@app.command("cache")
def cache_command(
    where: Annotated[
        Path, typer.Argument(help="A storyboard (its .sora-cache), a folder holding .sora-cache, or a cache folder.")
    ] = Path("."),
    prune: Annotated[
        bool, typer.Option("--prune", help="Evict least recently used entries down to the bound.")
    ] = False,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every entry.")] = False,
    cache_size: Annotated[
        str | None, typer.Option("--cache-size", help="The bound for --prune (default: $SORA_CACHE_SIZE or 4G).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print size and entries as JSON.")] = False,
) -> None:
    """Show the cache's size and entries; --prune or --clear shrink it.

    Examples:

      sora cache storyboards/polar.yaml

      sora cache . --prune --cache-size 500M
    """
    with _guard():
        found = api.cache(where, prune, clear, cache_size)
    if as_json:
        print(json_text.dumps({**dataclasses.asdict(found), "cache": _absolute(str(found.cache))}, indent=2))
        return
    line = f"{found.cache}: {found.bytes / 1e6:.1f} MB in {found.entries} entries (bound {found.bound / 1e6:.0f} MB)"
    if prune or clear:
        line += f"; removed {found.removed} entries, {found.freed_bytes / 1e6:.1f} MB"
    print(line)


def _ray_executor(executor: str, address: str | None, actors: int, gpus: float) -> api.RayExecutor | None:
    if executor not in ("local", "ray"):
        raise UsageError(f"--executor {executor!r}: use local or ray")
    if executor == "local":
        if address:
            raise UsageError("--ray-address needs --executor ray")
        return None
    return api.RayExecutor(address=address, actors=actors, gpus_per_actor=gpus)


def run() -> None:
    """Console-script entry point."""
    if os.environ.get("NO_COLOR"):
        os.environ.setdefault("TERM", "dumb")
    try:
        app()
    except SystemExit as done:
        # click answers a closed stdout (`sora plan x --json | head -1`) with exit 1 after wrapping
        # stdout so nothing more is written; that case is exit 141, as for any tool killed by SIGPIPE
        if done.code == 1 and type(sys.stdout).__name__ == "PacifyFlushWrapper":
            raise SystemExit(141) from None
        raise
