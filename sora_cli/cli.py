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


def _write_text(path: Path, text: str) -> None:
    from sora_cli.atomic import atomic_write_text

    atomic_write_text(path, text)


def run() -> None:
    """Console-script entry point."""
    if os.environ.get("NO_COLOR"):
        os.environ.setdefault("TERM", "dumb")
    app()
