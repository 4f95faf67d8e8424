"""Screenplays in and out: `sora import` of Fountain scripts and `sora export fountain`.

The scripts are in tests/fountain/ (see its README for their sources and licences).
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import av
import pytest
import yaml

from sora_cli.errors import StoryboardError
from sora_cli.screenplay import import_fountain
from sora_cli.screenplay.export import export_fountain
from sora_cli.screenplay.parse import KINDS, parse_fountain, plain
from sora_cli.storyboard import load_storyboard, parse_storyboard
from tests.conftest import EXAMPLES, run_cli

SCRIPTS = Path(__file__).parent / "fountain"

#: Every spoken line of elements.fountain, in order, as a reader of the script counts them.
ELEMENT_LINES = [
    ("mara", "Not tonight. Please not tonight."),
    ("mara", "Where are you, Tom?"),
    ("mara", "He promised."),
    ("tom", "I'm on the rocks by the point!"),
    ("mara", "Hold on!"),
    ("mckay", "Keeper! Open the door!"),
    ("mara", "Coming!"),
    ("brick", "Anyone seen the ferry?"),
    ("steel", "Not a sign."),
    ("mckay", "Merrily, merrily,"),
    ("mckay", "life is but a dream."),
    ("tom", "I told you I'd come back. Didn't I?"),
]

#: Every spoken line of the_last_ferry.fountain, in order.
FERRY_LINES = [
    ("oskar", "They tell me the Marigold sails tonight."),
    ("iris", "She sails when her engine says so."),
    ("oskar", "And what does her engine say?"),
    ("iris", "Mostly rude words."),
    ("oskar", "I ran that boat for forty years. Never missed a crossing."),
    ("iris", "You missed one. The winter of the big fog."),
    ("oskar", "That one I chose to miss."),
    ("oskar", "Is it the fuel pump?"),
    ("iris", "It's always the fuel pump."),
    ("iris", "Yes! Go on, old girl!"),
    ("oskar", "You have your mother's hands."),
    ("iris", "I have her spanners, too."),
    ("oskar", "Then she would want you to take the wheel tonight."),
    ("iris", "Will you come with me?"),
    ("iris", "Hold on to something!"),
    ("oskar", "I have held on to this boat my whole life."),
    ("iris", "Forty years and one crossing."),
    ("oskar", "Forty years and one."),
]


def imported(name: str, base: Path = SCRIPTS):
    path = SCRIPTS / name
    text = import_fountain(path.read_bytes(), str(path), base)
    return text, parse_storyboard(text, "imported.yaml", base)


def lines_of(sb) -> list[tuple[str, str]]:
    return [(line.speaker, line.line) for shot in sb.shots for line in shot.dialogue]


def comments_of(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip().startswith("#"))


def shot(sb, shot_id: str):
    return next(s for s in sb.shots if s.id == shot_id)


# ---- parsing ------------------------------------------------------------------------------


def test_parser_sees_every_element_at_its_line():
    script = parse_fountain((SCRIPTS / "elements.fountain").read_text(), "elements.fountain")
    assert {e.kind for e in script.elements} == set(KINDS)
    keys = [key for key, _, _ in script.title_page]
    assert keys == ["Title", "Credit", "Author", "Source", "Draft date", "Contact"]
    assert script.title_page[-1][1] == "Test Writer\ntests@example.invalid"
    at = {(e.kind, e.line): e for e in script.elements}
    assert at[("heading", 12)].number == "1" and at[("heading", 12)].text == "INT. LIGHTHOUSE LAMP ROOM - NIGHT"
    assert at[("heading", 49)].forced and at[("heading", 49)].text == "INSERT - THE LOGBOOK"
    assert at[("heading", 82)].text.startswith("I/E.") and at[("heading", 93)].text.startswith("EST.")
    mckay = at[("cue", 43)]
    assert mckay.forced and mckay.text == "McKAY" and mckay.extensions == ("O.S.",)
    assert at[("cue", 22)].extensions == ("CONT'D",) and at[("cue", 28)].extensions == ("V.O.",)
    assert at[("cue", 62)].dual and at[("cue", 62)].text == "STEEL"
    assert at[("boneyard", 36)].text.startswith("An older version") and "swim ashore" in at[("boneyard", 36)].text
    assert (
        at[("note", 16)].text == "A storm would suit this scene." and at[("note", 47)].text == "She does not move yet."
    )
    assert at[("dialogue", 47)].text == "Coming!"  # the inline note is cut out of the line
    assert at[("transition", 91)].forced and at[("transition", 91)].text == "SMASH CUT TO:"
    assert at[("transition", 97)].text == "FADE OUT."
    assert at[("centered", 95)].text == "THE END"
    assert at[("section", 76)].level == 1 and at[("synopsis", 78)].text == "Tom is found."
    assert at[("lyric", 65)].in_dialogue is False and at[("lyric", 69)].in_dialogue is True
    assert at[("action", 72)].forced and at[("action", 72)].text == "THE ROPE IS ALREADY WET."
    assert at[("dialogue", 87)].text == "I told you I'd come back.\n\nDidn't I?"  # the two-space line


# ---- import: lines, comments, breakdown ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"), [("elements.fountain", ELEMENT_LINES), ("the_last_ferry.fountain", FERRY_LINES)]
)
def test_every_spoken_line_once_in_order_with_its_speaker(name, expected):
    _, sb = imported(name)
    assert lines_of(sb) == expected


@pytest.mark.parametrize("name", ["elements.fountain", "the_last_ferry.fountain", "no_heading.fountain"])
def test_nothing_in_the_script_is_dropped(name):
    """Every word of every line of the script is somewhere in the storyboard: a value or a comment."""
    text, _ = imported(name)
    words_out = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", yaml.safe_load(json.dumps(text)))}
    for number, line in enumerate((SCRIPTS / name).read_text().splitlines(), 1):
        missing = [w for w in re.findall(r"[A-Za-z0-9]+", line) if w.lower() not in words_out]
        assert not missing, f"line {number}: {missing}"


def test_what_has_no_storyboard_meaning_is_kept_as_comments():
    text, _ = imported("elements.fountain")
    comments = comments_of(text)
    for expected in (
        "Title page: Author: Test Writer",
        "Contact: Test Writer / tests@example.invalid",
        "[[A storm would suit this scene.]]  (line 16)",
        "[[She does not move yet.]]  (line 47)",
        "/* An older version of this scene",
        "had Tom swim ashore. */  (line 36)",
        "# # Act Two  (line 76)",
        "= Tom is found.  (line 78)",
        "=== (page break)  (line 80)",
        "(beat)  (line 23)",
        "(to herself)  (line 25)",
        "(on the radio)  (line 29)",
        "TOM (V.O.)  (line 28)",
        "@McKAY: a forced character cue  (line 43)",
        "Scene: INT. LIGHTHOUSE LAMP ROOM - NIGHT #1#  (line 12)",
        ">SMASH CUT TO: (a cut)  (line 91)",
        "the film ends on FADE OUT.",
    ):
        assert expected in comments, expected


def test_the_breakdown_is_a_storyboard_artists():
    _, sb = imported("elements.fountain")
    world = sb.world
    assert (world.location, world.time_of_day, world.weather) == ("lighthouse lamp room, interior", "night", "rain")
    # the cast, described by their capitalised introduction; off-screen voices are heard, not seen
    assert set(world.characters) == {"mara", "tom", "mckay", "brick", "steel"}
    assert world.characters["mara"].description == "Mara Quinn (60s), a weathered keeper in a grey wool sweater"
    assert world.characters["mckay"].description.endswith("a young harbour pilot in a red cap")
    assert {p: v.description for p, v in world.props.items()} == {
        "lamp": "great lamp",
        "oilskin_coat": "oilskin coat",
        "lantern": "brass lantern",
    }
    first = sb.shots[0]
    assert first.camera.framing == "wide" and first.transition.type == "fade_black"  # FADE IN:
    assert first.cast == ["mara"] and first.props == ["lamp"]
    whisper = shot(sb, "s01-02")
    assert whisper.camera.framing == "close_up" and whisper.dialogue[0].delivery == "whisper"
    exchange = shot(sb, "s01-03")
    assert exchange.camera.framing == "medium" and exchange.cast == ["mara"]  # Tom is V.O.
    assert [line.speaker for line in exchange.dialogue] == ["mara", "mara", "tom"]
    shout = shot(sb, "s01-04")
    assert shout.camera.framing == "close_up" and shout.dialogue[0].delivery == "shout"
    # the same room, CONTINUOUS: the camera carries on
    assert shot(sb, "s02-01").continuity == "continue" and shot(sb, "s02-01").props == ["oilskin_coat", "lantern"]
    assert shot(sb, "s02-02").cast == []  # McKAY (O.S.)
    insert = shot(sb, "s02-04")
    assert insert.camera.framing == "close_up" and insert.continuity == "cut" and "set" not in insert.model_fields_set
    harbour = shot(sb, "s03-01")
    assert harbour.camera.framing == "extreme_wide" and harbour.cast == ["mckay"]
    assert harbour.set == {"location": "harbour wall, exterior", "weather": "fog"}
    dual = shot(sb, "s03-02")
    assert [(line.speaker, line.at) for line in dual.dialogue] == [("brick", 0.3), ("steel", 0.3)]
    assert shot(sb, "s03-03").action == "Song: Row, row, row your boat, / gently down the stream."
    deck = shot(sb, "s04-01")
    assert deck.transition.type == "crossfade"  # DISSOLVE TO:
    assert deck.set["location"] == "ferry deck, interior and exterior" and deck.set["time_of_day"] == "dawn"
    village = shot(sb, "s05-01")
    assert village.action == "Establishing: village, exterior" and village.set["time_of_day"] == "golden_hour"
    assert sb.shots[-1].action == "Title card: THE END"
    assert sb.title == "The Keeper's Night"


def test_the_last_ferry_scenes_and_shots():
    text, sb = imported("the_last_ferry.fountain")
    assert text.count("# Scene: ") == 5
    assert len({s.id.split("-")[0] for s in sb.shots}) == 5 and len(sb.shots) == 17
    framings = [s.camera.framing for s in sb.shots]
    assert framings.count("extreme_wide") == 3 and framings.count("close_up") == 2
    assert shot(sb, "s02-04").dialogue[0].delivery == "shout"
    assert shot(sb, "s03-01").continuity == "continue"
    assert shot(sb, "s04-01").set == {"location": "open sea, exterior", "weather": "rain"}
    assert set(sb.world.characters) == {"oskar", "iris"}
    assert "ticket_booth" in sb.world.props and "engine" in sb.world.props


def test_the_last_ferry_renders_a_draft(tmp_path):
    text, _ = imported("the_last_ferry.fountain")
    path = tmp_path / "ferry.yaml"
    path.write_text(text + "output: {width: 192, height: 108, fps: 12}\n")
    result = run_cli("render", str(path), "-q", "--json", "--jobs", "1", "--no-cache")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["shots"]) == 17
    with av.open(report["output"]["file"]) as film:
        video = film.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (192, 108)
        assert sum(1 for _ in film.decode(video=0)) > 17 * 12  # every shot is at least a second
    cues = Path(report["subtitles"]["files"]["srt"]).read_text().split("\n\n")
    said = [" ".join(cue.strip().splitlines()[2:]) for cue in cues if "-->" in cue]
    assert said == [line for _, line in FERRY_LINES]


@pytest.mark.parametrize("name", sorted(p.name for p in SCRIPTS.glob("*.fountain") if p.name != "the_last_ferry.fountain"))
def test_every_imported_script_renders_in_spec(tmp_path, name):
    """Import -> render ends in exit 0 with the delivery profile passed (the ferry is rendered above)."""
    text, _ = imported(name)
    path = tmp_path / "imported.yaml"
    path.write_text(text + "output: {width: 192, height: 108, fps: 12}\n")
    result = run_cli("render", str(path), "-q", "--json", "--jobs", "1", "--no-cache")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["qc"]["passed"], [c for c in report["qc"]["checks"] if not c["passed"]]
    cues = Path(report["subtitles"]["files"]["srt"]).read_text().split("\n\n")
    said = [" ".join(cue.strip().splitlines()[2:]) for cue in cues if "-->" in cue]
    assert len(said) >= sum(1 for shot in parse_storyboard(text, "i.yaml", SCRIPTS).shots for _ in shot.dialogue) - 1


def test_a_script_without_a_scene_heading_still_imports():
    _, sb = imported("no_heading.fountain")
    assert sb.world.location == "an unknown place"
    assert lines_of(sb) == [("anna", "Is anyone there?"), ("ben", "Only me.")]
    assert sb.shots[0].action == "A kettle whistles somewhere."


def test_text_that_means_something_else_in_yaml_stays_text(tmp_path):
    script = (
        "INT. ROOM - DAY\n\nNULL\non\n\nNULL\n1:30\n\n1ST OFFICER\n# not a comment: {x} [y] & *z 'q' \"dq\" \\\\ \t tab\n\n"
        "TRUE\n- a dash, café — ☃\n"
    )
    text = import_fountain(script.encode(), "odd.fountain", tmp_path)
    sb = parse_storyboard(text, "odd.yaml", tmp_path)
    assert lines_of(sb) == [
        ("null", "on"),
        ("null", "1:30"),
        ("1st_officer", "# not a comment: {x} [y] & *z 'q' \"dq\" \\ tab"),  # a lone * is text; \\ is \
        ("true", "- a dash, café — ☃"),
    ]


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        (b"", ":1:1: ", "the script is empty"),
        (b"  \n\n\t\n", ":1:1: ", "the script is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ":1:1: ", "binary data, not a Fountain script"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", ":1:1: ", "this is a PDF"),
        (b'<?xml version="1.0"?>\n<FinalDraft>\n', ":1:1: ", "XML/HTML (Final Draft .fdx?)"),
        (b"INT. ROOM - DAY\n\nHello.\nCaf\xe9 au lait\n", ":4:4: ", "not UTF-8 text"),
        (b"INT. ROOM - DAY\n\nA bell\x07 rings.\n", ":3:7: ", "control character"),
        (b"version: 1\ntitle: x\nshots:\n  - id: a\n", ":1:1: ", "this is a storyboard already"),
        (b"[[just a note]]\n\n/* and a cut */\n", ":1:1: ", "only boneyard, note: no scene heading"),
    ],
)
def test_bad_input_is_exit_2_located(tmp_path, content, where, message):
    path = tmp_path / "bad.fountain"
    path.write_bytes(content)
    result = run_cli("import", str(path))
    assert result.code == 2
    assert f"{path}{where}" in result.stderr and message in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_every_unclosed_span_is_reported_at_once(tmp_path):
    path = tmp_path / "open.fountain"
    path.write_text("INT. ROOM - DAY\n\nMARA\nHi [[a note\n\nthat never ends\n")
    result = run_cli("import", str(path))
    assert result.code == 2 and f"{path}:4:4: note: [[ opened here is never closed with ]]" in result.stderr
    path.write_text("/* cut\n\nINT. ROOM - DAY\n")
    result = run_cli("import", str(path))
    assert result.code == 2 and f"{path}:1:1: boneyard: /* opened here is never closed with */" in result.stderr


def test_a_policy_breach_is_located_in_the_script(tmp_path):
    path = tmp_path / "grim.fountain"
    path.write_text("EXT. FIELD - DAY\n\nA scarecrow stands.\n\nCROW\nThe gore of it all.\n")
    result = run_cli("import", str(path))
    assert result.code == 2
    assert f"{path}:6:1: storyboard shots[1].dialogue[0].line:" in result.stderr and "graphic-gore" in result.stderr


def test_missing_file_and_existing_output(tmp_path):
    result = run_cli("import", str(tmp_path / "nope.fountain"))
    assert result.code == 2 and f"{tmp_path / 'nope.fountain'}:1:1: no such file" in result.stderr
    out = tmp_path / "sb.yaml"
    out.write_text("mine\n")
    script = str(SCRIPTS / "no_heading.fountain")
    result = run_cli("import", script, "-o", str(out))
    assert result.code == 2 and "already exists" in result.stderr and out.read_text() == "mine\n"
    forced = run_cli("import", script, "-o", str(out), "--force")
    assert forced.code == 0 and f"wrote {out}: 1 scene, 2 shots, 2 lines" in forced.stderr
    assert run_cli("validate", str(out)).code == 0


def test_stdin_to_stdout():
    result = run_cli("import", "-", stdin=(SCRIPTS / "no_heading.fountain").read_text())
    assert result.code == 0, result.stderr
    assert "from stdin (Fountain)" in result.stdout and 'line: "Only me."' in result.stdout


# ---- export and round trip ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["elements.fountain", "the_last_ferry.fountain", "no_heading.fountain"])
def test_import_of_export_gives_the_same_storyboard(name):
    _, sb = imported(name)
    script = export_fountain(sb)
    again = parse_storyboard(import_fountain(script.encode(), "again.fountain", SCRIPTS), "again.yaml", SCRIPTS)
    assert again.model_dump() == sb.model_dump()


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_examples_survive_export_and_import(example):
    sb = load_storyboard(EXAMPLES / example)
    script = export_fountain(sb)
    again = parse_storyboard(import_fountain(script.encode(), "x.fountain", EXAMPLES), "x.yaml", EXAMPLES)
    assert again.model_dump() == sb.model_dump()
    # without sora's notes it is a plain screenplay: broken down afresh, every line is still there
    bare = re.sub(r"\[\[sora [^\n]*\]\]\n\n", "", script)
    assert "[[" not in bare
    fresh = parse_storyboard(import_fountain(bare.encode(), "bare.fountain", EXAMPLES), "bare.yaml", EXAMPLES)
    assert lines_of(fresh) == lines_of(sb)


def test_export_reads_as_a_screenplay(tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLES)  # stdout: asset paths are for the current folder, here the storyboard's own
    result = run_cli("export", "fountain", str(EXAMPLES / "harbour_night.yaml"))
    assert result.code == 0, result.stderr
    script = parse_fountain(result.stdout, "harbour.fountain")
    kinds = [e.kind for e in script.elements if e.kind != "note"]
    assert kinds[:2] == ["heading", "action"]
    headings = [e.text for e in script.elements if e.kind == "heading"]
    assert headings == [".OLD FISHING HARBOUR BY THE SEA, WOODEN PIER, MOORED BOATS - NIGHT"[1:]]
    parentheticals = [e.text for e in script.elements if e.kind == "parenthetical"]
    assert parentheticals == ["(whispering)", "(shouting)"]
    assert "FADE TO BLACK." in [e.text for e in script.elements if e.kind == "transition"]
    out = tmp_path / "harbour.fountain"
    assert run_cli("export", "fountain", str(EXAMPLES / "harbour_night.yaml"), "-o", str(out)).code == 0
    assert out.read_text() == result.stdout.replace('"assets/', '"' + os.path.relpath(EXAMPLES, tmp_path) + "/assets/")


@pytest.mark.parametrize(
    ("heading", "location", "time_of_day", "comment"),
    [
        ("INT. HOUSE - KITCHEN - NIGHT", "house - kitchen, interior", "night", None),
        ("INT. HOUSE - KITCHEN", "house - kitchen, interior", "day", None),
        ("EXT. ROAD - 3 AM", "road, exterior", "night", None),
        ("EXT. ROAD - THE NEXT MORNING", "road, exterior", "day", None),
        ("INT./EXT. CAR - SUNSET", "car, interior and exterior", "golden_hour", None),
        ("EXT. PIER - EVENING", "pier, exterior", "dusk", None),
        ("INT. BAR - FLASHBACK", "bar, interior", "day", "time 'FLASHBACK' is not a time of day"),
        (".THE VOID", "the void", "day", None),
        ("INT. HOUSE - NIGHT - FLASHBACK", "house, interior", "night", "heading also says 'FLASHBACK'"),
        ("INT. BAR - NIGHT - RAIN", "bar, interior", "night", "heading also says 'RAIN'"),
        ("INT. HOUSE - NIGHT (FLASHBACK) - 1987", "house, interior", "night", "heading also says '1987'"),
        ("EXT. - DAY", "an unknown place, exterior", "day", None),
        ("EXT. PARK - DUSK", "park, exterior", "dusk", None),
    ],
)
def test_scene_headings_set_place_and_time(tmp_path, heading, location, time_of_day, comment):
    text = import_fountain(f"{heading}\n\nSomething happens.\n".encode(), "h.fountain", tmp_path)
    sb = parse_storyboard(text, "h.yaml", tmp_path)
    assert (sb.world.location, sb.world.time_of_day) == (location, time_of_day)
    if comment:
        assert comment in comments_of(text)


def test_an_edited_export_keeps_the_writers_additions():
    _, sb = imported("no_heading.fountain")
    script = export_fountain(sb)
    edited = script.replace("[[sora shot:", "Dawn breaks.\n\nCARA\nMorning, all.\n\n[[sora shot:", 1)
    again = parse_storyboard(import_fountain(edited.encode(), "e.fountain", SCRIPTS), "e.yaml", SCRIPTS)
    assert lines_of(again) == [("cara", "Morning, all."), *lines_of(sb)]
    assert again.shots[0].action == "Dawn breaks." and again.shots[1:] == sb.shots
    assert "cara" in again.world.characters


PIECES = [
    "INT. ROOM - DAY", "EXT. X - NIGHT", ".FORCED", "MARA", "@bob", "BOB ^", "(whisper)", "(beat)", "Hi *there*",
    "~la la", "> CUT TO:", ">c<", "===", "# sec", "= syn", "[[n", "]]", "/*", "*/", "", "", "", "  ", "!BANG",
    "CUT TO:", "FADE OUT.", "Title: x", "Author:", "    indented", "The LAMP, a thing.", "JO (V.O.)", "_u_", "\\*",
    "null", "on", "é☃", "\t", "A GUARD, a man.", "INSERT - X", "李", "JOSÉ", "(sighs)", "INT.", "@", "^", "()",
    "(V.O.)", '[[sora shot: {"id": "a"}]]', "[[sora shot: {bad", "[[sora storyboard: {}]]", "MR. O'NEIL", "12",
]  # fmt: skip


def test_any_mix_of_fountain_imports_or_is_refused_located():
    """Never a traceback: a mix of every Fountain shape either imports to a valid storyboard or is exit 2."""
    rng = random.Random(17)
    for _ in range(150):
        script = "\n".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25)))
        try:
            text = import_fountain(script.encode(), "mix.fountain", SCRIPTS)
        except StoryboardError as exc:
            assert all(p.file == "mix.fountain" and p.line >= 1 for p in exc.problems), script
            continue
        parse_storyboard(text, "mix.yaml", SCRIPTS)


BITS = [
    "hello", "*bold*", "_u_", "\\", "[[n]]", "]]", "/* x */", "MARA", "INT. HOUSE - DAY", "CUT TO:", "> c <", "~sing",
    "(aside)", "@x", "!", "#", "=", "===", "é☃😀", "on", "1:30", "null", "a: b", "- x", "'q'", '"dq"', "Title card: X",
    "{x}", "^", ".dot", "&",
]  # fmt: skip


def test_any_text_survives_export_and_import():
    """Lines and actions made of everything Fountain could misread come back as they were."""
    rng = random.Random(3)
    chars = ["mara", "bob_2", "x-y", "1"]

    def text(n: int) -> str:
        return " ".join(rng.choice(BITS) for _ in range(rng.randint(1, n)))

    for _ in range(60):
        shots = [
            {
                "id": f"s{j}",
                "action": rng.choice(
                    ["", text(6), f"{text(3)}\n{text(3)}", f"Title card: {text(3)}", f"{text(2)}\n\n{text(2)}"]
                ),
                "cast": [rng.choice(chars)],
                "dialogue": [
                    {
                        "speaker": rng.choice(chars),
                        "line": f"{text(4)}\n{text(3)}",
                        "delivery": rng.choice(["normal", "whisper", "shout"]),
                    }
                    for _ in range(rng.randint(0, 3))
                ],
            }
            for j in range(rng.randint(1, 4))
        ]
        doc = {"version": 1, "title": text(3), "world": {"location": text(3), "characters": {c: {} for c in chars}}}
        sb = parse_storyboard(json.dumps({**doc, "shots": shots}, ensure_ascii=False), "x.yaml", SCRIPTS)
        script = export_fountain(sb)
        again = parse_storyboard(import_fountain(script.encode(), "x.fountain", SCRIPTS), "y.yaml", SCRIPTS)
        assert again.model_dump() == sb.model_dump(), script


def test_sounds_in_capitals_become_sound_effects(tmp_path):
    script = b"INT. FLAT - NIGHT\n\nThe phone RINGS. Somewhere a dog BARKS. The phone RINGS again.\n"
    sb = parse_storyboard(import_fountain(script, "s.fountain", tmp_path), "s.yaml", tmp_path)
    assert [(s.sound, s.at) for s in sb.shots[0].sfx] == [("phone_ring", 0.3), ("dog_bark", 0.8)]
    assert sb.world.props == {}  # RINGS and BARKS are sounds, not props


def test_a_speech_or_action_longer_than_a_field_is_split_not_cut(tmp_path):
    speech = " ".join(f"This is sentence number {i} of a very long speech." for i in range(120))
    action = " ".join(f"The wind moves thing number {i} across the yard." for i in range(120))
    script = f"EXT. YARD - DAY\n\n{action}\n\nVERA\n{speech}\n".encode()
    sb = parse_storyboard(import_fountain(script, "long.fountain", tmp_path), "long.yaml", tmp_path)
    lines = [line for shot in sb.shots for line in shot.dialogue]
    assert len(lines) == 2 and all(len(line.line) <= 4000 for line in lines)
    assert " ".join(line.line for line in lines) == speech and {line.speaker for line in lines} == {"vera"}
    actions = [s for s in sb.shots if s.action]
    assert len(actions) == 2 and " ".join(s.action for s in actions) == action
    assert actions[1].continuity == "continue"


def test_an_unclosed_note_after_a_boneyard_is_located_exactly():
    with pytest.raises(StoryboardError) as caught:
        parse_fountain("INT. A - DAY\n\n/* cut\nout */ Then [[ open", "f.fountain")
    assert [str(p) for p in caught.value.problems] == ["f.fountain:4:13: note: [[ opened here is never closed with ]]"]


def test_an_export_elsewhere_keeps_its_assets(tmp_path):
    """Asset paths are rewritten for the script's folder, so its import there validates and finds them."""
    script = tmp_path / "scripts" / "ad.fountain"
    script.parent.mkdir()
    assert run_cli("export", "fountain", str(EXAMPLES / "product_ad.yaml"), "-o", str(script)).code == 0
    assert '"../' in script.read_text()
    board = tmp_path / "scripts" / "ad.yaml"
    outside = run_cli("import", str(script), "-o", str(board))
    assert outside.code == 2 and "--allow-assets" in outside.stderr and not board.exists()
    result = run_cli("import", str(script), "-o", str(board), "--allow-assets", str(EXAMPLES / "assets"))
    assert result.code == 0, result.stderr
    assert f"wrote {board}: 1 scene, 4 shots, 3 lines" in result.stderr
    again = load_storyboard(board, allow_assets=(EXAMPLES / "assets",))
    assert [s.id for s in again.shots] == [s.id for s in load_storyboard(EXAMPLES / "product_ad.yaml").shots]
    (reference,) = again.world.characters["nora"].reference
    assert (board.parent / reference).resolve() == (EXAMPLES / "assets" / "nora.png").resolve()


