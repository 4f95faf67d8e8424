"""Safe YAML loading that remembers where every value came from.

Errors must name ``FILE:LINE:COL``, so we compose PyYAML's node tree (which
keeps marks) and build plain Python data from it ourselves, recording the mark
of every value and every mapping key by its field path. Only plain data can
come out: unknown tags are refused, never constructed.

Scalars follow YAML 1.2's core schema rather than PyYAML's YAML 1.1 defaults,
because 1.1 turns ``watermark: off`` into ``False`` and ``at: 1:30`` into
``90``: a storyboard should mean what it says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sora_cli.errors import Problem, StoryboardError

FieldPath = tuple[str | int, ...]

#: Alias expansion beyond this many values is refused (a "billion laughs" file).
MAX_VALUES = 200_000


def format_path(path: FieldPath) -> str:
    """``('shots', 2, 'cast', 0)`` -> ``shots[2].cast[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceMap:
    """Where each field path of a loaded document sits in its file."""

    file: str
    base_dir: Path
    values: dict[FieldPath, Mark] = field(default_factory=dict)
    keys: dict[FieldPath, Mark] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, key: bool = False) -> Mark:
        """The mark of ``path`` (its key when ``key``), else of its nearest ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        probe = tuple(path)
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Mark(1, 1))

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> Problem:
        mark = self.locate(path, key=key)
        return Problem(self.file, mark.line, mark.column, format_path(path), message)

    def resolve_asset(self, name: str) -> Path:
        """Assets are relative to the storyboard's folder (the cwd for stdin)."""
        p = Path(name).expanduser()
        return p if p.is_absolute() else self.base_dir / p


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and integers."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)


_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: _Loader, source: SourceMap):
        self.loader = loader
        self.source = source
        self.problems: list[Problem] = []
        self.count = 0

    def fail(self, mark: Mark, path: FieldPath, message: str) -> None:
        self.problems.append(Problem(self.source.file, mark.line, mark.column, format_path(path), message))

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _TooLarge
        self.source.values.setdefault(path, _mark(node))
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_COLLECTIONS:
            self.fail(_mark(node), path, f"the YAML tag {node.tag!r} is not allowed; storyboards hold plain data")
            return None
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # expand `<<: *anchor` merges
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.fail(_mark(key_node), path, "mapping keys must be plain names")
                    continue
                key = str(self.scalar(key_node, path))
                if key in result:
                    self.fail(_mark(key_node), path + (key,), f"duplicate key {key!r}")
                    continue
                self.source.keys.setdefault(path + (key,), _mark(key_node))
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self.scalar(node, path)

    def scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self.fail(_mark(node), path, f"the YAML tag {node.tag!r} is not allowed; storyboards hold plain data")
            return None


class _TooLarge(Exception):
    pass


def load_yaml(text: str, file: str, base_dir: Path) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain data and its :class:`SourceMap`.

    Raises :class:`StoryboardError` for syntax errors, forbidden tags, duplicate
    keys, several documents or an empty file.
    """
    source = SourceMap(file=file, base_dir=base_dir)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        raise StoryboardError([Problem(file, line, col, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise StoryboardError([Problem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise StoryboardError([Problem(file, 1, 1, "", "the storyboard is empty; start with `version: 1`")])
    builder = _Builder(loader, source)
    try:
        data = builder.build(root, ())
    except _TooLarge:
        raise StoryboardError(
            [Problem(file, 1, 1, "", f"the document expands to more than {MAX_VALUES} values (aliases?)")]
        ) from None
    if builder.problems:
        raise StoryboardError(builder.problems)
    if not isinstance(data, dict):
        raise StoryboardError([source.problem((), "a storyboard is a mapping of fields, starting with `version: 1`")])
    return data, source
