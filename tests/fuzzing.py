"""Generated storyboards, valid and hostile, for the fuzz test and for `make fuzz`.

One generator, two drivers: the suite draws a bounded number of cases through
hypothesis (``st.randoms()``), ``python -m tests.fuzzing --cases 10000`` draws
many from seeded ``random.Random`` and counts what ``sora validate`` and ``sora
plan`` answer. Either way the promise is the same: exit 0 or 2, never a
traceback, never exit 1 ("internal error") for an input.

Cases start from the example storyboards and are changed in three ways:
structure (a value replaced, deleted, renamed, duplicated), text (YAML syntax
characters spliced in), hostile (control characters, deep nesting, alias
cycles and bombs, bad merge keys, unclosed quotes, tags, huge values, keys with
line breaks, several documents, CRLF, tabs).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import random
import sys
import time
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "storyboards"
SOURCES = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))}
DATA = {name: yaml.safe_load(text) for name, text in SOURCES.items()}

CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9b", "\ufffe", "\uffff"]
ODD_TEXT = [
    "",
    " ",
    "\n",
    "a\nb",
    "\t",
    "--> 00:00:01,000",
    "{\\an8}",
    "\\N",
    "<i>x</i>",
    "日本語",
    "😀",
    "\u2028",
    "\u200b",
    "‮",
    "../../etc/passwd",
    "/etc/passwd",
    "~/x.wav",
    "assets/mara.png",
    "assets/theme.wav",
    "continue",
    "crossfade",
    "mara",
    "snow",
    "whisper",
    "-1",
    "1e9",
    "0x10",
    "on",
    "null",
    "~",
    "!!python/object:os.system",
]
SYNTAX = list(":-[]{}&*!|>'\"#%@`,?\n\t x1")


def _text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(ODD_TEXT)
    if roll < 0.5:
        return rng.choice(CONTROL) + rng.choice(ODD_TEXT)
    if roll < 0.55:
        return "x" * rng.choice([4001, 5000, 70_000])
    alphabet = "abcxyz _-.:/\\\n\t" + "".join(CONTROL[:3]) + "éß日😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if depth < 3 and roll < 0.3:
        return {_text(rng) or "k": _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    return rng.choice(
        [
            None,
            True,
            False,
            rng.randint(-5, 5000),
            rng.choice([0.0, -0.5, 1e9, 1e300, float("nan"), float("inf"), -float("inf")]),
            _text(rng),
            2**70,
        ]
    )


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def mutated_structure(rng: random.Random) -> str:
    data = copy.deepcopy(DATA[rng.choice(sorted(DATA))])
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = rng.choice(["replace", "replace", "delete", "rename", "duplicate"])
        if action == "replace":
            parent[key] = _value(rng)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[_text(rng) or "k"] = parent.pop(key)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return yaml.safe_dump(data, allow_unicode=rng.random() < 0.7, sort_keys=False, width=rng.choice([40, 80, 10_000]))


def mutated_text(rng: random.Random) -> str:
    text = SOURCES[rng.choice(sorted(SOURCES))]
    for _ in range(rng.randint(1, 3)):
        at, cut = rng.randint(0, len(text)), rng.randint(0, 5)
        text = text[:at] + "".join(rng.choice(SYNTAX) for _ in range(rng.randint(0, 4))) + text[at + cut :]
    return text


def _splice(text: str, rng: random.Random, piece: str, *, line_start: bool = False) -> str:
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    if line_start:
        lines.insert(i, piece)
    else:
        at = rng.randint(0, len(lines[i]))
        lines[i] = lines[i][:at] + piece + lines[i][at:]
    return "\n".join(lines)


def hostile(rng: random.Random) -> str:
    text = SOURCES[rng.choice(sorted(SOURCES))]
    depth = rng.choice([10, 31, 33, 100, 600, 5000])
    attack = rng.choice(
        [
            lambda: _splice(text, rng, rng.choice(CONTROL)),
            lambda: text.replace("title:", f"junk: {'[' * depth}{']' * depth}\ntitle:", 1),
            lambda: text.replace("title:", "junk: " + "{a: " * depth + "1" + "}" * depth + "\ntitle:", 1),
            lambda: text.replace("title:", "junk:\n" + "".join("  " * i + "-\n" for i in range(depth)) + "title:", 1),
            lambda: text.replace("world:", "junk: &loop {again: *loop}\nworld:", 1),
            lambda: text.replace("world:\n", "world:\n  <<: " + rng.choice(["3", "[1]", "null", "*nope", "[{}, x]"]) + "\n", 1),
            lambda: text.replace("world:\n", "world: &w\n  <<: *w\n", 1),
            lambda: text.replace("title: ", 'title: "', 1) + "\n\n",
            lambda: text.replace("title: ", "title: '", 1),
            lambda: text.replace(
                "title:", "title: " + rng.choice(["!!binary aGk=", "!!python/object:os.system x", "!!set {a}", "!foo x"]) + "\nx:", 1
            ),
            lambda: text.replace("title:", 'x: &a ["lol", "lol"]\n' + "".join(f"y{i}: &a{i} [*a, *a, *a]\n" for i in range(3)) + "title:", 1),
            lambda: text.replace("title:", '"key\\nwith\\nbreaks": 1\ntitle:', 1),
            lambda: text + "---\nversion: 1\n",
            lambda: text.replace("\n", "\r\n"),
            lambda: text.replace("  ", "\t", rng.randint(1, 3)),
            lambda: text.replace("title:", f"title: {'x' * rng.choice([3999, 4001, 100_000])}\nold_title:", 1),
            lambda: "\ufeff" + text,
            lambda: text.replace("version: 1", rng.choice(["version: 2", "version: '1'", "version: 1.0", "version:"]), 1),
            lambda: _splice(text, rng, rng.choice(["? [a, b]\n: c", "? |\n  long\n: d", "&x", "*y", "%YAML 1.1"]), line_start=True),
            lambda: "",
            lambda: rng.choice(["[]", "3", "~", "- a", "'just text'", "{}"]),
        ]
    )
    return attack()


def storyboard(rng: random.Random) -> str:
    """One generated storyboard text."""
    kind = rng.random()
    if kind < 0.4:
        return mutated_structure(rng)
    if kind < 0.7:
        return mutated_text(rng)
    return hostile(rng)


def answer(command: str, text: str) -> tuple[int, bool]:
    """(exit code, whether a traceback or an internal error came out) of ``sora COMMAND -`` on ``text``."""
    from tests.conftest import run_cli

    args = ["validate", "-"] if command == "validate" else ["plan", "-", "--json"]
    with contextlib.chdir(EXAMPLES):
        try:
            result = run_cli(*args, stdin=text)
        except BaseException:  # run_cli does not catch: anything escaping is a traceback
            return -1, True
    output = result.stdout + result.stderr
    return result.code, "Traceback" in output or "internal error" in output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz `sora validate` and `sora plan` with generated storyboards.")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    codes: dict[str, collections.Counter[int]] = {"validate": collections.Counter(), "plan": collections.Counter()}
    broken: list[tuple[int, str, str]] = []
    started = time.perf_counter()
    for case in range(args.cases):
        text = storyboard(rng)
        for command in codes:
            code, crashed = answer(command, text)
            codes[command][code] += 1
            if crashed or code not in (0, 2):
                broken.append((case, command, text))
        if (case + 1) % 1000 == 0:
            print(f"{case + 1} cases, {len(broken)} tracebacks, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"cases: {args.cases} (seed {args.seed}), {time.perf_counter() - started:.0f} s")
    for command, counter in codes.items():
        print(f"{command}: " + ", ".join(f"exit {code}: {n}" for code, n in sorted(counter.items())))
    print(f"tracebacks or internal errors: {len(broken)}")
    for case, command, text in broken[:5]:
        print(f"--- case {case} ({command}):\n{text[:2000]!r}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
