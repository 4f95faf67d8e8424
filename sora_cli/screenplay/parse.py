"""Fountain 1.1 text -> a flat list of located screenplay elements.

Written here rather than taken from PyPI: the storyboard needs every element
with its source line (errors and comments point back into the script), the
boneyard and notes kept rather than thrown away, and dual dialogue and lyrics;
the parsers on PyPI each miss one of these (see the closing note of issue 17).

The parser is line based, as the spec is: boneyard (``/* */``) and notes
(``[[ ]]``) are cut out first (kept as elements of their own, at their line),
then each remaining line is classified by its shape and by whether a blank line
comes before or after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sora_cli.errors import Problem, StoryboardError

#: Element kinds, in the spec's words.
KINDS = (
    "heading", "action", "cue", "parenthetical", "dialogue", "lyric", "transition", "centered",
    "note", "boneyard", "section", "synopsis", "page_break",
)  # fmt: skip

_HEADING = re.compile(r"^(?:INT\.?/EXT|EXT\.?/INT|INT|EXT|EST|I/E|E/I)[.\s]", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.-]+)#\s*$")
_KNOWN_TRANSITION = re.compile(
    r"^(?:FADE (?:IN|OUT)|FADE TO (?:BLACK|WHITE)|CUT TO BLACK|SMASH CUT|JUMP CUT|INTERCUT)[.:]?$"
)
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 _-]*):(.*)$")
_TITLE_KEYS = {
    "title", "credit", "author", "authors", "source", "draft date", "date", "contact", "copyright",
    "notes", "revision", "episode", "format", "font",
}  # fmt: skip
#: Elements that can make a shot; a script with none of them has nothing to storyboard.
_CONTENT = {"heading", "action", "cue", "dialogue", "lyric", "centered"}
#: Control characters that never occur in a text screenplay (tab, LF, CR and form feed do).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Element:
    """One screenplay element at its 1-based source line.

    ``text`` is as written, markup included (see :func:`plain`); ``extensions``
    and ``dual`` belong to cues, ``level`` to sections, ``number`` to headings,
    ``in_dialogue`` to lyrics sung by a character.
    """

    kind: str
    text: str
    line: int
    forced: bool = False
    extensions: tuple[str, ...] = ()
    dual: bool = False
    level: int = 0
    number: str = ""
    in_dialogue: bool = False  # a lyric sung by the cue above it


@dataclass
class Script:
    """A parsed script: its title page (key, value, line) and its body's elements in order."""

    title_page: list[tuple[str, str, int]] = field(default_factory=list)
    elements: list[Element] = field(default_factory=list)

    def title(self) -> str:
        return next((plain(value) for key, value, _ in self.title_page if key.lower() == "title"), "")


