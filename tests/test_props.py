"""Props and wardrobe from their nouns: each a recognisable drawing, none the generic block."""

from __future__ import annotations

import numpy as np
import pytest
import skia

from sora_cli.plan.model import ResolvedCharacter
from sora_cli.plan.resolve import identity_color
from sora_cli.render.animatic.figures import WARDROBE, Mouth, Pose, draw_figure, look_for
from sora_cli.render.animatic.props import GENERIC, LIBRARY, draw_prop, kind_of, prop_kind
from sora_cli.speech.voice import ResolvedVoice

REQUIRED = [
    "desk",
    "chair",
    "table",
    "counter",
    "bed",
    "sofa",
    "door",
    "window",
    "car",
    "bike",
    "boat",
    "sled",
    "lantern",
    "phone",
    "laptop",
    "mug",
    "cup",
    "bottle",
    "glass",
    "box",
    "parcel",
    "bag",
    "umbrella",
    "book",
] + ["espresso machine"]
SIZE = 96


def drawn(kind: str, description: str = "", size: tuple[float, float] | None = None) -> np.ndarray:
    """A prop on white, scaled so that ``size`` (default: its own) fills the tile."""
    w, h = size or kind_of(kind).size
    buf = np.full((SIZE, SIZE, 4), 255, np.uint8)
    with skia.Surface(buf) as canvas:
        scale = SIZE * 0.8 / max(w, h * 1.6)
        canvas.translate(SIZE / 2, SIZE * 0.95)
        canvas.scale(scale, scale)
        if kind == GENERIC:  # the generic block stretched to the thing's size, for a fair comparison
            from sora_cli.render.animatic import props

            props._generic(props.Pen(canvas, props.prop_color(GENERIC, description), lambda c: c), 0.0, w, h, 0.0)
        else:
            draw_prop(canvas, kind, description, 0.0, lambda c: c)
    return buf[:, :, :3].astype(np.int16)


def test_the_library_has_at_least_40_things_including_the_common_ones():
    assert len(LIBRARY) >= 40
    assert set(REQUIRED) <= set(LIBRARY)


@pytest.mark.parametrize("kind", sorted(LIBRARY))
def test_each_thing_renders_and_is_not_the_generic_shape(kind):
    """Both drawn in the same colour at the same size: what differs is the shape and its details."""
    thing = drawn(kind, "grey")
    ink = np.any(thing < 245, axis=2)
    assert ink.sum() > 40, "draws something visible"
    generic = drawn(GENERIC, "grey", size=kind_of(kind).size)
    shape = np.any(generic < 245, axis=2)
    differs = np.any(np.abs(thing - generic) > 24, axis=2)
    share = differs.sum() / max(1, (ink | shape).sum())
    assert share > 0.12, f"{kind} looks like the generic block ({share:.0%} of it differs)"


@pytest.mark.parametrize(
    "prop_id,description,kind",
    [
        ("machine", "chrome espresso machine", "espresso machine"),
        ("coffee", "a big coffee mug", "mug"),
        ("water", "glass bottle of water", "bottle"),
        ("drink", "a tall glass of lemonade", "glass"),
        ("ride", "old red bicycle", "bike"),
        ("sled", "wooden cargo sled with an orange tarp", "sled"),
        ("gizmo", "flux capacitor", GENERIC),
    ],
)
def test_kind_from_the_nouns(prop_id, description, kind):
    assert prop_kind(prop_id, description) == kind


def test_the_description_colours_the_thing():
    for kind in ("car", "mug", "box", "sofa"):
        red = drawn(kind, "bright red")
        reddish = (red[..., 0] > 180) & (red[..., 1] < 80) & (red[..., 2] < 80)
        assert reddish.sum() > 20, kind
    oak = drawn("desk", "oak desk")
    steel = drawn("desk", "steel desk")
    assert np.mean(np.abs(oak - steel)) > 1


