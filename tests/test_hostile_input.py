"""Hostile or broken storyboard text: every problem is located, exit 2, one line each, never a traceback."""

from __future__ import annotations

import re

import pytest

from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, MINIMAL, problems_of, run_cli

LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<rest>.*)$")


def _located(problems: list[str]) -> list[tuple[int, int, str]]:
    out = []
    for problem in problems:
        m = LINE.match(problem)
        assert m, problem
        out.append((int(m["line"]), int(m["col"]), m["rest"]))
    return out


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9b", "\ufffe", "\uffff"])
def test_control_characters_in_the_file_are_located(char: str):
    text = MINIMAL.replace("a city street", f"a city{char} street")
    [(line, col, message)] = _located(problems_of(text))
    assert (line, col) == (4, 20)
    assert f"U+{ord(char):04X}" in message


@pytest.mark.parametrize("escape", ["\\0", "\\e", "\\x7f", "\\x9b", "\\r", "\\uFFFE"])
def test_control_characters_made_by_escapes_are_refused_at_the_value(escape: str):
    text = MINIMAL.replace('"Hello there."', f'"Hello{escape} there."')
    [(line, _col, message)] = _located(problems_of(text))
    assert line == 14
    assert message.startswith("shots[0].dialogue[0].line: the text contains U+")


def test_tabs_and_line_breaks_in_values_are_text():
    assert problems_of(MINIMAL.replace('"Hello there."', '"Hello\\tthere,\\nfriend."')) == []


def test_cli_exit_2_for_a_nul_byte():
    result = run_cli("validate", "-", stdin=MINIMAL.replace("Test", "Te\x00st"))
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("<stdin>:2:10: U+0000 (NUL)")


