"""A parsed screenplay -> a storyboard draft, broken down as a storyboard artist would.

* Each scene heading sets the world: its place (interior or exterior), its time
  of day, and the weather and light its action names. A scene in the same place
  as the one before carries on with a ``continue`` shot; a new place opens with
  an establishing wide shot.
* Each action paragraph is a shot (wide when it shows several people, medium
  for one); each exchange of dialogue is a medium shot; a single line of strong
  emotion gets its own close-up; INSERT and POV headings are close-ups of the
  place we are already in.
* Speakers become the cast, described by their capitalised introduction in
  action (``BRICK BRADDOCK, retired police detective``); capitalised nouns
  after an article become props.
* Every spoken line is kept once, in order, with its speaker; what has no
  storyboard meaning (notes, boneyard, sections, synopses, page breaks, other
  parentheticals, scene numbers) is kept as a comment where it was.
* Sounds written in capitals become sound effects; a paragraph or speech longer
  than a storyboard field is split, never cut.

A script exported by ``sora export fountain`` carries ``[[sora ...]]`` notes with
what a screenplay cannot say (shot ids, cameras, cast, the world); when they are
present they are followed exactly (:mod:`.notes`), so an import of an export gives
the same shots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sora_cli.screenplay import words
from sora_cli.screenplay.draft import (
    COMMENT_KINDS,
    SHOT_NOTE,
    UNKNOWN_PLACE,
    Draft,
    DraftLine,
    DraftShot,
    comment_for,
    spoken,
)
from sora_cli.screenplay.headings import bare, split_heading, time_jump, time_of
from sora_cli.screenplay.notes import Noted
from sora_cli.screenplay.parse import Element, Script, plain


def breakdown(script: Script, file: str, default_title: str) -> Draft:
    """Break ``script`` into a storyboard draft."""
    if any(e.kind == "note" and e.text.startswith(SHOT_NOTE) for e in script.elements):
        return Noted(script, file).run()
    return _Artist(script, default_title).run()


@dataclass
class _Block:
    """One character's speech: the cue and what follows it."""

    cue: Element
    parts: list[Element]


