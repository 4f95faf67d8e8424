"""The animatic backend, judged on real pixels."""

from __future__ import annotations

import hashlib
import itertools
import textwrap

import numpy as np
import pytest

from sora_cli.plan.place_kinds import place_for
from sora_cli.plan.resolve import make_plan
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import FilmSettings
from sora_cli.render.registry import backend_class
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, example_text, small

W, H = 256, 144


def plan_of(text: str):
    return make_plan(parse_storyboard(textwrap.dedent(text), "sb.yaml", EXAMPLES))


def frames_of(plan, options: dict | None = None):
    """Every shot's frames (copied), rendered in order with carries, as {shot_id: [frames]}."""
    backend = AnimaticBackend()
    film = FilmSettings.from_plan(plan)
    if options is not None:
        film = FilmSettings(**{**film.__dict__, "options": options})
    backend.open(film)
    out, carry = {}, None
    for shot in plan.shots:
        render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
        out[shot.id] = [f[:, :, :3].copy() for f in render]
        carry = render.carry
    return out


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


CLEAN = {"slate": False, "captions": False, "name_tags": False}


@pytest.mark.parametrize("before,after", [("pier", "ask"), ("ask", "rain-starts")])
def test_continue_starts_where_the_previous_shot_ended(before, after):
    """Also when the continuing shot changes the weather (`rain-starts` sets rain)."""
    plan = plan_of(example_text("harbour_night", width=W, height=H))
    frames = frames_of(plan, CLEAN)
    prev, this = frames[before], frames[after]
    # the motion on either side of the cut: the shot before, and the continuing shot's first moves (a camera
    # settling into a closer framing moves most just after the cut, and the cut is one frame of that motion)
    step_inside = max(diff(a, b) for shot in (prev, this[:6]) for a, b in itertools.pairwise(shot))
    at_continue = diff(prev[-1], this[0])
    assert at_continue <= step_inside * 1.5 + 0.5, (at_continue, step_inside)