@pytest.mark.parametrize("opening,closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_nesting_beyond_the_limit_is_located_not_a_recursion_error(opening: str, closing: str):
    from sora_cli.storyboard.source import MAX_DEPTH

    if opening == "- ":
        deep = "".join("  " * i + "-\n" for i in range(600)) + "  " * 600 + "x\n"
        text = "version: 1\nnest:\n" + deep
    else:
        text = f"version: 1\nnest: {opening * 600}1{closing * 600}\n"
    [(line, _col, message)] = _located(problems_of(text))
    assert line >= 2
    assert f"more than {MAX_DEPTH} levels" in message


def test_nesting_within_the_limit_still_works():
    text = MINIMAL.replace("options: {}", "") + "backend: {options: {a: {b: {c: {d: [[[1]]]}}}}}\n"
    # the animatic refuses unknown options at render time, not at load time: the YAML loads
    assert not any("levels" in p for p in problems_of(text))


def test_self_referencing_anchor_is_located():
    text = MINIMAL.replace('location: "a city street"', 'location: "a city street"\n  extra: &loop {again: *loop}')
    problems = problems_of(text)
    assert any("an alias refers to a value that contains it" in p and p.startswith("sb.yaml:5:") for p in problems)


def test_merge_key_into_itself_is_located():
    text = MINIMAL.replace("props:\n    bike:", "props: &p\n    <<: *p\n    bike:")
    assert any("contains it" in p for p in problems_of(text))


@pytest.mark.parametrize("value", ["3", "[3]", "[{a: 1}, x]", "null"])
def test_merge_key_with_a_non_mapping_is_located(value: str):
    text = MINIMAL.replace("    bike: {", f"    <<: {value}\n    bike: {{")
    [(line, _col, message)] = _located(problems_of(text))
    assert line == 9
    assert "merge key" in message


def test_merge_keys_merge_and_explicit_keys_win():
    text = MINIMAL.replace(
        "  - id: two\n    cast: [ann]\n",
        "  - &base {id: two, cast: [ann], action: walks}\n  - {<<: *base, id: three, action: runs}\n",
    )
    sb = parse_storyboard(text, "sb.yaml", EXAMPLES)
    assert [(s.id, s.cast, s.action) for s in sb.shots[1:]] == [("two", ["ann"], "walks"), ("three", ["ann"], "runs")]


def test_duplicate_explicit_keys_are_still_refused():
    text = MINIMAL.replace("title: Test", "title: Test\ntitle: Again")
    assert any("duplicate key 'title'" in p for p in problems_of(text))


def test_an_unclosed_quote_points_where_it_opened():
    text = MINIMAL.replace('"Hello there."}', '"Hello there.}') + "\n\n\n"
    [(line, col, message)] = _located(problems_of(text))
    assert (line, col) == (14, text.splitlines()[13].index('"') + 1)
    assert "never closed" in message


@pytest.mark.parametrize(
    "text",
    [
        MINIMAL.replace("title: Test", 'title: Test\n"bad\\nkey": 1'),
        MINIMAL.replace("title: Test", 'title: Test\n"bad\\u2028key": 1'),
        MINIMAL.replace("  - id: two", '  - id: "two\\nthree"'),
        MINIMAL.replace("cast: [ann]", 'cast: ["an\\nn"]'),
        MINIMAL.replace('location: "a city street"', 'location: x\n  weather: "a\\nb"'),
    ],
)
def test_newlines_in_keys_and_values_never_split_a_message(text: str):
    result = run_cli("validate", "-", stdin=text)
    assert result.code == 2
    for line in result.stderr.splitlines():
        assert LINE.match(line), line
    assert "\\n" in result.stderr or "\\u2028" in result.stderr


# --- documented limits ---------------------------------------------------------------------------


def _shots(n: int, duration: float) -> str:
    return "".join(f"  - {{id: s{i}, duration: {duration}}}\n" for i in range(n))


def test_a_69_day_4k_square_120fps_film_is_refused():
    text = "version: 1\ntitle: Long\noutput: {width: 4096, height: 4096, fps: 120}\nworld: {location: x}\nshots:\n"
    text += _shots(10_000, 600)
    problems = problems_of(text)
    assert any(p.startswith("sb.yaml:3:") and "output.width: 4096x4096 is 16,777,216 pixels" in p for p in problems)


def test_a_film_longer_than_the_limit_is_refused_at_the_shots():
    from sora_cli.storyboard.limits import MAX_FILM_SECONDS

    n = MAX_FILM_SECONDS // 600 + 1
    text = "version: 1\ntitle: Long\noutput: {fps: 1}\nworld: {location: x}\nshots:\n" + _shots(n, 600)
    [problem] = problems_of(text)
    assert problem.startswith("sb.yaml:6:") and "shots: the film would last 12.2 hours; at most 12 hours" in problem
    assert problems_of(text.replace(f"  - {{id: s{n - 1}, duration: 600}}\n", "")) == []


def test_more_shots_than_the_limit_are_refused():
    from sora_cli.storyboard.limits import MAX_SHOTS

    text = "version: 1\ntitle: Many\noutput: {fps: 1}\nworld: {location: x}\nshots:\n" + _shots(MAX_SHOTS + 1, 1)
    assert any(f"shots: has too many entries (at most {MAX_SHOTS})" in p for p in problems_of(text))


def test_fps_above_the_limit_is_refused():
    assert any("output.fps: must be at most 120" in p for p in problems_of(MINIMAL + "output: {fps: 240}\n"))


def test_a_huge_storyboard_file_is_refused_before_it_is_read(tmp_path):
    from sora_cli.storyboard import read_source
    from sora_cli.storyboard.limits import MAX_FILE_BYTES

    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.write(MINIMAL.replace("Hello there.", "Hello " + "a" * 100).encode())
        f.seek(64 * 1024 * 1024)  # sparse: 64 MiB on paper, no disk used
        f.write(b"\n")
    result = run_cli("validate", str(big))
    assert result.code == 2
    assert result.stderr.startswith(f"{big}:1:1: the storyboard is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB")
    with pytest.raises(Exception, match="larger than"):
        read_source(big)


def test_a_huge_line_on_stdin_is_exit_2_not_a_memory_error():
    result = run_cli("validate", "-", stdin=MINIMAL.replace("Hello there.", "x" * (3 * 1024 * 1024)))
    assert result.code == 2
    assert "larger than" in result.stderr


@pytest.mark.parametrize(
    "old,new,path",
    [
        ('"Hello there."', '"' + "x" * 4001 + '"', "shots[0].dialogue[0].line"),
        ("cast: [ann]", "cast: [ann]\n    sfx: [{sound: " + "x" * 4001 + "}]", "shots[1].sfx[0].sound"),
        ("title: Test", "title: Test\nbackend: {options: {prompt: " + "y" * 4001 + "}}", "backend.options.prompt"),
    ],
)
def test_every_text_field_has_a_length_limit(old: str, new: str, path: str):
    problems = problems_of(MINIMAL.replace(old, new))
    assert any(f"{path}: is too long (4001 characters; at most 4000)" in p for p in problems), problems


def test_an_asset_that_is_a_symlink_loop_is_located_every_one_at_once(tmp_path):
    """A likeness, the music and an effect that are (or lie under) symlink loops: exit 2, each located with
    what to do, in validate as in render (pathlib's "Symlink loop" was an internal error, exit 1)."""
    import os

    os.symlink("loop.png", tmp_path / "loop.png")
    os.symlink("l2", tmp_path / "l1")
    os.symlink("l1", tmp_path / "l2")
    (tmp_path / "film.yaml").write_text(
        "version: 1\ntitle: Loops\noutput: {width: 192, height: 108, fps: 12}\n"
        "world:\n  location: a field\n  characters:\n    nora: {description: a woman, reference: [loop.png]}\n"
        "audio:\n  music: {file: l1/theme.wav}\n"
        "shots:\n  - {id: a, duration: 1, cast: [nora], sfx: [{sound: l2/s.wav, at: 0.1}]}\n"
    )
    for command in ("validate", "render"):
        result = run_cli(command, str(tmp_path / "film.yaml"))
        assert result.code == 2 and "internal error" not in result.stderr, result.stderr
        located = [line for line in result.stderr.splitlines() if "is a symlink loop" in line]
        assert [line.split(": ")[1] for line in located] == [
            "world.characters.nora.reference[0]", "audio.music.file", "shots[0].sfx[0].sound"
        ], result.stderr
        assert all(re.match(r".+film\.yaml:\d+:\d+: ", line) for line in located)
    assert not (tmp_path / "film.mp4").exists()
