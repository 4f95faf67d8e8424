"""The content policy: prompts, dialogue and titles are checked before anything renders.

A policy is a YAML file of rules (id, description, fields, regular
expressions); :data:`DEFAULT_POLICY` ships with sora and ``--policy FILE``
replaces it. Classifier plugins in the ``sora_cli.policy`` entry-point group
are consulted too: each is a callable ``(text, field) -> (rule_id, message) or
None``. A violation is a located storyboard problem (exit 2) naming the field
path and the rule.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path

import yaml

from sora_cli.errors import Problem, UsageError, yaml_problem
from sora_cli.storyboard.model import Storyboard
from sora_cli.storyboard.rules import world_changes
from sora_cli.storyboard.source import FieldPath, SourceMap

FIELDS = ("title", "style", "negative", "location", "lighting", "action", "dialogue", "character", "prop")
DEFAULT_POLICY = "default.yaml"


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    fields: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]


def load_policy(path: Path | None = None) -> tuple[Rule, ...]:
    """The rules of ``path`` (the default policy when None); a malformed file is a usage error."""
    if path is None:
        text, name = resources.files(__name__).joinpath(DEFAULT_POLICY).read_text(encoding="utf-8"), DEFAULT_POLICY
    else:
        try:
            text, name = Path(path).read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise UsageError(f"--policy {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"--policy {path}: not UTF-8 text (byte {exc.start}); a policy is a YAML file") from None
    return _parse(text, name)


@functools.lru_cache(maxsize=8)
def _parse(text: str, name: str) -> tuple[Rule, ...]:
    try:
        data = yaml.safe_load(text) or {}
        rules = []
        for entry in data.get("rules", []):
            fields = set(entry.get("fields") or ["all"])
            unknown = fields - set(FIELDS) - {"all"}
            if unknown:
                raise ValueError(
                    f"rule {entry.get('id')!r}: unknown fields {sorted(unknown)} (fields: all, {', '.join(FIELDS)})"
                )
            rules.append(
                Rule(
                    id=str(entry["id"]),
                    description=str(entry.get("description", "")),
                    fields=frozenset(FIELDS if "all" in fields else fields),
                    patterns=tuple(re.compile(p, re.IGNORECASE | re.DOTALL) for p in entry.get("patterns", [])),
                )
            )
        return tuple(rules)
    except yaml.YAMLError as exc:
        raise UsageError(f"policy {name} is not valid YAML: {yaml_problem(exc)}") from None
    except (KeyError, TypeError, AttributeError, ValueError, re.error) as exc:
        raise UsageError(f"policy {name} is not valid: {exc}") from None


def _texts(sb: Storyboard) -> Iterator[tuple[str, FieldPath, str]]:
    """Every piece of storyboard text a prompt, a subtitle, speech or the film's metadata is made from.

    ``set:`` changes are read through :func:`world_changes`, the very function the
    plan applies them with, so no form of writing them (dotted, nested, merged)
    reaches the plan without passing here. Ids count too: a character's id is
    spoken in prompts ("Kim: ..."), a prop without a description is named by its id.
    """
    yield "title", ("title",), sb.title
    yield "style", ("style",), sb.style
    yield "negative", ("negative",), sb.negative
    yield "location", ("world", "location"), sb.world.location
    yield "lighting", ("world", "lighting"), sb.world.lighting
    for cid, char in sb.world.characters.items():
        yield "character", ("world", "characters", cid), cid
        yield "character", ("world", "characters", cid, "description"), char.description
    for pid, prop in sb.world.props.items():
        yield "prop", ("world", "props", pid), pid
        yield "prop", ("world", "props", pid, "description"), prop.description
    for i, shot in enumerate(sb.shots):
        yield "action", ("shots", i, "action"), shot.action
        for j, line in enumerate(shot.dialogue):
            yield "dialogue", ("shots", i, "dialogue", j, "line"), line.line
        for key, parts, value in world_changes(shot.set):
            if isinstance(value, str):
                field = {"props": "prop", "location": "location"}.get(parts[0], "lighting")
                yield field, ("shots", i, "set", key), value


Classifier = Callable[[str, str], "tuple[str, str] | None"]


def classifiers() -> list[Classifier]:
    return [ep.load() for ep in entry_points(group="sora_cli.policy")]


def check_policy(
    sb: Storyboard, source: SourceMap, rules: tuple[Rule, ...], plugins: list[Classifier] | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    plugins = classifiers() if plugins is None else plugins
    for field, path, text in _texts(sb):
        if not text:
            continue
        for rule in rules:
            if field in rule.fields and any(p.search(text) for p in rule.patterns):
                problems.append(source.problem(path, f"violates content policy rule {rule.id!r}: {rule.description}"))
                break
        for plugin in plugins:
            verdict = plugin(text, field)
            if verdict:
                problems.append(source.problem(path, f"violates content policy rule {verdict[0]!r}: {verdict[1]}"))
    return problems