def figure(description: str) -> np.ndarray:
    character = ResolvedCharacter(
        id="bo",
        description=description,
        reference=(),
        voice=ResolvedVoice(engine="espeak", voice="en-us", pitch=50, rate=160, range=50),
        color=identity_color("bo"),
    )
    buf = np.full((400, 240, 4), 255, np.uint8)
    with skia.Surface(buf) as canvas:
        canvas.translate(120, 390)
        canvas.scale(200, 200)
        draw_figure(canvas, look_for(character), Pose(x=0.0), Mouth(), 0.0)
    return buf[:, :, :3].astype(np.int16)


@pytest.mark.parametrize("word", sorted(WARDROBE))
def test_each_wardrobe_word_changes_the_figure(word):
    plain = figure("a person")
    dressed = figure(f"a person with a {word}")
    assert np.sum(np.any(plain != dressed, axis=2)) > 30, word


def test_a_suit_with_no_colour_is_dark_not_a_made_up_hue():
    suit = figure("man in a suit")
    torso = suit[190:240, 100:140].reshape(-1, 3)
    assert np.median(torso.max(axis=1)) < 90  # charcoal, not the id's bright hue


ACTS = """\
version: 1
title: Acts
world:
  location: "{location}"
  characters:
    bo: {{description: "man in a suit"}}
  props:
    desk: {{description: "oak desk"}}
    chair: {{description: "wooden chair"}}
    mug: {{description: "red mug"}}
    bike: {{description: "blue bike"}}
    sled: {{description: "wooden sled"}}
    lantern: {{description: "old lantern"}}
    water: {{description: "water bottle"}}
output: {{width: 256, height: 144, fps: 12}}
shots:
  - {{id: a, duration: 2, cast: [bo], props: {props}, action: "{action}", camera: {{framing: {framing}}}}}
"""


def run_shot(action: str, props: str = "[]", location: str = "a small office", framing: str = "wide"):
    from sora_cli.render.animatic.backend import AnimaticBackend
    from sora_cli.render.backend import FilmSettings
    from tests.test_animatic import CLEAN, plan_of

    plan = plan_of(ACTS.format(action=action, props=props, location=location, framing=framing))
    backend = AnimaticBackend()
    film = FilmSettings.from_plan(plan)
    backend.open(FilmSettings(**{**film.__dict__, "options": CLEAN}))
    render = backend.render_shot(plan.shots[0], None)
    frames = [f[:, :, :3].copy() for f in render]
    return plan.shots[0], frames, render.carry.state


def test_staging_reads_which_prop_each_action_uses():
    from sora_cli.render.animatic.motion import read_action
    from sora_cli.render.animatic.staging import stage

    def staged(action: str, props: str, location: str = "a small office"):
        from tests.test_animatic import plan_of

        shot = plan_of(ACTS.format(action=action, props=props, location=location, framing="wide")).shots[0]
        return stage(shot, read_action(shot.action, shot.cast))

    at_desk = staged("Bo sits at his desk", "[desk]")
    assert at_desk.seats == {"bo": None} and at_desk.worktops == {"bo": "desk"}  # a chair is implied
    assert staged("Bo sits down", "[chair]").seats == {"bo": "chair"}
    assert staged("Bo sits on the ice", "[]", "a frozen lake of ice").seats == {}  # outdoors, on the ground
    assert staged("Bo rides away", "[bike]").rides == {"bo": "bike"}
    assert staged("Bo drinks", "[mug]").held == {"bo": "mug"}
    assert staged("Bo drags the sled", "[sled]").dragged == {"sled": "bo"}


def test_sit_puts_the_body_on_the_seat_and_ride_on_the_bike():
    _, _, state = run_shot("Bo sits down", "[chair]")
    assert state["bodies"]["bo"]["sit"] > 0.9
    assert state["props"]["chair"] == pytest.approx(state["bodies"]["bo"]["x"])
    _, _, state = run_shot("Bo rides his bike to the right", "[bike]", "a city street")
    assert state["bodies"]["bo"]["x"] > 2.0  # under way
    assert state["props"]["bike"] == pytest.approx(state["bodies"]["bo"]["x"])