def test_heading_segments_after_the_time_keep_the_time_and_the_weather(tmp_path):
    text = import_fountain(b"INT. BAR - NIGHT - RAIN\n\nShe waits.\n", "h.fountain", tmp_path)
    assert parse_storyboard(text, "h.yaml", tmp_path).world.weather == "rain"


@pytest.mark.parametrize(("second", "continuity"), [("NIGHT", "cut"), ("CONTINUOUS", "continue"), ("LATER", "cut")])
def test_the_same_place_continues_only_at_the_same_time(tmp_path, second, continuity):
    script = f"INT. HOUSE - DAY\n\nAnna waits.\n\nINT. HOUSE - {second}\n\nAnna sleeps.\n"
    sb = parse_storyboard(import_fountain(script.encode(), "t.fountain", tmp_path), "t.yaml", tmp_path)
    assert [s.action for s in sb.shots] == ["Anna waits.", "Anna sleeps."]
    assert sb.shots[1].continuity == continuity


@pytest.mark.parametrize(("cue", "speaker"), [("ИВАН", "Иван"), ("ΑΝΝΑ", "Αννα"), ("JOSÉ", "José"), ("@李", "李")])
def test_character_cues_in_any_script_with_case(tmp_path, cue, speaker):
    script = f"INT. ROOM - DAY\n\nSomeone waits.\n\n{cue}\nПривет.\n"
    sb = parse_storyboard(import_fountain(script.encode(), "c.fountain", tmp_path), "c.yaml", tmp_path)
    assert [line.line for line in lines_of_all(sb)] == ["Привет."]
    assert sb.world.characters[lines_of_all(sb)[0].speaker].description == speaker


