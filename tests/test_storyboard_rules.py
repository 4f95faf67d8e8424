"""Every rule of the storyboard format: a valid and an invalid case, with the exact message."""

from __future__ import annotations

import pytest

from tests.conftest import MINIMAL, problems_of


def edit(old: str, new: str, base: str = MINIMAL) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def test_minimal_is_valid():
    assert problems_of(MINIMAL) == []


CASES = [
    # (name, storyboard text, the exact problem lines)
    (
        "unknown key with hint",
        edit("  location:", "  wether: snow\n  location:"),
        [
            "sb.yaml:4:3: world.wether: unknown key 'wether'; did you mean 'weather'? "
            "(valid keys: characters, lighting, location, props, time_of_day, weather)"
        ],
    ),
    (
        "unknown cast member",
        edit("cast: [kim]", "cast: [kym]"),
        ["sb.yaml:12:12: shots[0].cast[0]: 'kym' is not a character; did you mean 'kim'? (characters: ann, kim)"],
    ),
    (
        "unknown prop",
        edit("cast: [ann]", "cast: [ann]\n    props: [bke]"),
        ["sb.yaml:17:13: shots[1].props[0]: 'bke' is not a prop; did you mean 'bike'? (props: bike)"],
    ),
    (
        "unknown speaker",
        edit("speaker: kim", "speaker: bob"),
        ["sb.yaml:14:19: shots[0].dialogue[0].speaker: 'bob' is not a character (characters: ann, kim)"],
    ),
    (
        "duplicate shot id",
        edit("id: two", "id: one"),
        ["sb.yaml:15:9: shots[1].id: shot id 'one' is already used by shots[0]; ids must be unique"],
    ),
    (
        "bad shot id",
        edit("id: two", "id: Two Shot"),
        ["sb.yaml:15:9: shots[1].id: 'Two Shot' is not a valid name: use lowercase letters, digits, '_' and '-'"],
    ),
    (
        "enum with hint",
        edit("  location:", "  time_of_day: dusc\n  location:"),
        [
            "sb.yaml:4:16: world.time_of_day: 'dusc' is not valid; did you mean 'dusk'? "
            "(valid: dawn, day, golden_hour, dusk, night)"
        ],
    ),
    (
        "odd width",
        edit("title: Test", "title: Test\noutput: {width: 1281}"),
        ["sb.yaml:3:17: output.width: must be an even number (got 1281)"],
    ),
    (
        "width too small",
        edit("title: Test", "title: Test\noutput: {width: 32}"),
        ["sb.yaml:3:17: output.width: must be at least 64 (got 32)"],
    ),
    (
        "fps out of range",
        edit("title: Test", "title: Test\noutput: {fps: 121}"),
        ["sb.yaml:3:15: output.fps: must be at most 120 (got 121)"],
    ),
    (
        "continue first",
        edit("  - id: one", "  - id: one\n    continuity: continue"),
        ["sb.yaml:12:17: shots[0].continuity: the first shot cannot `continue`: there is no shot before it"],
    ),
    (
        "continue entered by a crossfade",
        edit("  - id: two", "  - id: two\n    continuity: continue\n    transition: {type: crossfade}"),
        [
            "sb.yaml:17:24: shots[1].transition.type: a `continue` shot starts exactly where the previous one ended, "
            "so it is entered by a cut, not 'crossfade'"
        ],
    ),
    (
        "set path naming nothing",
        edit("cast: [ann]", "cast: [ann]\n    set: {wheather: rain}"),
        [
            "sb.yaml:17:11: shots[1].set.wheather: 'wheather' names nothing in the world; did you mean 'weather'? "
            "(settable: location, time_of_day, weather, lighting, props.bike.description)"
        ],
    ),
    (
        "set of an unknown prop",
        edit("cast: [ann]", "cast: [ann]\n    set: {props.bke.description: old}"),
        ["sb.yaml:17:11: shots[1].set.props.bke.description: 'bke' is not a prop; did you mean 'bike'? (props: bike)"],
    ),
    (
        "set with an invalid value",
        edit("cast: [ann]", "cast: [ann]\n    set: {weather: drizzle}"),
        [
            "sb.yaml:17:20: shots[1].set.weather: 'drizzle' is not valid "
            "(valid: clear, cloudy, rain, snow, blizzard, fog, storm)"
        ],
    ),
    (
        "set cannot change a character",
        edit("cast: [ann]", "cast: [ann]\n    set: {characters.kim.description: x}"),
        [
            "sb.yaml:17:11: shots[1].set.characters.kim.description: characters keep one identity in every shot; "
            "`set` cannot change them"
        ],
    ),
    (
        "missing likeness image",
        edit('kim: {description: "courier in green"}', 'kim: {description: "courier", reference: [nope.png]}'),
        [
            "sb.yaml:6:47: world.characters.kim.reference[0]: likeness image 'nope.png' not found (looked for {dir}/nope.png)"
        ],
    ),
    (
        "missing recorded take",
        edit('line: "Hello there."}', 'line: "Hello there.", audio: take.wav}'),
        ["sb.yaml:14:53: shots[0].dialogue[0].audio: recorded take 'take.wav' not found (looked for {dir}/take.wav)"],
    ),
    (
        "missing music",
        MINIMAL + "audio: {music: {file: song.mp3}}\n",
        ["sb.yaml:17:23: audio.music.file: music file 'song.mp3' not found (looked for {dir}/song.mp3)"],
    ),
    (
        "unknown sound",
        edit("cast: [ann]", "cast: [ann]\n    sfx: [{sound: thundr}]"),
        [
            "sb.yaml:17:19: shots[1].sfx[0].sound: 'thundr' is neither a built-in sound nor a file; "
            "did you mean 'thunder'? (`sora sounds` lists the built-in ones)"
        ],
    ),
    (
        "dialogue overflowing a fixed duration",
        edit("  - id: one", "  - id: one\n    duration: 0.5"),
        [
            "sb.yaml:15:9: shots[0].dialogue[0]: line 'Hello there.' ends at {end} s, {over} s past the end of shot 'one' "
            "(0.5 s); lengthen the shot, drop its duration, or start the line earlier"
        ],
    ),
    (
        "missing required fields",
        "version: 1\nworld: {}\nshots: []\n",
        [
            "sb.yaml:1:1: title: 'title' is required",
            "sb.yaml:2:8: world.location: 'location' is required",
            "sb.yaml:3:8: shots: needs at least 1 entry",
        ],
    ),
    (
        "wrong version",
        edit("version: 1", "version: 2"),
        ["sb.yaml:1:10: version: 2 is not valid (valid: 1)"],
    ),
    (
        "duplicate key",
        edit("title: Test", "title: Test\ntitle: Again"),
        ["sb.yaml:3:1: title: duplicate key 'title'"],
    ),
    (
        "python tag refused",
        edit("title: Test", "title: !!python/object/apply:os.system ['true']"),
        [
            "sb.yaml:2:8: title: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed; "
            "storyboards hold plain data"
        ],
    ),
    (
        "yaml syntax error",
        "version: 1\ntitle: [unclosed\n",
        ["sb.yaml:3:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"],
    ),
    (
        "transition longer than the shots",
        edit("  - id: two", "  - id: two\n    transition: {type: crossfade, duration: 5}"),
        ["sb.yaml:16:45: shots[1].transition.duration: a 5 s crossfade is longer than the shots it joins (2 s)"],
    ),
    (
        "sfx after the end of the shot",
        edit("cast: [ann]", "cast: [ann]\n    duration: 2\n    sfx: [{sound: click, at: 3}]"),
        ["sb.yaml:18:30: shots[1].sfx[0].at: 3 s is past the end of shot 'two' (2 s)"],
    ),
    (
        "bad colour",
        edit('kim: {description: "courier in green"}', "kim: {color: red}"),
        ["sb.yaml:6:18: world.characters.kim.color: 'red' is not a colour; write it as '#rrggbb', e.g. '#d33b2f'"],
    ),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(text: str, expected: list[str], tmp_path):
    got = problems_of(text, base_dir=tmp_path)
    if "{end}" in expected[0]:  # the overflow depends on the real speech length
        assert len(got) == 1
        prefix, suffix = expected[0].split("{end}")[0], expected[0].split("past the end")[1]
        assert got[0].startswith(prefix) and got[0].endswith(suffix), got
        end = float(got[0].split("ends at ")[1].split(" s")[0])
        over = float(got[0].split(", ")[1].split(" s past")[0])
        assert over == pytest.approx(end - 0.5, abs=0.011)
        return
    assert got == [e.replace("{dir}", str(tmp_path)) for e in expected]


def test_valid_counterparts(tmp_path):
    """Each rule's valid side: the same fields, used correctly."""
    (tmp_path / "kim.png").write_bytes(b"\x89PNG")
    text = edit(
        "  - id: two", "  - id: two\n    continuity: continue\n    set: {weather: rain, props.bike.description: old}"
    )
    text = edit(
        'kim: {description: "courier in green"}',
        'kim: {description: "c", reference: [kim.png], color: "#aabbcc"}',
        text,
    )
    text = edit(
        "title: Test",
        "title: Test\noutput: {width: 64, height: 4096, fps: 120, subtitles: [soft, burn], watermark: off}",
        text,
    )
    text = edit(
        "  - id: one",
        "  - id: one\n    duration: 5\n    sfx: [{sound: thunder, at: 4.9}]\n    transition: {type: fade_black}",
        text,
    )
    assert problems_of(text, base_dir=tmp_path) == []


def test_all_problems_reported_at_once(tmp_path):
    text = edit("cast: [kim]", "cast: [kym]")
    text = edit("speaker: kim", "speaker: bob", text)
    text = edit("id: two", "id: one", text)
    assert len(problems_of(text, base_dir=tmp_path)) == 3


def test_yaml_11_words_stay_words(tmp_path):
    """`watermark: off` must mean the string 'off', not YAML 1.1's False."""
    text = edit("title: Test", "title: Test\noutput: {watermark: off}")
    assert problems_of(text, base_dir=tmp_path) == []
    text = edit("title: Test", "title: Test\noutput: {watermark: no}")
    assert problems_of(text, base_dir=tmp_path) == [
        "sb.yaml:3:21: output.watermark: 'no' is not valid (valid: auto, on, off)"
    ]


def test_alias_bomb_is_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]\n"
    got = problems_of(bomb, base_dir=tmp_path)
    assert got == ["sb.yaml:1:1: the document expands to more than 200000 values (aliases?)"]