def test_drink_raises_the_cup_to_the_mouth():
    _, frames, _ = run_shot("Bo drinks his coffee", "[mug]", framing="medium")

    def mug_y(f: np.ndarray) -> float:
        red = (f[..., 0] > 150) & (f[..., 1] < 70) & (f[..., 2] < 70)
        assert red.sum() > 3
        return float(np.nonzero(red)[0].mean())

    assert mug_y(frames[-1]) < mug_y(frames[0]) - 10  # raised, by more than 10 px of 144


def test_hand_over_moves_the_thing_from_one_hand_to_the_other():
    from sora_cli.render.animatic.backend import AnimaticBackend
    from sora_cli.render.backend import FilmSettings
    from tests.test_animatic import CLEAN, plan_of

    text = """\
version: 1
title: Gift
world:
  location: "a quiet park"
  characters:
    ann: {description: "woman in blue"}
    bo: {description: "man in green"}
  props:
    gift: {description: "red parcel"}
output: {width: 256, height: 144, fps: 12}
shots:
  - {id: a, duration: 2, cast: [ann, bo], props: [gift], action: "Ann hands the gift to Bo", camera: {framing: medium}}
"""
    plan = plan_of(text)
    backend = AnimaticBackend()
    film = FilmSettings.from_plan(plan)
    backend.open(FilmSettings(**{**film.__dict__, "options": CLEAN}))
    frames = [f[:, :, :3].copy() for f in backend.render_shot(plan.shots[0], None)]

    def parcel_x(f: np.ndarray) -> float:
        red = (f[..., 0] > 150) & (f[..., 1] < 80) & (f[..., 2] < 80)
        assert red.sum() > 5
        return float(np.nonzero(red)[1].mean())

    assert parcel_x(frames[0]) < 128 < parcel_x(frames[-1])  # in Ann's hand (left), then in Bo's (right)


def _staged(action: str, props: str, location: str = "a small office"):
    from sora_cli.render.animatic.motion import read_action
    from sora_cli.render.animatic.staging import stage
    from tests.test_animatic import plan_of

    shot = plan_of(ACTS.format(action=action, props=props, location=location, framing="wide")).shots[0]
    return stage(shot, read_action(shot.action, shot.cast))


def test_an_action_uses_the_prop_its_words_name_not_the_first():
    assert _staged("Bo drags the sled", "[lantern, sled]").dragged == {"sled": "bo"}
    assert _staged("Bo drinks from the bottle", "[mug, water]").held == {"bo": "water"}
    assert _staged("Bo drinks", "[mug, water]").held == {"bo": "mug"}  # none named: the first that fits


def test_hands_over_the_named_thing():
    from sora_cli.render.animatic.motion import read_action
    from sora_cli.render.animatic.staging import stage
    from tests.test_animatic import plan_of

    text = """\
version: 1
title: Gift
world:
  location: "a quiet park"
  characters: {ann: {description: "woman"}, bo: {description: "man"}}
  props: {lantern: {description: "lantern"}, gift: {description: "red parcel"}}
shots:
  - {id: a, duration: 2, cast: [ann, bo], props: [lantern, gift], action: "Ann hands the parcel to Bo"}
"""
    shot = plan_of(text).shots[0]
    assert stage(shot, read_action(shot.action, shot.cast)).handed == ("gift", "ann", "bo")


def test_sitting_needs_a_seat_the_named_one_or_the_place_s():
    assert _staged("Bo sits down", "[]", "a snowy mountain valley").implied == {"bo": "rock"}
    assert _staged("Bo sits down", "[]", "a quiet park").implied == {"bo": "log"}
    assert _staged("Bo sits down", "[]", "a city street").implied == {"bo": "bench"}
    assert _staged("Bo sits on the bed", "[]").implied == {"bo": "bed"}
    assert _staged("Bo sits on the sofa", "[]").implied == {"bo": "sofa"}
    assert _staged("Bo sits down", "[]").implied == {"bo": "chair"}
    on_grass = _staged("Bo sits on the grass", "[]", "a quiet park")
    assert on_grass.grounded == {"bo"} and on_grass.seats == {}