def lines_of_all(sb):
    return [line for shot in sb.shots for line in shot.dialogue]


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("*I* did not take it. *You* did.", "I did not take it. You did."),
        (r"\*not emphasis\* and *_**x**_* and _under_ and **bold** and ***both***",
         "*not emphasis* and x and under and bold and both"),
        ("5*3 and 2*2", "5*3 and 2*2"),
        ("a snake_case_name and a * star", "a snake_case_name and a * star"),
        ("**unclosed and *closed*", "**unclosed and closed"),
    ],
)  # fmt: skip
def test_emphasis_pairs_as_fountain_pairs_it(written, said):
    assert plain(written) == said


def test_a_parenthetical_over_several_lines_is_not_spoken():
    text, sb = imported("hostile.fountain")
    first = lines_of_all(sb)[0]
    assert (first.line, first.delivery) == ("I did not take it. You did.", "whisper")
    assert not any("across lines" in line.line for line in lines_of_all(sb))
    assert "(whispers across lines)" in comments_of(text)
    assert [line.line for line in lines_of_all(sb)][1:3] == ["...", "?!"]  # silences are lines: writers use them


def test_a_long_speech_is_split_at_a_sentence_end():
    from sora_cli.screenplay.breakdown import chunks

    text = " ".join(f"Sentence {i}, which has a clause, and then another clause goes on." for i in range(100))
    pieces = chunks(text)
    assert len(pieces) == 2 and " ".join(pieces) == text
    assert pieces[0].endswith("goes on.") and pieces[1].startswith("Sentence ")


