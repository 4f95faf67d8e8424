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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sora_cli.errors import Problem, StoryboardError
from sora_cli.storyboard.limits import MAX_DEPTH, MAX_TEXT_CHARS, MAX_VALUES

FieldPath = tuple[str | int, ...]


#: Characters a storyboard's text may not contain anywhere: C0 controls other than
#: tab, line feed and carriage return, DEL, C1 controls (NEL included: YAML would read
#: it as a line break that no editor shows), surrogates and the non-characters
#: U+FFFE/U+FFFF. They are invisible in editors and reinterpreted by the tools text
#: flows into (a NUL ends a subtitle file for ffmpeg's SRT reader).
_FORBIDDEN_IN_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: The same inside a value (escapes such as "\0" or "\e" in a quoted scalar make
#: them), where a carriage return is refused too: only tab and line feed are text.
_FORBIDDEN_IN_VALUE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def describe_char(char: str) -> str:
    """``U+0000 (NUL)``-style name of a forbidden character for a message."""
    names = {0: "NUL", 0x1B: "ESC", 0x7F: "DEL", 0x85: "NEL", 0x0D: "carriage return"}
    code = ord(char)
    kind = names.get(code) or (
        "a control character" if code < 0xA0 else "a surrogate" if 0xD800 <= code <= 0xDFFF else "a non-character"
    )
    return f"U+{code:04X} ({kind})"


def forbidden_chars(text: str) -> Iterator[re.Match[str]]:
    """Every forbidden character in a file's text."""
    return _FORBIDDEN_IN_FILE.finditer(text)


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

    #: folders outside ``base_dir`` the user allowed assets from (``--allow-assets DIR``)
    allowed: tuple[Path, ...] = ()

    def resolve_asset(self, name: str) -> Path:
        """Assets are relative to the storyboard's folder (the cwd for stdin)."""
        p = Path(name).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def outside(self, target: Path) -> bool:
        """Whether ``target`` (symlinks followed) leaves the storyboard's folder and every allowed one.

        A storyboard from elsewhere must not read the user's other files into a
        film: ``..``, absolute paths and symlinks out of the folder only work for
        folders the user named.
        """
        real = target.resolve()
        return not any(real.is_relative_to(root.resolve()) for root in (self.base_dir, *self.allowed))


class _TooDeep(yaml.MarkedYAMLError):
    """Nesting beyond :data:`MAX_DEPTH` (found before anything recursive runs)."""


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2 core-schema booleans and integers."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)


class _PyLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    """The pure-Python parser: slow, but its error messages say what it expected and found."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


if yaml.__with_libyaml__:  # libyaml parses several times faster than pure Python (10,000 shots: seconds)

    class _Loader(yaml.cyaml.CParser, yaml.constructor.SafeConstructor, _Resolver):  # type: ignore[misc]
        """libyaml's parser and composer, the safe constructor, the core-schema resolver."""

        def __init__(self, stream: str):
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml
    _Loader = _PyLoader  # type: ignore[misc]


def _check_depth(text: str, loader_class: type = _Loader) -> None:
    """Raise :class:`_TooDeep` at the first collection nested beyond :data:`MAX_DEPTH`.

    Both composers recurse once per level, so a deeply nested file would exhaust
    Python's (or C's) stack; the event stream is flat, so count levels there first.
    """
    loader = loader_class(text)
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _TooDeep(
                        problem=f"mappings and lists nest more than {MAX_DEPTH} levels deep (the limit)",
                        problem_mark=event.start_mark,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.constructor.SafeConstructor, source: SourceMap):
        self.loader = loader
        self.source = source
        self.problems: list[Problem] = []
        self.count = 0
        self.open: set[int] = set()  # ids of the collections being built (cycle and depth guard)

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
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open or len(self.open) >= MAX_DEPTH:
            # an alias inside the value it names (`&a [*a]`) would nest without end
            why = "an alias refers to a value that contains it" if id(node) in self.open else "nests too deep"
            self.fail(_mark(node), path, f"{why} (aliases may nest at most {MAX_DEPTH} levels)")
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node, path)
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        """A mapping, with ``<<: *anchor`` merges: explicit keys win over merged ones."""
        result: dict[str, Any] = {}
        merged: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == "tag:yaml.org,2002:merge":
                for source in self.merge_sources(value_node, path):
                    built = self.build(source, path)
                    if isinstance(built, dict):
                        for key, value in built.items():
                            if key not in result:
                                result[key] = value
                                merged.add(key)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(_mark(key_node), path, "mapping keys must be plain names")
                continue
            key = str(self.scalar(key_node, path))
            if key in result and key not in merged:
                self.fail(_mark(key_node), path + (key,), f"duplicate key {key!r}")
                continue
            merged.discard(key)
            self.source.keys.setdefault(path + (key,), _mark(key_node))
            result[key] = self.build(value_node, path + (key,))
        return result

    def merge_sources(self, node: yaml.Node, path: FieldPath) -> list[yaml.MappingNode]:
        """The mappings a ``<<`` key merges: one mapping or a list of mappings."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if all(isinstance(item, yaml.MappingNode) for item in items):
            return list(items)  # the first mapping wins a key they share
        bad = next(item for item in items if not isinstance(item, yaml.MappingNode))
        self.fail(_mark(bad), path + ("<<",), "a merge key `<<` takes a mapping or a list of mappings (`<<: *anchor`)")
        return []

    def scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self.fail(_mark(node), path, f"the YAML tag {node.tag!r} is not allowed; storyboards hold plain data")
            return None
        if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            self.fail(_mark(node), path, f"is too long ({len(value)} characters; at most {MAX_TEXT_CHARS})")
            return None
        if isinstance(value, str) and (bad := _FORBIDDEN_IN_VALUE.search(value)):
            self.fail(
                _mark(node),
                path,
                f"the text contains {describe_char(bad.group())} at character {bad.start() + 1}; "
                "only printable characters, tabs and line breaks are allowed",
            )
            return None
        return value


class _TooLarge(Exception):
    pass


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree, through libyaml when it has it.

    On a syntax error the text is parsed again by the pure-Python parser, whose
    messages say what it expected and what it found (libyaml's say less).
    """
    loader = _Loader(text)
    try:
        _check_depth(text)
        return loader.get_single_node()
    except yaml.YAMLError as fast_error:
        if _Loader is _PyLoader or isinstance(fast_error, _TooDeep):
            raise
        _check_depth(text, _PyLoader)  # raises the same error, better worded
        slow = _PyLoader(text)
        try:
            slow.get_single_node()
        finally:
            slow.dispose()
        raise
    finally:
        loader.dispose()


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]`` (lines end at line feeds only, as in editors)."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    """One located problem for a YAML syntax error.

    A quoted scalar that never closes runs to the end of the file, where PyYAML
    notices; the useful place is where the quote opened (the error's context mark).
    """
    what = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
        mark = exc.context_mark
        if exc.problem and "end of stream" in exc.problem:
            what = "this quote is never closed (the file ends inside it)"
        else:
            what = f"in the quoted text that starts here: {what}"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, col, "", f"YAML syntax error: {what}")


def load_yaml(text: str, file: str, base_dir: Path) -> tuple[Any, SourceMap]:
    """Parse ``text`` into plain data and its :class:`SourceMap`.

    Raises :class:`StoryboardError` for forbidden characters, syntax errors,
    nesting beyond :data:`MAX_DEPTH`, alias cycles, bad merge keys, forbidden
    tags, duplicate keys, several documents or an empty file.
    """
    bad = [
        Problem(file, *_position(text, m.start()), "", f"{describe_char(m.group())} is not allowed in a storyboard")
        for m in forbidden_chars(text)
    ]
    if bad:
        raise StoryboardError(bad[:20])
    source = SourceMap(file=file, base_dir=base_dir)
    try:
        root = _compose(text)
    except _TooDeep as exc:
        mark = exc.problem_mark
        raise StoryboardError([Problem(file, mark.line + 1, mark.column + 1, "", str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        raise StoryboardError([_syntax_problem(exc, file)]) from None
    except yaml.YAMLError as exc:
        raise StoryboardError([Problem(file, 1, 1, "", f"YAML error: {exc}")]) from None
    loader = yaml.constructor.SafeConstructor()
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