def test_a_cut_is_a_new_set_up():
    """The picture's layout (8x8-pixel block means: rain streaks in a close-up average out) jumps at a cut."""
    plan = plan_of(example_text("harbour_night", width=W, height=H))
    frames = frames_of(plan, CLEAN)

    def layout(f: np.ndarray) -> np.ndarray:
        return f.reshape(H // 8, 8, W // 8, 8, 3).mean(axis=(1, 3))

    rain = [layout(f) for f in frames["rain-starts"]]
    rain = rain[len(rain) // 2 :]  # once its camera has reframed onto Nora (a third of a second): handheld motion
    step_inside = max(diff(rain[i], rain[i + 1]) for i in range(len(rain) - 1))
    assert diff(rain[-1], layout(frames["ben-close"][0])) > 3 * step_inside


IDENTITY = """\
version: 1
title: Identity
output: {width: 256, height: 144, fps: 12}
backend: {options: {slate: false, captions: false, name_tags: false}}
world:
  location: "an empty studio"
  time_of_day: day
  characters:
    kim: {description: "a courier", color: "#e01010"}
    ann: {description: "a baker", color: "#10c020"}
shots:
  - {id: both, duration: 1, cast: [kim, ann], camera: {framing: wide}}
  - {id: kim-only, duration: 1, cast: [kim], camera: {framing: medium}}
  - {id: ann-only, duration: 1, cast: [ann], camera: {framing: close_up}}
  - {id: kim-again, duration: 1, cast: [kim], camera: {framing: wide}}
"""


def has_colour(frame: np.ndarray, rgb: tuple[int, int, int], tolerance: int = 6) -> bool:
    return bool((np.abs(frame.astype(np.int16) - rgb).max(axis=2) <= tolerance).sum() > 20)


def test_identity_colour_in_every_shot_of_the_character_and_only_there():
    plan = plan_of(IDENTITY)
    frames = frames_of(plan)
    kim, ann = (224, 16, 16), (16, 192, 32)
    for shot in plan.shots:
        middle = frames[shot.id][len(frames[shot.id]) // 2]
        assert has_colour(middle, kim) == ("kim" in shot.cast), shot.id
        assert has_colour(middle, ann) == ("ann" in shot.cast), shot.id


def test_likeness_image_is_drawn_as_the_face(tmp_path):
    from PIL import Image

    face = np.zeros((64, 64, 3), np.uint8)
    face[:] = (255, 0, 255)  # a magenta "photo": easy to find
    Image.fromarray(face).save(tmp_path / "face.png")
    text = IDENTITY.replace(
        'kim: {description: "a courier", color: "#e01010"}',
        'kim: {description: "a courier", color: "#e01010", reference: [face.png]}',
    )
    text = text.replace("width: 256, height: 144", "width: 640, height: 360")
    plan = make_plan(parse_storyboard(text, "sb.yaml", tmp_path))
    frames = frames_of(plan)
    for shot in plan.shots:
        middle = frames[shot.id][len(frames[shot.id]) // 2]
        assert has_colour(middle, (255, 0, 255), 10) == ("kim" in shot.cast), shot.id


WORLD = """\
version: 1
title: World
output: {width: 256, height: 144, fps: 12}
backend: {options: {slate: false, captions: false, name_tags: false}}
world:
  location: "a city street"
  time_of_day: day
  characters:
    kim: {description: "courier", color: "#e01010"}
shots:
  - {id: dry, duration: 1.5, cast: [kim], camera: {framing: wide}}
  - {id: snowing, duration: 1.5, cast: [kim], camera: {framing: wide}, set: {weather: snow}}
  - {id: still-snowing, duration: 1.5, cast: [kim], camera: {framing: close_up}}
  - {id: night, duration: 1.5, cast: [kim], camera: {framing: wide}, set: {time_of_day: night, weather: clear}}
"""


def test_snow_falls_from_the_shot_that_sets_it():
    frames = frames_of(plan_of(WORLD))

    def sky_motion(shot: str) -> float:
        f = frames[shot]
        return float(np.mean([diff(f[i][: H // 3], f[i + 1][: H // 3]) for i in range(len(f) - 1)]))

    assert sky_motion("dry") < 0.05
    assert sky_motion("snowing") > 0.3
    assert sky_motion("still-snowing") > 0.3


def test_night_is_darker_than_day():
    frames = frames_of(plan_of(WORLD))
    assert np.mean(frames["night"][5]) < 0.6 * np.mean(frames["dry"][5])


def test_close_up_shows_the_subject_larger_than_a_wide_shot():
    frames = frames_of(plan_of(WORLD))

    def coat_pixels(f: np.ndarray) -> int:
        red = (f[..., 0] > 150) & (f[..., 1] < 80) & (f[..., 2] < 80)
        return int(red.sum())

    assert coat_pixels(frames["still-snowing"][3]) > 4 * coat_pixels(frames["snowing"][3])


def test_two_renders_are_byte_identical():
    text = example_text("polar", width=W, height=H)
    one = frames_of(plan_of(text))
    two = frames_of(plan_of(text))
    for shot in one:
        assert (
            hashlib.sha256(b"".join(f.tobytes() for f in one[shot])).digest()
            == hashlib.sha256(b"".join(f.tobytes() for f in two[shot])).digest()
        )


@pytest.mark.parametrize(
    "location,kind",
    [
        ("Antarctic plateau, endless ice", "ice"),
        ("alpine valley under high peaks", "mountains"),
        ("a busy city street", "city"),
        ("a spice market with stalls", "market"),
        ("minimal modern living room office", "interior"),
        ("deep pine forest", "forest"),
        ("old fishing harbour by the sea", "sea"),
        ("sahara desert dunes", "desert"),
        ("somewhere undefined", "neutral"),
    ],
)
def test_places_from_location_words(location, kind):
    assert place_for(location) == kind
    # every place draws: the frame is not blank and differs from the neutral set
    plan = plan_of(
        small(f"version: 1\ntitle: P\nworld: {{location: '{location}'}}\nshots: [{{id: a, duration: 0.5}}]\n", 128, 72)
    )
    frame = frames_of(plan, CLEAN)["a"][0]
    assert frame.std() > 3


def test_every_framing_and_move_renders():
    moves = [
        "static",
        "pan_left",
        "pan_right",
        "tilt_up",
        "tilt_down",
        "zoom_in",
        "zoom_out",
        "dolly_in",
        "dolly_out",
        "handheld",
    ]
    framings = ["extreme_wide", "wide", "medium", "close_up", "extreme_close_up"]
    shots = "\n".join(
        f"  - {{id: s{i}, duration: 1, cast: [kim], camera: {{framing: {framings[i % 5]}, move: {m}}}}}"
        for i, m in enumerate(moves)
    )
    text = WORLD.split("shots:")[0] + "shots:\n" + shots + "\n"
    frames = frames_of(plan_of(text), CLEAN)
    for i, move in enumerate(moves):
        f = frames[f"s{i}"]
        change = diff(f[0], f[-1])
        assert (change < 0.5) if move == "static" else (change > 0.5), (move, change)


def test_motion_verbs_move_bodies_with_physics():
    from sora_cli.render.animatic.motion import Body, read_action, step

    intents = read_action("Nora walks towards Ben, who turns to her", ("nora", "ben"))
    assert intents["nora"].verbs == {"walk"} and intents["nora"].toward == "ben"
    assert intents["ben"].verbs == {"turn"}
    group = read_action("Two explorers drag a sled", ("mara", "ivan"))
    assert group["mara"].verbs == group["ivan"].verbs == {"drag"}
    jumper = Body(x=0.0)
    heights, speeds = [], []
    walker = Body(x=0.0)
    for i in range(48):
        step(jumper, read_action("Kim jumps", ("kim",))["kim"], i / 24, 1 / 24, {})
        step(walker, read_action("Kim walks", ("kim",))["kim"], i / 24, 1 / 24, {})
        heights.append(jumper.y)
        speeds.append(walker.vx)
    assert max(heights) > 0.4 and heights[-1] == 0.0  # up, then back on the ground
    assert all(b >= a for a, b in itertools.pairwise(speeds))  # momentum: speed builds up
    assert speeds[0] < 0.2 < 1.2 < speeds[-1] <= 1.3


def test_unknown_backend_is_an_exit_2_error():
    from sora_cli.errors import UsageError

    with pytest.raises(UsageError, match=r"no backend 'animatc'; did you mean 'animatic'\? \(installed: animatic"):
        backend_class("animatc")


WEATHER_ROOM = """\
version: 1
title: Weather at the camera
world: {{location: "{location}", weather: {weather}}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: false}}}}
output: {{width: 192, height: 108, fps: 12, subtitles: none, watermark: "off"}}
shots:
  - {{id: a, duration: 2, camera: {{framing: wide, move: static}}}}
"""


def test_indoors_the_weather_stays_outside_the_windows(tmp_path):
    """Decoded films: snow in an office never reaches the floor; the same snow outdoors does."""
    from tests.conftest import decode_video, run_cli

    def floor_motion(location: str, weather: str) -> float:
        sb = tmp_path / f"{weather}-{len(location)}.yaml"
        sb.write_text(WEATHER_ROOM.format(location=location, weather=weather), encoding="utf-8")
        out = sb.with_suffix(".mp4")
        assert run_cli("render", str(sb), "-o", str(out), "--quiet", "--no-cache", "--jobs", "1", "--no-qc").code == 0
        frames = [np.asarray(f, np.int16) for f in decode_video(out)]
        # below the windows and the 16-pixel codec blocks their sills share, down to the bottom
        floor = slice(int(0.75 * frames[0].shape[0]), None)
        # the share of floor pixels that change like a flake does (more than 16 code values): the encoder's
        # smear from the windows into the macroblock row they share with the floor stays under 4
        return float(
            np.mean([(np.abs(a[floor] - b[floor]).max(axis=2) > 16).mean() for a, b in itertools.pairwise(frames)])
        )

    office = "a small office with a desk"
    noise_floor = floor_motion(office, "clear")
    indoors = floor_motion(office, "snow")
    outdoors = floor_motion("a snowy mountain valley", "snow")
    print(
        f"floor pixels changing per frame: office clear {noise_floor:.4f}, snow {indoors:.4f}, outdoors {outdoors:.4f}"
    )
    assert indoors <= noise_floor + 0.001
    assert outdoors > 10 * (noise_floor + 0.001)
    plan = plan_of(WEATHER_ROOM.format(location=office, weather="snow"))
    facts = plan.shots[0].world.facts
    assert facts.indoors and facts.weather_at_camera == "clear" and facts.weather_beyond_windows == "snow"


FRAMING = """\
version: 1
title: Framing
world:
  location: "somewhere undefined"
  characters:
    ann: {{description: "woman", color: "#d01010"}}
    bob: {{description: "man", color: "#10d010"}}
output: {{width: {w}, height: {h}, fps: 12}}
shots:
  - {{id: a, duration: 0.5, cast: [ann, bob], camera: {{framing: {framing}, move: static}}}}
"""


@pytest.mark.parametrize("size", [(256, 144), (144, 256), (192, 192), (288, 120)])
def test_framings_cut_the_body_where_a_cinematographer_would(size):
    """Close-up: head and shoulders; medium: waist up; wide: the whole body, in every aspect ratio."""
    from sora_cli.render.animatic.figures import look_for

    w, h = size

    def parts(framing: str) -> dict[str, int]:
        plan = plan_of(FRAMING.format(w=w, h=h, framing=framing))
        f = frames_of(plan, CLEAN)["a"][0].astype(np.int16)
        skin = np.array(look_for(plan.characters["ann"]).skin)
        near = lambda rgb, tol=12: np.all(np.abs(f - np.array(rgb)) <= tol, axis=2)  # noqa: E731
        face = near(skin, 6)
        return {
            "coat": int(near((208, 16, 16), 20).sum()),
            "belt": int(near((125, 10, 10), 14).sum()),
            "boots": int(near((30, 30, 34), 4)[h // 2 :].sum()),  # (the eyes are as dark: look low)
            "legs": int(near((52, 56, 66), 8)[h // 3 :].sum()),
            "face": int(face.sum()),
            "face_at_top": int(face[0].sum()),
        }

    close, medium, wide = parts("close_up"), parts("medium"), parts("wide")
    assert close["face"] > 0 and close["coat"] > 0 and close["face_at_top"] == 0, close
    assert close["belt"] == 0 and close["boots"] == 0 and close["legs"] == 0, close  # nothing below the chest
    assert medium["belt"] > 0 and medium["boots"] == 0 and medium["face_at_top"] == 0, medium  # waist up
    assert wide["legs"] > 0 and wide["face"] > 0 and wide["face_at_top"] == 0, wide  # head to feet
    # legs against coat: the whole leg in a wide, at most the top of the thighs in a medium
    assert wide["legs"] > 0.5 * wide["coat"] and medium["legs"] < 0.15 * medium["coat"], (wide, medium)


def test_name_tags_only_for_characters_in_frame():
    def tag_pixels(framing: str) -> int:
        plan = plan_of(FRAMING.format(w=256, h=144, framing=framing))
        f = frames_of(plan, {"slate": False, "captions": False, "name_tags": True})["a"][0].astype(np.int16)
        return int(np.all(np.abs(f - np.array((16, 208, 16))) <= 30, axis=2).sum())

    assert tag_pixels("wide") > 40  # bob's tag, under bob
    assert tag_pixels("close_up") == 0  # the close-up is on ann; bob is out of frame, and so is his tag


CHAIN = """\
version: 1
title: Chain
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
output: {width: 480, height: 270, fps: 12, subtitles: none, watermark: "off"}
shots:
  - {id: a, duration: 2, cast: [kim], action: "Kim walks right", camera: {framing: wide}}
  - {id: b, duration: 2, continuity: continue, cast: [kim], action: "Kim runs right", camera: {framing: medium}}
"""


def test_the_board_shows_a_continue_shot_as_the_film_does(tmp_path):
    """The sheet's panel of a ``continue`` shot is the film's own middle frame, not a fresh set-up."""
    from PIL import Image

    from sora_cli import board
    from tests.conftest import decode_video, run_cli

    sb = tmp_path / "chain.yaml"
    sb.write_text(CHAIN, encoding="utf-8")
    film, sheet = tmp_path / "chain.mp4", tmp_path / "chain.png"
    assert run_cli("render", str(sb), "-o", str(film), "--quiet", "--no-cache", "--jobs", "1").code == 0
    assert run_cli("board", str(sb), "-o", str(sheet)).code == 0
    plan = plan_of(CHAIN)
    shot = plan.shots[1]
    frame = decode_video(film)[shot.start_frame + shot.frames // 2].astype(np.int16)
    x = 18 + 1 * (board.PANEL_W + 18)  # the second panel of the first row
    panel = np.asarray(Image.open(sheet).convert("RGB"))[70 : 70 + 270, x : x + 480].astype(np.int16)
    fresh = AnimaticBackend()
    fresh.open(FilmSettings.from_plan(plan, width=480, height=270))
    set_up = fresh.key_frame(shot).astype(np.int16)  # the same shot entered by a cut
    assert np.abs(panel - frame).mean() < 3
    assert np.abs(set_up - frame).mean() > 3 * np.abs(panel - frame).mean() + 3


PANES = """\
version: 1
title: Panes
world:
  location: "a small office"
  weather: {weather}
  time_of_day: {time}
  props: {{desk_lamp: {{description: "a brass desk lamp"}}}}
output: {{width: 192, height: 108, fps: 12}}
shots:
  - {{id: a, duration: 1, props: {props}, camera: {{framing: {framing}, move: static}}}}
"""


@pytest.mark.parametrize("framing", ["extreme_wide", "wide", "medium", "close_up"])
def test_weather_beyond_the_windows_shows_in_every_framing(framing):
    """Pixels that change from frame to frame: none in a clear office, many in the panes when it snows."""

    def changing(weather: str) -> float:
        plan = plan_of(PANES.format(weather=weather, time="day", props="[]", framing=framing))
        frames = [f.astype(np.int16) for f in frames_of(plan, CLEAN)["a"]]
        return float(np.mean([(np.abs(a - b).max(axis=2) > 12).mean() for a, b in itertools.pairwise(frames)]))

    assert changing("clear") == 0.0
    for weather in ("snow", "rain"):  # at least ~40 pixels of a 192x108 frame move every frame
        assert changing(weather) > 0.002, (framing, weather)


def test_a_named_lamp_lights_the_night_room():
    def brightness(props: str) -> float:
        plan = plan_of(PANES.format(weather="clear", time="night", props=props, framing="wide"))
        return float(frames_of(plan, CLEAN)["a"][0].mean())

    dark, lamp = brightness("[]"), brightness("[desk_lamp]")
    assert lamp > dark * 1.15, (dark, lamp)


TAGS = """\
version: 1
title: Tags
world:
  location: "somewhere undefined"
  characters:
    ann: {{description: "woman", color: "#ff0000"}}
    bo: {{description: "man", color: "#0000ff"}}
  props: {{crate: {{description: "crate"}}}}
output: {{width: 192, height: 108, fps: 12}}
shots:
  - {{id: a, duration: 0.5, cast: {cast}, props: {props}, camera: {{framing: extreme_wide, move: static}}}}
"""


def test_name_tags_never_hide_each_other():
    """Far off, two people stand a few pixels apart: each tag is still seen whole (pixels a tag adds, by colour)."""
    on, off = {**CLEAN, "name_tags": True}, CLEAN

    def tag_pixels(cast: str, props: str = "[]") -> tuple[int, int]:
        plan = plan_of(TAGS.format(cast=cast, props=props))
        tagged, plain = (frames_of(plan, o)["a"][0].astype(int) for o in (on, off))
        added = np.abs(tagged - plain).max(axis=2) > 30
        red = added & (tagged[..., 0] > 150) & (tagged[..., 2] < 90)
        blue = added & (tagged[..., 2] > 150) & (tagged[..., 0] < 90)
        return int(red.sum()), int(blue.sum())

    ann, bo = tag_pixels("[ann]")[0], tag_pixels("[bo]")[1]
    assert min(ann, bo) > 100
    for props in ("[]", "[crate]"):  # a prop's tag gives way to the characters'
        together = tag_pixels("[ann, bo]", props)
        assert together[0] >= 0.95 * ann and together[1] >= 0.95 * bo, (props, together, ann, bo)


REFRAME = """\
version: 1
title: Reframe
world:
  location: "somewhere undefined"
  characters:
    ann: {description: "woman", color: "#ff0000"}
    bo: {description: "man", color: "#0000ff"}
output: {width: 192, height: 108, fps: 12}
shots:
  - {id: two, duration: 1, cast: [ann, bo], camera: {framing: medium, move: static}}
  - {id: her, duration: 2, continuity: continue, cast: [ann], camera: {framing: close_up, move: static}}
"""


def test_a_continue_shot_frames_its_own_cast_within_a_few_frames():
    frames = frames_of(plan_of(REFRAME), CLEAN)["her"]

    def colour_at(f: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
        return (np.abs(f.astype(int) - rgb).max(axis=2) < 50).nonzero()[1]

    for f in frames[4:]:  # from the fifth frame (a third of a second) on: Ann, centred; Bo is not in the shot
        ann, bo = colour_at(f, (255, 0, 0)), colour_at(f, (0, 0, 255))
        assert len(ann) > 200 and abs(ann.mean() - 96) < 20, (len(ann), ann.mean() if len(ann) else None)
        assert len(bo) < len(ann) / 10