def test_a_possessive_name_is_capitalised_as_written(tmp_path):
    script = b"INT. ROOM - DAY\n\nBOB'S BROTHER waits.\n\nBOB'S BROTHER\nHello.\n"
    sb = parse_storyboard(import_fountain(script, "b.fountain", tmp_path), "b.yaml", tmp_path)
    assert [c.description for c in sb.world.characters.values()] == ["Bob's Brother"]


def test_a_scene_heading_added_to_an_export_starts_a_new_shot():
    sb = load_storyboard(EXAMPLES / "harbour_night.yaml")
    script = export_fountain(sb)
    added = "INT. BOAT CABIN - DAY\n\nNora dries her hair.\n\n"
    edited = script.replace('[[sora shot: {"id": "ask"', added + '[[sora shot: {"id": "ask"', 1)
    again = parse_storyboard(import_fountain(edited.encode(), "e.fountain", EXAMPLES), "e.yaml", EXAMPLES)
    ids = [s.id for s in again.shots]
    new = again.shots[ids.index("ask") - 1]
    assert new.action == "Nora dries her hair." and new.id.startswith("added-")
    assert new.set == {"location": "boat cabin, interior", "time_of_day": "day"}
    assert [s for s in again.shots if s is not new] == list(sb.shots)
    assert lines_of(again) == lines_of(sb)