class _Artist:
    """The heuristic breakdown of a plain screenplay."""

    def __init__(self, script: Script, default_title: str):
        self.script = script
        self.title = script.title() or default_title
        self.characters: dict[str, dict[str, Any]] = {}  # id -> {description}
        self.character_comments: dict[str, str] = {}
        self.names: dict[str, str] = {}  # upper-case name or alias -> id
        self.props: dict[str, str] = {}  # id -> description
        self.prop_words: dict[str, str] = {}  # upper-case word(s) -> id
        self.shots: list[DraftShot] = []
        self.pending: list[str] = []
        self.transition: tuple[dict[str, Any], str] | None = None
        self.world: dict[str, Any] = {}
        self.current: dict[str, Any] = {}
        self.scene = 0
        self.shot_in_scene = 0
        self.framing_hint: str | None = None
        self.sources: dict[str, int] = {}  # storyboard path -> script line (problems are reported there)

    # ---- who and what -------------------------------------------------------------------
    def _cast_and_props(self) -> None:
        for element in self.script.elements:
            if element.kind == "cue":
                self.sources.setdefault(f"world.characters.{self._character(element.text)}", element.line)
        for element in self.script.elements:
            if element.kind == "action":
                self._introductions(plain(element.text), element.line)
        for element in self.script.elements:
            if element.kind == "action":
                self._find_props(plain(element.text), element.line)

    def _character(self, name: str) -> str:
        key = name.upper()
        if key in self.names:
            return self.names[key]
        base = words.slug(name) or f"character_{len(self.characters) + 1}"
        char_id, n = base, 2
        while char_id in self.characters:
            char_id, n = f"{base}_{n}", n + 1
        self.characters[char_id] = {"description": ""}
        self.names[key] = char_id
        return char_id

    _INTRO = re.compile(
        r"(?<![\w'])((?:(?:Mc|Mac)?[A-Z][A-Z0-9'’.-]*)(?:[ \t]+(?:Mc|Mac)?[A-Z][A-Z0-9'’.-]*)*)"
        r"(?:\s*\(([^)]*)\))?,\s*([^,.;:!?\n]+)"
    )

    def _introductions(self, text: str, line: int) -> None:
        for match in self._INTRO.finditer(text):
            full, age, description = match.group(1).strip(), match.group(2), match.group(3).strip()
            tokens = full.split()
            while tokens and tokens[0].lower() in words.DETERMINERS:
                tokens = tokens[1:]
            if not tokens or len("".join(tokens)) < 2 or tokens[0].lower().strip(".") in words.NOT_PROPS:
                continue
            full = " ".join(tokens)
            char_id = self._who_is(full)
            if char_id is None:
                # someone who never speaks: an age, or "a ..." after a name that no article or possessive owns
                owner = re.findall(r"[A-Za-z]+", text[: match.start()])[-1:]
                owned = bool(owner) and owner[0].lower() in words.DETERMINERS - {"a", "an", "one"}
                if owned or not (age or re.match(r"(?:a|an)\b", description)):
                    continue
                char_id = self._character(full)
            self.names.setdefault(full.upper(), char_id)
            if not self.characters[char_id]["description"]:
                aged = f" ({age.strip()})" if age else ""
                self.characters[char_id]["description"] = f"{_capitalised(full)}{aged}, {description}"
                self.character_comments[char_id] = f"introduced at line {line} as {full}"
                self.sources[f"world.characters.{char_id}.description"] = line

    def _who_is(self, name: str) -> str | None:
        """The character a capitalised name is: the whole name, or one of its words, is a cue."""
        upper = name.upper()
        if upper in self.names:
            return self.names[upper]
        for word in upper.split():
            if word in self.names:
                return self.names[word]
        return None

    _CAPS = re.compile(r"(?<![\w'])([A-Z][A-Z0-9'’-]+(?:[ \t]+[A-Z][A-Z0-9'’-]+)*)(?![\w'])")

    def _find_props(self, text: str, line: int) -> None:
        for match in self._CAPS.finditer(text):
            phrase = match.group(1)
            if self._who_is(phrase) or phrase.lower() in words.NOT_PROPS or words.is_sound(phrase):
                continue
            if phrase.upper() in self.prop_words:
                continue
            before = re.findall(r"[A-Za-z'’]+", text[: match.start()])[-3:]
            lowered = [w.lower() for w in before]
            if not any(w in words.DETERMINERS for w in lowered):
                continue
            start = max(i for i, w in enumerate(lowered) if w in words.DETERMINERS)
            adjectives = [w for w in before[start + 1 :] if w.islower()]
            prop_id = words.slug(phrase)
            if not prop_id or prop_id in self.characters or prop_id in self.props:
                continue
            self.props[prop_id] = " ".join([*adjectives, phrase.lower()])
            self.prop_words[phrase.upper()] = prop_id
            self.sources[f"world.props.{prop_id}"] = line

    def _mentioned(self, text: str) -> tuple[list[str], list[str]]:
        """The characters (in order of first mention) and props an action names."""
        found: list[tuple[int, str]] = []
        for name, char_id in self.names.items():
            if not name.strip():
                continue
            for match in re.finditer(rf"(?<![\w']){re.escape(name)}(?!\w)", text, re.IGNORECASE):
                if match.group()[0].isupper():
                    found.append((match.start(), char_id))
                    break
        cast = list(dict.fromkeys(char_id for _, char_id in sorted(found)))
        props = [pid for word, pid in self.prop_words.items() if re.search(rf"(?<![\w']){re.escape(word)}(?!\w)", text)]
        return cast, list(dict.fromkeys(props))

    # ---- the breakdown --------------------------------------------------------------------
    def run(self) -> Draft:
        self._cast_and_props()
        head_comments = [
            f"Title page: {key}: {' / '.join(value.splitlines())}" for key, value, _ in self.script.title_page
        ]
        scenes = self._scenes()
        for heading, items in scenes:
            self._scene(heading, items)
        tail = list(self.pending)
        if self.transition is not None:
            tail.append(f"the film ends on {self.transition[1]}")
        for char_id, character in self.characters.items():
            if not character["description"]:
                name = next(n for n, c in self.names.items() if c == char_id)
                character["description"] = _capitalised(name)
        head: dict[str, Any] = {"version": 1, "title": self.title, "world": self.world}
        self.world["characters"] = self.characters
        if self.props:
            self.world["props"] = {pid: {"description": d} for pid, d in self.props.items()}
        title_line = next((line for key, _, line in self.script.title_page if key.lower() == "title"), None)
        if title_line is not None:
            self.sources["title"] = title_line
        heading = next((e for e in self.script.elements if e.kind == "heading"), None)
        if heading is not None:
            self.sources.setdefault("world", heading.line)
        return Draft(head, head_comments, self.character_comments, self.shots, tail, self.sources)

    def _scenes(self) -> list[tuple[Element | None, list[Element]]]:
        scenes: list[tuple[Element | None, list[Element]]] = []
        current: list[Element] = []
        heading: Element | None = None
        for element in self.script.elements:
            if element.kind == "heading":
                if heading is not None or any(e.kind not in (*COMMENT_KINDS, "transition") for e in current):
                    scenes.append((heading, current))
                    current = []
                elif current:  # only comments and transitions before the first heading: they lead into it
                    scenes.append((None, current))
                    current = []
                heading = element
            else:
                current.append(element)
        scenes.append((heading, current))
        return scenes

    def _scene(self, heading: Element | None, items: list[Element]) -> None:
        if heading is None and not any(e.kind not in (*COMMENT_KINDS, "transition") for e in items):
            for item in items:  # comments and a transition ahead of the first scene
                self._other(item)
            return
        insert = heading is not None and bool(re.search(r"^INSERT\b|\bPOV\b", heading.text, re.I))
        place = self._place(heading, items) if not insert else None
        if heading is not None:
            number = f" #{heading.number}#" if heading.number else ""
            self.pending.append(f"{'Insert' if insert else 'Scene'}: {heading.text}{number}  (line {heading.line})")
        if not insert:
            self.scene += 1
            self.shot_in_scene = 0
        self.framing_hint = "close_up" if insert else None
        same_place = place is not None and self.current.get("location") == place["location"]
        changes: dict[str, Any] = {}
        if place is not None:
            if not self.world:
                self.world.update(place)
                self.current = dict(place)
            else:
                changes = {k: v for k, v in place.items() if self.current.get(k) != v}
                self.current.update(place)
        # only the same place at the same time carries on (CONTINUOUS); a time jump is a cut
        jump = "time_of_day" in changes or (heading is not None and time_jump(heading.text))
        continuing = same_place and not jump and not insert and self.shots != []
        first = True
        blocks = self._blocks(items)
        for block in blocks:
            if isinstance(block, Element) and block.kind in (*COMMENT_KINDS, "transition"):
                self._other(block)
                continue
            shot_changes = changes if first else {}
            opens_with_action = isinstance(block, Element) and block.kind == "action"
            if first and not continuing and not insert and not opens_with_action:
                self._shot(self._establishing(place or {}), "wide", [], [], block_line(block), shot_changes)
                shot_changes = {}
                first = False
            self._content(block, first=first, continuing=continuing and first, changes=shot_changes)
            first = False
        if first and heading is not None:  # a heading with nothing under it: still show the place
            self._shot(self._establishing(place or {}), "wide", [], [], heading.line, changes, continuing)

    def _place(self, heading: Element | None, items: list[Element]) -> dict[str, Any]:
        action = " ".join(plain(e.text) for e in items if e.kind == "action")
        if heading is None:
            location, when = UNKNOWN_PLACE, ""
        else:
            location, when = split_heading(heading.text, heading.forced)
        place: dict[str, Any] = {"location": location}
        time_said, _, after = when.partition(" - ")
        time, light = time_of(bare(time_said))
        if after:
            line = heading.line if heading else 1
            self.pending.append(f"heading also says {after!r}  (line {line})")
            action = f"{after} {action}"
        if when and time is None and bare(time_said) not in words.RELATIVE_TIMES:
            line = heading.line if heading else 1
            self.pending.append(f"time {when!r} is not a time of day; the time carries on  (line {line})")
        if time is not None:
            place["time_of_day"] = time
        weather = words.weather_in(action)
        same = self.current.get("location") == location
        if weather or not same:
            place["weather"] = weather or "clear"
        named_light = words.light_in(action)
        lighting = named_light or light
        if lighting or (time is not None and not same):
            place["lighting"] = lighting or "natural"
        if not self.world:
            place.setdefault("time_of_day", "day")
        return place

    def _establishing(self, place: dict[str, Any]) -> str:
        location = self.current.get("location", place.get("location", UNKNOWN_PLACE))
        return f"Establishing: {location}"

    def _blocks(self, items: list[Element]) -> list[Any]:
        """Group dialogue elements under their cue; pair dual dialogue."""
        out: list[Any] = []
        for element in items:
            if element.kind == "cue":
                block = _Block(element, [])
                if element.dual and out and isinstance(out[-1], _Block):
                    out[-1] = (out[-1], block)
                else:
                    out.append(block)
            elif out and _open_block(out[-1]) and _belongs(element, out[-1], items):
                (out[-1][1] if isinstance(out[-1], tuple) else out[-1]).parts.append(element)
            elif element.kind == "lyric" and out and isinstance(out[-1], Element) and out[-1].kind == "lyric":
                out[-1] = Element("lyric", f"{out[-1].text}\n{element.text}", out[-1].line)
            else:
                out.append(element)
        return out

    def _content(self, block: Any, *, first: bool, continuing: bool, changes: dict[str, Any]) -> None:
        if isinstance(block, Element):
            if block.kind == "action":
                whole = re.sub(r"\s+", " ", plain(block.text)).strip()
                for part, text in enumerate(chunks(whole)):  # a paragraph too long for one shot goes on in the next
                    cast, props = self._mentioned(text)
                    framing = self.framing_hint or ("wide" if first or len(cast) != 1 else "medium")
                    move = "handheld" if words.MOTION.search(text) else "static"
                    if first and not continuing and _exterior(self.current.get("location", "")):
                        framing, move = "extreme_wide", "pan_right" if move == "static" else move
                    self._shot(text, framing, cast, props, block.line, changes, continuing or part > 0, move)
                    if sfx := words.sounds_in(text):
                        self.shots[-1].fields["sfx"] = sfx
                    changes, first = {}, False
            elif block.kind == "centered":
                self._shot(f"Title card: {spoken(block.text)}", "wide", [], [], block.line, changes, continuing)
            elif block.kind == "lyric":
                sung = " / ".join(spoken(line) for line in block.text.splitlines())
                self.pending.append(f"lyrics with no singer  (line {block.line})")
                self._shot(f"Song: {sung}", "wide", [], [], block.line, changes, continuing)
            else:  # a stray parenthetical or dialogue cannot occur; keep anything else as a comment
                self.pending.append(f"{block.kind}: {block.text}  (line {block.line})")
            return
        if isinstance(block, tuple):
            self._dual(block, changes, continuing)
            return
        lines = self._lines(block)
        if not lines:
            self.pending.append(f"{block.cue.text}: a cue with nothing said  (line {block.cue.line})")
            return
        strong = len(lines) == 1 and not _off_screen(block.cue) and _strong(lines[0], block)
        on_screen = [] if _off_screen(block.cue) else [self._character(block.cue.text)]
        framing = self.framing_hint or ("close_up" if strong else "medium")
        if self.shots and self._can_join(framing, strong, changes, continuing):
            shot = self.shots[-1]
            for name in on_screen:
                if name not in shot.fields["cast"]:
                    shot.fields["cast"].append(name)
            shot.lines.extend(lines)
            return
        self._shot("", framing, on_screen, [], block.cue.line, changes, continuing)
        self.shots[-1].lines.extend(lines)
        self.shots[-1].fields["_exchange"] = not strong

    def _can_join(self, framing: str, strong: bool, changes: dict[str, Any], continuing: bool) -> bool:
        last = self.shots[-1]
        return (
            not strong
            and not changes
            and not continuing
            and self.transition is None
            and not self.pending
            and last.fields.get("_exchange", False)
            and last.fields["camera"]["framing"] == framing
            and len(last.lines) < 6
        )

    def _dual(self, pair: tuple[_Block, _Block], changes: dict[str, Any], continuing: bool) -> None:
        left, right = (self._lines(b) for b in pair)
        cast = [self._character(b.cue.text) for b in pair if not _off_screen(b.cue)]
        self._shot(
            "", self.framing_hint or "medium", list(dict.fromkeys(cast)), [], pair[0].cue.line, changes, continuing
        )
        shot = self.shots[-1]
        shot.comments.append(f"dual dialogue: {pair[0].cue.text} and {pair[1].cue.text} speak at once")
        for side in (left, right):
            if side:
                side[0].fields["at"] = 0.3
        shot.lines.extend(left + right)

    def _lines(self, block: _Block) -> list[DraftLine]:
        speaker = self._character(block.cue.text)
        notes: list[str] = []
        if block.cue.extensions:
            notes.append(f"{block.cue.text} ({') ('.join(block.cue.extensions)})  (line {block.cue.line})")
        if block.cue.forced:
            notes.append(f"@{block.cue.text}: a forced character cue  (line {block.cue.line})")
        delivery: str | None = None
        out: list[DraftLine] = []
        for part in block.parts:
            if part.kind == "parenthetical":
                delivery = words.delivery_of(part.text)
                notes.append(f"{part.text}  (line {part.line})" + (f": delivery {delivery}" if delivery else ""))
            elif part.kind == "note":
                notes.append(comment_for(part))
            else:
                text = spoken(part.text)
                if not text:
                    notes.append(f"an empty line of dialogue  (line {part.line})")
                    continue
                if part.kind == "lyric":
                    notes.append(f"sung: ~{part.text}  (line {part.line})")
                for said in chunks(text):  # a speech longer than a line may be is said in parts
                    fields: dict[str, Any] = {"speaker": speaker, "line": said}
                    if delivery:
                        fields["delivery"] = delivery
                    out.append(DraftLine(fields, notes, part.line))
                    notes = []
                delivery = None
        if notes and out:
            out[-1].comments.extend(notes)
        elif notes:
            self.pending.extend(notes)
        return out

    def _other(self, element: Element) -> None:
        if element.kind == "transition":
            kind = _transition(element.text)
            said = (
                "" if kind["type"] != "cut" or element.text.upper().rstrip(":. ") in ("CUT TO", "CUT") else " (a cut)"
            )
            self.transition = (kind, element.text)
            self.pending.append(f"{'>' if element.forced else ''}{element.text}{said}  (line {element.line})")
            return
        self.pending.append(comment_for(element))

    def _shot(
        self,
        action: str,
        framing: str,
        cast: list[str],
        props: list[str],
        line: int,
        changes: dict[str, Any],
        continuing: bool = False,
        move: str = "static",
    ) -> None:
        self.shot_in_scene += 1
        fields: dict[str, Any] = {
            "id": f"s{max(self.scene, 1):02d}-{self.shot_in_scene:02d}",
            "action": action,
            "camera": {"framing": framing, "move": move},
            "cast": list(cast),
            "props": list(props),
        }
        comments = list(self.pending)
        self.pending = []
        transition = self.transition
        self.transition = None
        if transition is not None:
            kind = transition[0]
            if not self.shots and kind["type"] == "crossfade":
                kind = {"type": "fade_black", "duration": kind["duration"]}
            if kind["type"] != "cut":
                fields["transition"] = kind
        if continuing and self.shots and transition is None:
            fields["continuity"] = "continue"
        if changes and self.shots:
            fields["set"] = dict(changes)
        while any(s.fields["id"] == fields["id"] for s in self.shots):
            fields["id"] += "b"
        self.shots.append(DraftShot(fields, [], comments, line))


