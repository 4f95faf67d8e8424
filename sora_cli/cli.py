"""The ``sora`` command line: parse arguments, call the API, print.

Every command funnels errors through :func:`_guard` so the exit codes are the
same everywhere: 0 ok, 1 internal or tool failure (one line), 2 bad input or
usage (``FILE:LINE:COL: path: message``), 130 interrupted. Tracebacks only
with ``--debug``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sora_cli import __version__, api
from sora_cli.errors import SoraError, StoryboardError, UsageError
from sora_cli.plan.model import Plan
from sora_cli.schema import SCHEMA_FILE, schema_text

app = typer.Typer(
    name="sora",
    help="Turn a YAML storyboard into a finished film: picture, dialogue, sound and subtitles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

_state = {"debug": False}


def _stdout() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"sora: {message}\n")
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
    except SoraError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        sys.stderr.write("sora: interrupted\n")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if _state["debug"]:
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details and report it)", 1)


def _version(value: bool) -> None:
    if value:
        print(f"sora {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for internal errors.")] = False,
) -> None:
    """[bold]sora[/] renders storyboards into films.

    Examples:

      sora init my-film && cd my-film && sora render storyboard.yaml

      sora validate storyboards/*.yaml

      cat storyboard.yaml | sora plan - --json | jq '.shots[].start'
    """
    _state["debug"] = debug


CameoOption = Annotated[
    Path | None, typer.Option("--cameos", help="Cameo library folder (default: cameos/ beside the storyboard).")
]


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Storyboard files; - reads stdin.", metavar="FILE...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the errors as JSON objects on stdout.")] = False,
    cameos: CameoOption = None,
) -> None:
    """Check storyboards against every rule of the format; exit 2 if any breaks one.

    Examples:

      sora validate storyboard.yaml

      sora validate --json storyboards/*.yaml | jq '.errors[].message'
    """
    problems = []
    with _guard():
        for file in files:
            try:
                api.plan(file, cameos)
            except StoryboardError as exc:
                problems.extend(exc.problems)
    if as_json:
        print(json.dumps({"valid": not problems, "files": files, "errors": [p.to_json() for p in problems]}, indent=2))
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
) -> None:
    """Show every shot as it will be rendered: world, timing, cast, prompt.

    Examples:

      sora plan storyboard.yaml

      sora plan storyboard.yaml --json | jq '.shots[] | {id, start, duration}'
    """
    with _guard():
        plan = api.plan(file, cameos)
    if as_json:
        print(json.dumps(plan.summary(), indent=2, ensure_ascii=False))
        return
    _print_plan(plan)


def _print_plan(plan: Plan) -> None:
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
    sys.stdout.write(schema_text())


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
        target = directory / "storyboard.yaml"
        if target.exists() and not force:
            raise UsageError(f"{target} already exists (use --force to overwrite it)")
        (directory / "assets").mkdir(parents=True, exist_ok=True)
        starter = resources.files("sora_cli.templates").joinpath("starter.yaml").read_text(encoding="utf-8")
        _write_text(target, starter)
        _write_text(directory / SCHEMA_FILE, schema_text())
    _stderr().print(
        f"[green]created[/] {escape(str(target))}, {escape(str(directory / SCHEMA_FILE))} and assets/\n"
        f"next: sora render {escape(str(target))}"
    )


@app.command()
def render(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The film (default: FILE's name with .mp4, beside it).")
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Backend to draw with (default: the storyboard's).")
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
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=1, help="Continuity chains rendered in parallel (default: the number of cores)."
        ),
    ] = os.cpu_count() or 1,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Shot cache (default: .sora-cache beside the storyboard).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the shot cache.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    otio: Annotated[bool, typer.Option("--otio", help="Also write an OpenTimelineIO timeline (FILM.otio).")] = False,
    cameos: CameoOption = None,
) -> None:
    """Render a storyboard into a film: picture, dialogue, sound and subtitles.

    Writes FILM.mp4, FILM.report.json and, per output.subtitles, FILM.srt/.vtt.
    Shots are cached by content: a re-render only redraws what changed.

    Examples:

      sora render storyboards/polar.yaml

      sora render ad.yaml --draft -o preview.mp4

      sora render ad.yaml --only end-card --json | jq .rendered
    """
    from sora_cli.film import RenderRequest, render_film
    from sora_cli.progress_ui import choose

    with _guard():
        request = RenderRequest(
            storyboard=file,
            output=output,
            backend=backend,
            draft=draft,
            only=tuple(s.strip() for item in (only or []) for s in item.split(",") if s.strip()),
            jobs=jobs,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            otio=otio,
            cameo_dirs=cameos,
        )
        progress = choose(quiet or (as_json and not sys.stderr.isatty()))
        if hasattr(progress, "__enter__"):
            with progress:  # type: ignore[attr-defined]
                report = render_film(request, progress)
        else:
            report = render_film(request, progress)
    if as_json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif not quiet:
        out = report["output"]
        reused = len(report["reused"])
        _stderr().print(
            f"[green]wrote[/] {escape(out['file'])}  {out['duration']:.2f} s, {out['width']}x{out['height']} @ {out['fps']} fps, "
            f"{report['sound']['loudness_lufs']} LUFS, {reused}/{len(report['shots'])} shots reused"
        )


@app.command()
def board(
    file: Annotated[str, typer.Argument(help="Storyboard file; - reads stdin.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="board.png or board.pdf")] = Path("board.png"),
    backend: Annotated[str | None, typer.Option("--backend", help="Backend to draw the key frames with.")] = None,
    cameos: CameoOption = None,
) -> None:
    """The storyboard sheet for client approval: a key frame per shot, with timing, camera, cast, action and dialogue.

    Examples:

      sora board storyboards/product_ad.yaml -o board.pdf
    """
    from sora_cli.board import make_board

    with _guard():
        plan = api.plan(file, cameos)
        out = make_board(plan, backend or plan.backend.name, output)
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
    from sora_cli.sound.catalog import EFFECTS
    from sora_cli.storyboard.messages import did_you_mean

    with _guard():
        if play is None:
            table = Table(title=f"{len(EFFECTS)} built-in sounds", show_header=True)
            table.add_column("name", no_wrap=True)
            table.add_column("sound")
            for name, description in EFFECTS.items():
                table.add_row(name, description)
            _stdout().print(table)
            return
        if play not in EFFECTS:
            raise UsageError(f"no built-in sound {play!r}{did_you_mean(play, EFFECTS)} (`sora sounds` lists them)")
        from sora_cli.sound.effects import effect
        from sora_cli.sound.files import write_wav

        target = output or Path(f"{play}.wav")
        write_wav(target, effect(play))
    _stderr().print(f"[green]wrote[/] {escape(str(target))}")


@app.command()
def doctor(
    voices: Annotated[bool, typer.Option("--voices", help="Also list the speech engine's voices.")] = False,
) -> None:
    """Check the installation: ffmpeg, speech engine, backends, torch and GPU.

    Example:

      sora doctor
    """
    from sora_cli.doctor import checks

    with _guard():
        ok = True
        table = Table(show_header=True)
        table.add_column("part", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("details")
        for part, good, details in checks():
            ok &= good is not False
            status = "[green]ok[/]" if good else "[red]missing[/]" if good is False else "[yellow]optional[/]"
            table.add_row(part, status, escape(details))
        _stdout().print(table)
        if voices:
            from sora_cli.sound.speech import EspeakEngine

            engine = EspeakEngine()
            _stdout().print("voices: " + ", ".join(engine.voice_names()))
            _stdout().print("variants (voice+variant): " + ", ".join(engine.variant_names()))
    if not ok:
        raise typer.Exit(1)


def _write_text(path: Path, text: str) -> None:
    from sora_cli.atomic import atomic_write_text

    atomic_write_text(path, text)


def run() -> None:
    """Console-script entry point."""
    if os.environ.get("NO_COLOR"):
        os.environ.setdefault("TERM", "dumb")
    app()