def test_cameo_rules(tmp_path):
    import json

    from sora_cli.cameo.consent import sign_record

    lib = tmp_path / "cameos" / "ada"
    lib.mkdir(parents=True)
    manifest = {"name": "ada", "consent": {"by": "Ada L", "expires": None}, "likeness": [], "revoked_on": None}
    (lib / "cameo.json").write_text(json.dumps(sign_record(manifest)))
    text = edit('ann: {description: "baker in white"}', "ann: {cameo: ada}")
    assert problems_of(text, base_dir=tmp_path) == []
    off = edit("title: Test", "title: Test\noutput: {watermark: off}", text)
    off = edit("cast: [ann]", "cast: [ann, kim]", off)
    assert problems_of(off, base_dir=tmp_path) == [
        "sb.yaml:3:21: output.watermark: `off` is refused: shot 'two' shows cameo 'ann'"
    ]
    manifest["consent"]["expires"] = "2020-01-01"
    (lib / "cameo.json").write_text(json.dumps(sign_record(manifest)))
    assert problems_of(text, base_dir=tmp_path) == [
        "sb.yaml:7:18: world.characters.ann.cameo: cameo 'ada' consent expired on 2020-01-01"
    ]
    manifest["revoked_on"] = "2026-11-02"
    (lib / "cameo.json").write_text(json.dumps(sign_record(manifest)))
    assert problems_of(text, base_dir=tmp_path) == [
        "sb.yaml:7:18: world.characters.ann.cameo: cameo 'ada' was revoked on 2026-11-02"
    ]
    manifest["revoked_on"] = None
    manifest["consent"] = {}
    (lib / "cameo.json").write_text(json.dumps(sign_record(manifest)))
    assert problems_of(text, base_dir=tmp_path) == [
        "sb.yaml:7:18: world.characters.ann.cameo: cameo 'ada' has no consent record; it cannot be used"
    ]