#: The longest text a storyboard field holds (``Text`` in the model).
MAX_TEXT = 4000


def chunks(text: str, limit: int = MAX_TEXT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut after a sentence where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        # the last sentence end that fits; failing that a clause, then a word
        for marks in ((". ", "! ", "? ", "… ", '." ', '!" ', '?" '), ("; ", ": ", ", ", " — "), (" ",)):
            cut = max(text.rfind(mark, 0, limit) for mark in marks)
            if cut > 0:
                cut += len(next(m for m in marks if text.startswith(m, cut))) - 1
                break
        cut = cut if cut > 0 else limit
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*pieces, text]


def _capitalised(name: str) -> str:
    """``BOB'S BROTHER`` -> ``Bob's Brother``, ``O'NEIL`` -> ``O'Neil`` (``str.title`` gives ``Bob'S``)."""
    return re.sub(r"[^\W\d_]+(?:['’][sS]\b)?", lambda m: m.group()[:1].upper() + m.group()[1:].lower(), name)


def block_line(block: Any) -> int:
    if isinstance(block, tuple):
        return block[0].cue.line
    return block.cue.line if isinstance(block, _Block) else block.line


def _open_block(item: Any) -> bool:
    return isinstance(item, (_Block, tuple))


def _belongs(element: Element, block: Any, items: list[Element]) -> bool:
    """Whether an element is part of the speech block before it (a note inside or at the end of it counts)."""
    if element.kind in ("parenthetical", "dialogue") or (element.kind == "lyric" and element.in_dialogue):
        return True
    if element.kind != "note":
        return False
    last = block[1] if isinstance(block, tuple) else block
    end = max([last.cue.line, *(p.line for p in last.parts)])
    index = items.index(element)
    following = items[index + 1] if index + 1 < len(items) else None
    return element.line <= end or (following is not None and following.kind in ("dialogue", "parenthetical"))