def decode(raw: bytes, file: str) -> str:
    """Bytes -> text, refusing what is not a text screenplay (exit 2, located)."""
    if raw.startswith(b"%PDF"):
        raise StoryboardError(
            [Problem(file, 1, 1, "", "this is a PDF, not a Fountain script (export it as .fountain)")]
        )
    if b"\x00" in raw[:8192]:
        raise StoryboardError([Problem(file, 1, 1, "", "binary data, not a Fountain script (plain UTF-8 text)")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise StoryboardError(
            [Problem(file, line, column, "", f"not UTF-8 text (byte {exc.start}); a Fountain script is UTF-8")]
        ) from None
    return text


def parse_fountain(text: str, file: str) -> Script:
    """Parse a Fountain script; :class:`StoryboardError` lists every problem (exit 2)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    problems = _refuse_non_fountain(text, file)
    if problems:
        raise StoryboardError(problems)
    lines, cut, problems = _cut_boneyard_and_notes(text, file)
    if problems:
        raise StoryboardError(problems)
    script = Script()
    start = _title_page(lines, script)
    script.elements = _body(lines[start:])
    script.elements = sorted(script.elements + cut, key=lambda e: e.line)
    if not any(e.kind in _CONTENT for e in script.elements):
        kinds = sorted(
            {e.kind.replace("_", " ") for e in script.elements} | ({"title page"} if script.title_page else set())
        )
        what = f"only {', '.join(kinds)}" if kinds else "nothing"
        raise StoryboardError(
            [Problem(file, 1, 1, "", f"the script has {what}: no scene heading, action or dialogue to storyboard")]
        )
    return script


def _refuse_non_fountain(text: str, file: str) -> list[Problem]:
    if not text.strip():
        return [Problem(file, 1, 1, "", "the script is empty; a Fountain script starts with a scene heading or action")]
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        if match := _CONTROL.search(line):
            problems.append(
                Problem(
                    file, number, match.start() + 1, "", f"control character {match.group()!r}: not a text screenplay"
                )
            )
            break
    if not problems and (odd := _not_prose(text)) is not None:
        number, what = odd
        problems.append(
            Problem(file, number, 1, "", f"this looks like {what}, not a screenplay (Fountain is plain prose)")
        )
    head = text.lstrip()
    if head.startswith("<"):
        problems.append(
            Problem(file, 1, 1, "", "this is XML/HTML (Final Draft .fdx?), not Fountain: save as .fountain")
        )
    elif head.startswith("{\\rtf"):
        problems.append(Problem(file, 1, 1, "", "this is RTF, not Fountain: save the script as plain text .fountain"))
    elif head.startswith(("{", "[")) and head.rstrip().endswith(("}", "]")):
        problems.append(Problem(file, 1, 1, "", "this is JSON, not Fountain"))
    elif re.search(r"^version:\s*1\s*$", text, re.M) and re.search(r"^shots:", text, re.M):
        problems.append(Problem(file, 1, 1, "", "this is a storyboard already: use `sora validate` or `sora render`"))
    return problems


_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from [\w.]+ import |return\b|elif |else:|try:|except\b|raise |"
    r"#include|function |const |let |var |public |private |package )|[;{}]\s*$|^\s*(?:if|for|while|with) .*[:{]\s*$|^ {4,}\S|\"\"\"|^\s*\w+(?:\.\w+)* = \S|^\s*@\w"
)
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=_-]{40,}$")


def _not_prose(text: str) -> tuple[int, str] | None:
    """(first line, what) when most lines are program source or encoded data: a heuristic, so only a
    clear majority (over half the non-blank lines, at least three) with no scene heading counts."""
    lines = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    if any(_HEADING.match(line.strip()) for _, line in lines):
        return None
    for pattern, what in ((_CODE_LINE, "program source code"), (_BASE64_LINE, "encoded data (base64)")):
        hits = [n for n, line in lines if pattern.search(line.strip() if pattern is _BASE64_LINE else line)]
        if len(hits) >= 3 and 2 * len(hits) > len(lines):
            return hits[0], what
    return None


def _cut_boneyard_and_notes(text: str, file: str) -> tuple[list[tuple[int, str]], list[Element], list[Problem]]:
    """Remove ``/* */`` and ``[[ ]]`` spans; return the remaining (line number, text) lines and the cut spans.

    A line left empty only because something was cut from it disappears, so a
    note between a cue and its dialogue does not break the dialogue.
    """
    lines: list[tuple[int, str]] = []
    cut: list[Element] = []
    problems: list[Problem] = []
    buffer: list[str] = []
    touched = False
    line_no = start_line = 1
    col = 1
    i, n = 0, len(text)
    while i < n:
        for opener, closer, kind in (("/*", "*/", "boneyard"), ("[[", "]]", "note")):
            if text.startswith(opener, i) and not (i and text[i - 1] == "\\"):
                end = text.find(closer, i + 2)
                if end < 0:
                    problems.append(
                        Problem(file, line_no, col, kind, f"{opener} opened here is never closed with {closer}")
                    )
                    end = n
                body = text[i + 2 : end]
                cut.append(Element(kind, body.strip(), line_no))
                line_no += body.count("\n")
                col = (len(body) - body.rfind("\n") + 2) if "\n" in body else col + len(body) + 4
                i = min(end + 2, n)
                touched = True
                break
        else:
            char = text[i]
            i += 1
            if char == "\n":
                _keep(lines, start_line, buffer, touched)
                buffer, touched = [], False
                line_no += 1
                start_line, col = line_no, 1
            else:
                buffer.append(char)
                col += 1
    if buffer or touched:
        _keep(lines, start_line, buffer, touched)
    return lines, cut, problems


def _keep(lines: list[tuple[int, str]], number: int, buffer: list[str], touched: bool) -> None:
    """Keep a line unless it is empty only because a note or boneyard was cut from it."""
    text = "".join(buffer)
    if text.strip() or not touched:
        lines.append((number, text))


def _title_page(lines: list[tuple[int, str]], script: Script) -> int:
    """Read ``Key: value`` lines at the very top; return the index of the first body line."""
    i = 0
    while i < len(lines) and not lines[i][1].strip():
        i += 1
    first = i
    while i < len(lines):
        number, line = lines[i]
        match = _TITLE_KEY.match(line)
        if not match or not _is_title_key(match.group(1), match.group(2)):
            break
        key, value = match.group(1).strip(), match.group(2).strip()
        i += 1
        extra = []
        while i < len(lines) and re.match(r"^(\t| {3,})\S", lines[i][1]):
            extra.append(lines[i][1].strip())
            i += 1
        script.title_page.append((key, "\n".join([value, *extra]).strip(), number))
    return i if script.title_page else first


def _is_title_key(key: str, value: str) -> bool:
    if key.strip().lower() in _TITLE_KEYS:
        return True
    # an upper-case key with nothing after it is a transition ("FADE IN:"), not a title-page entry
    return key != key.upper() and not key.strip().endswith(" TO")


def _body(lines: list[tuple[int, str]]) -> list[Element]:
    out: list[Element] = []
    prev_blank = True
    in_dialogue = False

    def blank_after(index: int) -> bool:
        return index + 1 >= len(lines) or not lines[index + 1][1].strip()

    for index, (number, raw) in enumerate(lines):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            if in_dialogue and len(raw) >= 2 and raw == " " * len(raw) and out and out[-1].kind == "dialogue":
                last = out[-1]  # two spaces: a deliberate blank line inside dialogue
                out[-1] = Element("dialogue", f"{last.text}\n", last.line)
                continue
            prev_blank, in_dialogue = True, False
            continue
        if in_dialogue:
            if out and out[-1].kind == "parenthetical" and not out[-1].text.endswith(")"):
                last = out[-1]  # a parenthetical written over several lines goes on to its ")"
                out[-1] = Element("parenthetical", f"{last.text} {stripped}", last.line)
            elif stripped.startswith("(") and (stripped.endswith(")") or ")" not in stripped):
                out.append(Element("parenthetical", stripped, number))
            elif stripped.startswith("~"):
                out.append(Element("lyric", stripped[1:].strip(), number, in_dialogue=True))
            elif out and out[-1].kind == "dialogue":
                last = out[-1]
                out[-1] = Element("dialogue", f"{last.text}\n{stripped}" if last.text else stripped, last.line)
            else:
                out.append(Element("dialogue", stripped, number))
            prev_blank = False
            continue
        element = classify(stripped, number, prev_blank, blank_after(index))
        if element.kind == "action" and not prev_blank and out and out[-1].kind == "action":
            last = out[-1]
            out[-1] = Element("action", f"{last.text}\n{element.text}", last.line, last.forced)
        else:
            out.append(element)
        in_dialogue = element.kind == "cue"
        prev_blank = False
    return out


def classify(line: str, number: int, prev_blank: bool, next_blank: bool) -> Element:
    """What one line outside dialogue is, by the spec's rules."""
    if line.startswith("!"):
        return Element("action", line[1:], number, forced=True)
    if re.fullmatch(r"={3,}", line):
        return Element("page_break", "", number)
    if line.startswith("#"):
        level = len(line) - len(line.lstrip("#"))
        return Element("section", line[level:].strip(), number, level=level)
    if line.startswith("="):
        return Element("synopsis", line[1:].strip(), number)
    if line.startswith(">") and line.endswith("<"):
        return Element("centered", line[1:-1].strip(), number)
    if line.startswith(">"):
        return Element("transition", line[1:].strip(), number, forced=True)
    if line.startswith("~"):
        return Element("lyric", line[1:].strip(), number)
    if prev_blank and line.startswith(".") and not line.startswith(".."):
        text, scene_number = _scene_number(line[1:].strip())
        return Element("heading", text, number, forced=True, number=scene_number)
    if prev_blank and _HEADING.match(line):
        text, scene_number = _scene_number(line)
        return Element("heading", text, number, number=scene_number)
    if prev_blank and line.startswith("@") and not next_blank:
        name, extensions, dual = _cue(line[1:])
        if name:
            return Element("cue", name, number, forced=True, extensions=extensions, dual=dual)
    if prev_blank and next_blank and line == line.upper() and (line.endswith("TO:") or _KNOWN_TRANSITION.match(line)):
        return Element("transition", line, number)
    if prev_blank and not next_blank:
        name, extensions, dual = _cue(line)
        # any script with case: every cased letter upper case, at least one (``ИВАН``, ``ΑΝΝΑ``, ``R2D2``);
        # scripts without case (CJK, Hebrew, Arabic) need a forced ``@`` cue
        if name and name.isupper() and not name.endswith(":"):
            return Element("cue", name, number, extensions=extensions, dual=dual)
    return Element("action", line, number)


def _scene_number(heading: str) -> tuple[str, str]:
    match = _SCENE_NUMBER.search(heading)
    if not match:
        return heading, ""
    return heading[: match.start()].strip(), match.group(1)


def _cue(text: str) -> tuple[str, tuple[str, ...], bool]:
    """``MARA (V.O.) ^`` -> ``("MARA", ("V.O.",), True)``."""
    text = text.strip()
    dual = text.endswith("^")
    if dual:
        text = text[:-1].rstrip()
    extensions = tuple(m.strip() for m in re.findall(r"\(([^)]*)\)", text))
    name = re.sub(r"\([^)]*\)", "", text).strip()
    return name, extensions, dual


_ESCAPABLE = set("*_\\~!@#.>=<^[]/()")


@dataclass
class _Run:
    """A run of one emphasis character (``***``, ``_``) and what pairing has left of it."""

    char: str
    left: int
    can_open: bool
    can_close: bool


def plain(text: str) -> str:
    """Text without emphasis markup (``*italic*``, ``**bold**``, ``***both***``, ``_underline_``) or escapes.

    Delimiters pair as Fountain (and Markdown) readers pair them: an opener is
    at the start of a word (a non-space after it, no letter or digit before
    it), a closer at the end of one; each closer takes the nearest open run of
    its character, as many characters as both have. What does not pair stays
    as written (``5*3 and 2*2``), and an escaped character (``\\*``) is
    always literal. A regular expression cannot do this: ``*I* did. *You* did.``
    needs the pairing to be found left to right.
    """
    pieces: list[str | _Run] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            pieces.append(text[i + 1])
            i += 2
        elif char in "*_":
            j = i
            while j < n and text[j] == char and j - i < 3:
                j += 1
            before = text[i - 1] if i else " "
            after = text[j] if j < n else " "
            pieces.append(
                _Run(
                    char,
                    j - i,
                    can_open=not after.isspace() and not before.isalnum(),
                    can_close=not before.isspace() and not after.isalnum(),
                )
            )
            i = j
        else:
            pieces.append(char)
            i += 1
    openers: list[_Run] = []
    for piece in pieces:
        if not isinstance(piece, _Run):
            continue
        if piece.can_close:
            while piece.left and (match := next((o for o in reversed(openers) if o.char == piece.char), None)):
                used = min(match.left, piece.left)
                match.left -= used
                piece.left -= used
                del openers[openers.index(match) + 1 :]  # runs opened inside and never closed stay literal
                if not match.left:
                    openers.pop()
        if piece.can_open and piece.left:
            openers.append(piece)
    return "".join(p if isinstance(p, str) else p.char * p.left for p in pieces)


def escape(text: str) -> str:
    """The inverse of :func:`plain`: text that reads literally, markup and notes included."""
    return re.sub(r"([*_\\])", r"\\\1", text).replace("[[", "\\[[")
