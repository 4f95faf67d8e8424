"""Load and check a storyboard: YAML with marks -> typed model -> cross-field rules."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from pydantic import ValidationError

from sora_cli.errors import Problem, StoryboardError, located_read
from sora_cli.storyboard.deliverables import check_deliverables
from sora_cli.storyboard.limits import MAX_FILE_BYTES
from sora_cli.storyboard.messages import problems_from
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.policy import check_policy, load_policy
from sora_cli.storyboard.rules import check_rules
from sora_cli.storyboard.source import load_yaml
from sora_cli.storyboard.text_fit import check_cards

__all__ = ["Storyboard", "load_storyboard", "parse_storyboard", "read_source"]

STDIN = "-"


def _too_big(name: str) -> StoryboardError:
    return StoryboardError(
        [Problem(name, 1, 1, "", f"the storyboard is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB (the limit)")]
    )


def read_source(path: str | Path) -> tuple[str, str, Path]:
    """Read a storyboard's text; ``-`` is stdin. Returns (text, display name, base dir).

    Never reads more than :data:`MAX_FILE_BYTES` (plus one, to notice): a huge
    file is refused before it can fill memory.
    """
    if str(path) == STDIN:
        text = sys.stdin.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise _too_big("<stdin>")
        return text, "<stdin>", Path.cwd()
    p = Path(path)
    with located_read(str(p), "a storyboard file"), p.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(str(p))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StoryboardError([Problem(str(p), 1, 1, "", f"not UTF-8 text (byte {exc.start})")]) from None
    return text, str(p), p.resolve().parent


def parse_storyboard(
    text: str,
    file: str,
    base_dir: Path,
    cameo_dirs: Path | None = None,
    policy: Path | None = None,
    allow_assets: tuple[Path, ...] = (),
) -> Storyboard:
    """Text -> checked :class:`Storyboard`, or :class:`StoryboardError` with every problem.

    Assets must lie inside ``base_dir`` or one of ``allow_assets``.
    """
    data, source = load_yaml(text, file, base_dir)
    source.allowed = tuple(Path(d) for d in allow_assets)
    try:
        sb = Storyboard.model_validate(data)
    except ValidationError as exc:
        raise StoryboardError(problems_from(exc, Storyboard, source)) from None

    problems = check_rules(sb, source, cameo_dirs) + check_policy(sb, source, load_policy(policy))
    problems += check_deliverables(sb, source) + check_cards(sb, source)
    if problems:
        raise StoryboardError(problems)
    sb._source = source
    sb._sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return sb


def load_storyboard(
    path: str | Path,
    cameo_dirs: Path | None = None,
    policy: Path | None = None,
    allow_assets: tuple[Path, ...] = (),
) -> Storyboard:
    text, name, base_dir = read_source(path)
    return parse_storyboard(text, name, base_dir, cameo_dirs, policy, allow_assets)