def test_a_policy_breach_in_the_world_is_located_at_its_script_line(tmp_path):
    path = tmp_path / "g.fountain"
    path.write_text("Title: Gore Season\n\nEXT. GORE FIELD - DAY\n\nSAM, a man covered in gore, waits.\n\nSAM\nHello.\n")
    result = run_cli("import", str(path))
    assert result.code == 2
    for where in ("1:1: storyboard title:", "3:1: storyboard world.location:", "5:1: storyboard world.characters.sam"):
        assert f"{path}:{where}" in result.stderr


def test_import_reports_what_it_wrote_honestly(tmp_path):
    script = str(SCRIPTS / "no_heading.fountain")
    to_stdout = run_cli("import", script, "-o", "-")
    assert to_stdout.code == 0 and "wrote" not in to_stdout.stderr and "version: 1" in to_stdout.stdout
    board = tmp_path / "b.yaml"
    result = run_cli("import", script, "-o", str(board))
    assert f"wrote {board}: 1 scene, 2 shots, 2 lines" in result.stderr
    assert board.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    ("source", "what"),
    [(Path(__file__).parents[1] / "sora_cli" / "atomic.py", "program source code"), (None, "encoded data (base64)")],
)
def test_text_that_is_not_a_screenplay_is_refused_located(tmp_path, source, what):
    import base64

    path = tmp_path / "odd.fountain"
    if source is None:
        path.write_text(base64.encodebytes((SCRIPTS / "elements.fountain").read_bytes()).decode())
    else:
        path.write_text(source.read_text())
    result = run_cli("import", str(path))
    assert result.code == 2 and f"{path}:1:1: this looks like {what}" in result.stderr