def test_two_transitions_that_meet_inside_a_shot_are_refused_before_rendering():
    """Each transition fits the shots it joins, but the one entering a 1 s shot and the one leaving it
    overlap it from both ends for 1.5 s: refused, located, where it was an internal error mid-render."""
    text = (
        "version: 1\ntitle: Short\noutput: {width: 192, height: 108, fps: 12}\nworld: {location: a beach}\nshots:\n"
        "  - {id: a, duration: 1}\n"
        "  - {id: b, duration: 1, transition: {type: crossfade, duration: 0.75}}\n"
        "  - {id: c, duration: 1, transition: {type: fade_black, duration: 0.75}}\n"
    )
    assert problems_of(text) == [
        "sb.yaml:8:67: shots[2].transition.duration: this fade_black and the crossfade entering shot 'b' overlap it"
        " from both ends (0.75 s + 0.75 s), longer than its 1 s: together they must fit in it"
    ]
    assert problems_of(text.replace("duration: 0.75}}\n  - {id: c", "duration: 0.25}}\n  - {id: c")) == []


@pytest.mark.parametrize("fps", [12, 24, 25, 30])
def test_whether_two_transitions_fit_a_shot_does_not_depend_on_the_frame_rate(fps: int):
    """Judged on the storyboard's seconds: 0.3 s + 0.72 s never fit a 1 s shot, 0.46 s + 0.46 s always fit
    0.95 s, whatever the frame rate (a draft renders at 12 fps); where rounding to whole frames would make
    the fitting pair meet, the plan takes the frame from the exit, and the film renders."""
    from sora_cli.plan.resolve import make_plan
    from sora_cli.storyboard import parse_storyboard
    from tests.conftest import EXAMPLES

    def text(first: float, second: float, shot: float) -> str:
        return (
            f"version: 1\ntitle: Fit\noutput: {{width: 192, height: 108, fps: {fps}}}\nworld: {{location: a beach}}\n"
            f"shots:\n  - {{id: a, duration: 2}}\n"
            f"  - {{id: b, duration: {shot}, transition: {{type: crossfade, duration: {first}}}}}\n"
            f"  - {{id: c, duration: 2, transition: {{type: crossfade, duration: {second}}}}}\n"
        )

    assert len(problems_of(text(0.3, 0.72, 1.0))) == 1
    assert problems_of(text(0.46, 0.46, 0.95)) == []
    plan = make_plan(parse_storyboard(text(0.46, 0.46, 0.95), "sb.yaml", EXAMPLES))
    b, c = plan.shots[1], plan.shots[2]
    assert b.transition.frames + c.transition.frames <= b.frames
