"""``sora import``: a Fountain script -> storyboard YAML that validates as it is.

The storyboard is checked with the storyboard loader before it is handed out.
A rule it breaks can only come from the script's own words (the content policy,
say), so each problem is reported at the script line the offending text came
from: the writer fixes the script, not the YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

from sora_cli.errors import Problem, StoryboardError
from sora_cli.plan.resolve import make_plan
from sora_cli.screenplay.breakdown import Draft, breakdown
from sora_cli.screenplay.emit import emit
from sora_cli.screenplay.parse import decode, parse_fountain
from sora_cli.storyboard import parse_storyboard


def import_fountain(
    raw: bytes, file: str, base_dir: Path, policy: Path | None = None, allow_assets: tuple[Path, ...] = ()
) -> str:
    """The storyboard text for the script ``raw`` read from ``file`` (``<stdin>`` for stdin).

    An export's asset paths may lead outside the storyboard's folder: as for a
    render, such a folder must be named (``allow_assets``).
    """
    text = decode(raw, file)
    script = parse_fountain(text, file)
    stem = Path(file).stem if file != "<stdin>" else ""
    default_title = re.sub(r"[_-]+", " ", stem).strip().title() or "Untitled"
    draft = breakdown(script, file, default_title)
    name = Path(file).name if file != "<stdin>" else "stdin"
    preamble = [
        f"Storyboard imported by `sora import` from {name} (Fountain).",
        "Every spoken line of the script is here once, in order, with its speaker; what has no",
        "storyboard meaning is kept as a comment. Refine it shot by shot, then `sora render`.",
    ]
    storyboard = emit(draft, preamble)
    _check(storyboard, draft, file, base_dir, policy, allow_assets)
    return storyboard


def summary(storyboard: str) -> str:
    """``3 scenes, 12 shots, 30 lines`` of an imported storyboard, for the command line."""
    shots = storyboard.count("\n  - id: ")
    # a script with no heading is still one scene (at an unknown place)
    scenes = storyboard.count("\n  # Scene: ") or min(shots, 1)
    lines = storyboard.count("\n      - {speaker: ")
    return f"{scenes} scene{'s' * (scenes != 1)}, {shots} shot{'s' * (shots != 1)}, {lines} line{'s' * (lines != 1)}"


def _check(
    storyboard: str, draft: Draft, file: str, base_dir: Path, policy: Path | None, allow_assets: tuple[Path, ...]
) -> None:
    try:  # what `sora validate` does: load, rules, policy, then the plan (timing from real speech)
        make_plan(
            parse_storyboard(storyboard, "<imported storyboard>", base_dir, policy=policy, allow_assets=allow_assets)
        )
    except StoryboardError as exc:
        raise StoryboardError([_in_script(p, draft, file) for p in exc.problems]) from None


def _in_script(problem: Problem, draft: Draft, file: str) -> Problem:
    """Re-locate a storyboard problem at the script line its text came from."""
    line = draft.source_of(problem.path) or 1
    if match := re.match(r"shots\[(\d+)\](?:\.dialogue\[(\d+)\])?", problem.path):
        shot = draft.shots[int(match.group(1))] if int(match.group(1)) < len(draft.shots) else None
        if shot is not None:
            line = shot.source
            if match.group(2) is not None and int(match.group(2)) < len(shot.lines):
                line = shot.lines[int(match.group(2))].source
    return Problem(file, line, 1, f"storyboard {problem.path}".strip(), problem.message)