def _off_screen(cue: Element) -> bool:
    return any(words.OFF_SCREEN.match(ext.strip()) for ext in cue.extensions)


def _strong(line: DraftLine, block: _Block) -> bool:
    """A single line said with strong emotion: shouted, exclaimed, emphasised, or marked so."""
    raw = " ".join(p.text for p in block.parts if p.kind == "dialogue")
    parentheticals = " ".join(p.text for p in block.parts if p.kind == "parenthetical")
    text = line.fields["line"]
    letters = re.sub(r"[^A-Za-z]", "", text)
    return (
        line.fields.get("delivery") == "shout"
        or text.rstrip().endswith("!")
        or bool(words.EMOTION.search(parentheticals))
        or (("*" in raw or "_" in raw) and plain(raw) != raw)
        or (len(letters) >= 4 and letters == letters.upper())
    )


def _exterior(location: str) -> bool:
    return location.endswith(", exterior")


def _transition(text: str) -> dict[str, Any]:
    upper = text.upper()
    if "DISSOLVE" in upper or "CROSSFADE" in upper or "MIX TO" in upper or "LAP" in upper:
        return {"type": "crossfade", "duration": 1.0}
    if "WHITE" in upper:
        return {"type": "fade_white", "duration": 1.0}
    if "FADE" in upper or "BLACK" in upper:
        return {"type": "fade_black", "duration": 1.0}
    return {"type": "cut"}