def _count(frame: np.ndarray, color: tuple[int, int, int], tol: int = 6) -> int:
    return int((np.abs(frame.astype(np.int16) - np.array(color)).max(axis=2) <= tol).sum())


def test_the_implied_seat_is_drawn_under_the_sitter():
    _, frames, state = run_shot("Bo sits down", "[]", "a snowy mountain valley")
    assert state["bodies"]["bo"]["sit"] > 0.9
    rock = LIBRARY["rock"].color
    assert _count(frames[-1], rock) > 30 and _count(frames[0], rock) < _count(frames[-1], rock) // 3
    _, frames, _ = run_shot("Bo sits on the bed", "[]")
    assert _count(frames[-1], LIBRARY["bed"].color) > 30
    assert _count(frames[-1], LIBRARY["chair"].color) < 5


def test_sitting_on_the_ground_lowers_the_figure_to_it():
    def top_of_figure(action: str) -> int:
        _, frames, _ = run_shot(action, "[]", "a quiet park", framing="wide")
        dark = frames[-1].max(axis=2) < 60  # the suit: darker than the park
        return int(np.nonzero(dark.any(axis=1))[0].min())

    assert top_of_figure("Bo sits on the grass") > top_of_figure("Bo sits down") + 5


def _character(description: str) -> ResolvedCharacter:
    return ResolvedCharacter(
        id="bo",
        description=description,
        reference=(),
        voice=ResolvedVoice(engine="espeak", voice="en-us", pitch=50, rate=160, range=50),
        color=identity_color("bo", description),  # as the plan resolves it
    )


@pytest.mark.parametrize(
    "description,coat,hair",
    [("red hair in a blue suit", "blue", "red"), ("grey beard in a brown parka", "brown", "grey"),
     ("red-haired woman in a green dress", "green", "red")],
)  # fmt: skip
def test_colour_words_bind_to_the_noun_they_modify(description, coat, hair):
    from sora_cli.plan.colors import COLOR_WORDS

    look = look_for(_character(description))
    assert look.coat == COLOR_WORDS[coat] and look.hair == COLOR_WORDS[hair]
    buf = np.full((400, 240, 4), 255, np.uint8)
    with skia.Surface(buf) as canvas:
        canvas.translate(120, 390)
        canvas.scale(200, 200)
        draw_figure(canvas, look, Pose(x=0.0), Mouth(), 0.0)
    torso = buf[190:240, 100:140, :3].reshape(-1, 3).astype(int)
    assert np.abs(np.median(torso, axis=0) - COLOR_WORDS[coat]).max() < 40  # the coat, not the hair's colour


def test_negated_garments_are_not_worn():
    plain = figure("a man")
    assert np.array_equal(figure("a man with no beard and no glasses"), plain)
    assert np.array_equal(figure("a man without a hat or glasses"), plain)
    assert np.sum(np.any(figure("a man with a beard and glasses") != plain, axis=2)) > 30


def test_a_space_suit_is_not_a_business_suit():
    look = look_for(_character("astronaut in a white space suit"))
    assert "suit" not in look.wear and "helmet" in look.wear
    assert look.coat == (235, 235, 235)  # white: no charcoal business suit
    assert not np.array_equal(figure("astronaut in a white space suit"), figure("a man in a suit"))


@pytest.mark.parametrize(
    "prop_id,description,kind",
    [("car_key", "", GENERIC), ("key", "door key", GENERIC), ("helmet", "bicycle helmet", GENERIC),
     ("treehouse", "tree house", GENERIC), ("lamp", "desk lamp", "lamp"), ("water", "water bottle", "bottle"),
     ("sign", "street sign on a pole", "sign"), ("box", "box of matches", "box")],
)  # fmt: skip
def test_the_kind_is_the_head_noun_not_the_first(prop_id, description, kind):
    assert prop_kind(prop_id, description) == kind
