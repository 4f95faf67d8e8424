"""Resolution: world carried through `set:`, timing from real speech, seeds, prompts, snapshots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sora_cli import api
from sora_cli.audio_files import audio_duration
from sora_cli.plan.resolve import make_plan
from sora_cli.plan.timing import LEAD_IN, MIN_SHOT, PAUSE, TAIL
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, MINIMAL

SNAPSHOTS = Path(__file__).parent / "snapshots"


def plan_of(text: str, base: Path = EXAMPLES):
    return make_plan(parse_storyboard(text, "sb.yaml", base))


def test_world_is_carried_forward_through_set():
    plan = api.plan(EXAMPLES / "harbour_night.yaml")
    assert [s.world.weather for s in plan.shots] == ["fog", "fog", "rain", "rain", "storm"]
    assert plan.shots[3].world.lighting == "neon pink sign light and sodium lamps"
    assert plan.shots[4].world.lighting == "lightning flashes and a swinging lantern"
    polar = api.plan(EXAMPLES / "polar.yaml")
    assert [s.world.props["sled"] for s in polar.shots] == [
        "wooden cargo sled with an orange tarp",
        "wooden cargo sled with an orange tarp",
        "sled half-buried in fresh snow",
    ]


def test_auto_duration_follows_real_speech():
    plan = plan_of(MINIMAL)
    one, two = plan.shots
    line = one.dialogue[0]
    assert line.at == pytest.approx(LEAD_IN)
    spoken = line.end - line.start
    assert 0.5 < spoken < 2.0  # "Hello there." as spoken by espeak-ng
    assert one.duration == pytest.approx(max(MIN_SHOT, line.at + spoken + TAIL), abs=1 / plan.fps)
    assert one.duration >= line.at + spoken + TAIL  # never shorter than its dialogue
    assert two.duration == MIN_SHOT
    assert two.start == one.duration


def test_default_at_follows_previous_line():
    plan = api.plan(EXAMPLES / "harbour_night.yaml")
    ask = plan.shot("ask")
    first, second = ask.dialogue
    assert second.start == pytest.approx(first.end + PAUSE)


def test_recorded_take_length_drives_timing():
    plan = api.plan(EXAMPLES / "polar.yaml")
    camp = plan.shot("camp")
    take = audio_duration(EXAMPLES / "assets" / "ivan_take2.wav")
    assert camp.dialogue[0].end - camp.dialogue[0].start == pytest.approx(take)
    assert camp.dialogue[0].audio == str(EXAMPLES / "assets" / "ivan_take2.wav")


def test_transitions_overlap_shots():
    plan = api.plan(EXAMPLES / "polar.yaml")
    shout, camp = plan.shots[1], plan.shots[2]
    assert camp.transition.type == "crossfade" and camp.transition.frames == 12
    assert camp.start_frame == shout.start_frame + shout.frames - 12
    assert plan.frames == camp.start_frame + camp.frames
    ad = api.plan(EXAMPLES / "product_ad.yaml")
    assert ad.duration == pytest.approx(4 + 3.5 + 4.5 + 5 - 0.5 - 0.5)  # crossfade and fade overlap


def test_seeds_depend_on_id_not_position():
    base = plan_of(MINIMAL)
    inserted = plan_of(MINIMAL.replace("shots:\n", "shots:\n  - id: zero\n"))
    assert base.shot("one").seed == inserted.shot("one").seed
    assert base.shot("two").seed == inserted.shot("two").seed
    assert base.shot("one").seed != base.shot("two").seed
    reseeded = plan_of(MINIMAL.replace("title: Test", "title: Test\nseed: 1"))
    assert reseeded.shot("one").seed != base.shot("one").seed


def test_prompt_composition_order():
    plan = api.plan(EXAMPLES / "polar.yaml")
    prompt = plan.shots[0].prompt
    pieces = [
        "cinematic, 35mm film, muted palette",
        "Antarctic plateau, endless ice, at dusk, a howling blizzard, low blue-hour light lighting",
        "Mara: polar explorer, red parka",
        "wooden cargo sled with an orange tarp",
        "Two explorers drag a sled through a howling blizzard",
        "wide shot, camera pans right",
    ]
    positions = [prompt.index(p) for p in pieces]
    assert positions == sorted(positions)


def test_characters_keep_identity():
    plan = api.plan(EXAMPLES / "polar.yaml")
    mara = plan.characters["mara"]
    assert mara.color == "#d33b2f"
    assert mara.reference == (str(EXAMPLES / "assets" / "mara.png"),)
    assert all(s.world.characters["mara"] == mara for s in plan.shots)
    ada = plan.characters["ada"]
    assert ada.cameo == "ada" and ada.reference == (str(EXAMPLES / "cameos" / "ada" / "face_0.png"),)
    assert ada.voice.voice == "en-gb+f4"  # from the cameo's voice profile


def test_unvoiced_characters_get_distinct_voices():
    plan = plan_of(MINIMAL)
    assert plan.characters["kim"].voice != plan.characters["ann"].voice
    again = plan_of(MINIMAL)
    assert again.characters["kim"].voice == plan.characters["kim"].voice


@pytest.mark.parametrize("name", ["polar", "product_ad", "harbour_night"])
def test_plan_snapshot(name: str):
    plan = api.plan(EXAMPLES / f"{name}.yaml")
    text = json.dumps(plan.summary(), indent=2, ensure_ascii=False).replace(str(EXAMPLES), "<storyboards>")
    snapshot = SNAPSHOTS / f"{name}.plan.json"
    if os.environ.get("UPDATE_SNAPSHOTS") or not snapshot.exists():
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == snapshot.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "location",
    ["bathroom", "classroom", "restaurant", "hospital ward", "museum gallery", "cinema", "gym", "corridor",
     "basement", "attic", "garage", "church", "airplane cabin", "hotel lobby", "train carriage", "cave", "barn",
     "warehouse", "submarine", "an old hotel hallway", "a log cabin in the woods", "inside the barn",
     "INT. KITCHEN - NIGHT"],
)  # fmt: skip
def test_indoor_places_resolve_indoors(location):
    from sora_cli.plan.facts import world_facts

    facts = world_facts(location, "day", "snow", "")
    assert facts.indoors and facts.weather_at_camera == "clear", (location, facts.reason)
    assert facts.reason


@pytest.mark.parametrize(
    "location",
    ["the office rooftop", "a balcony of the apartment", "a beach bar", "a rooftop bar", "the garden of the house",
     "in front of the house", "the street outside the office", "outside the office", "EXT. KITCHEN GARDEN"],
)  # fmt: skip
def test_outdoor_places_resolve_outdoors(location):
    from sora_cli.plan.facts import world_facts

    facts = world_facts(location, "day", "rain", "")
    assert not facts.indoors and facts.weather_at_camera == "rain", (location, facts.reason)


def test_the_plan_says_which_rule_decided_the_place_and_a_room_without_windows_sees_no_weather():
    from sora_cli.plan.facts import world_facts

    assert world_facts("somewhere undefined", "day", "clear", "").reason.startswith("unknown")
    assert world_facts("an old hotel hallway", "day", "clear", "").reason == "head noun: hallway"
    closed = world_facts("a room with no windows", "day", "snow", "")
    assert closed.indoors and not closed.windows and closed.weather_beyond_windows == ""
    assert "windows" not in closed.light_sources


WEATHER_ROOMS = """\
version: 1
title: Rooms
world:
  location: "kitchen, interior"
  weather: {weather}
shots:
  - id: kitchen
    action: "a kettle boils"
  - id: cell
    set: {{location: "a cell with no windows"}}
  - id: yard
    set: {{location: "the yard outside the kitchen"}}
"""


@pytest.mark.parametrize(
    ("weather", "through_windows"),
    [("rain", "rain falling outside the windows"), ("snow", "snow falling outside the windows"),
     ("fog", "fog outside the windows"), ("clear", "clear sky outside the windows"),
     ("cloudy", "overcast sky outside the windows"), ("blizzard", "a blizzard howling outside the windows"),
     ("storm", "a thunderstorm with lightning outside the windows")],
)  # fmt: skip
def test_the_prompt_puts_the_weather_where_the_facts_say_it_is(weather: str, through_windows: str):
    kitchen, cell, yard = plan_of(WEATHER_ROOMS.format(weather=weather)).shots
    assert kitchen.world.facts.weather_beyond_windows == weather
    lit = "natural lighting"
    assert (
        kitchen.prompt
        == f"kitchen, interior, in daylight, {through_windows}, {lit}. a kettle boils. medium shot, static camera"
    )
    # a windowless room shows no weather (not even the rain its walls let through to the soundtrack)
    assert not cell.world.facts.windows
    assert cell.prompt == "a cell with no windows, in daylight, natural lighting. medium shot, static camera"
    # outdoors, the words prompts always had (outdoor caches and snapshots keep their bytes)
    assert not yard.world.facts.indoors
    old = {"clear": "clear sky", "cloudy": "overcast sky", "rain": "rain falling", "snow": "snow falling",
           "blizzard": "a howling blizzard", "fog": "thick fog", "storm": "a thunderstorm with lightning"}  # fmt: skip
    assert (
        yard.prompt == f"the yard outside the kitchen, in daylight, {old[weather]}, {lit}. medium shot, static camera"
    )


def test_a_silent_recorded_take_is_a_located_error(tmp_path):
    import numpy as np

    from sora_cli.audio_files import MIX_RATE, write_wav
    from tests.conftest import problems_of

    write_wav(tmp_path / "silence.wav", np.zeros(MIX_RATE, np.float32))
    write_wav(tmp_path / "hum.wav", 0.2 * np.sin(np.arange(MIX_RATE) * 0.05).astype(np.float32))
    text = """\
version: 1
title: Takes
world:
  location: "a quiet room"
  characters: {{ann: {{description: "woman"}}}}
shots:
  - id: a
    cast: [ann]
    dialogue:
      - {{speaker: ann, line: "Hello there.", audio: {take}}}
"""
    problems = problems_of(text.format(take="silence.wav"), tmp_path)
    assert len(problems) == 1 and "dialogue[0].audio" in problems[0] and "silent" in problems[0], problems
    assert problems[0].startswith("sb.yaml:10:")
    assert problems_of(text.format(take="hum.wav"), tmp_path) == []
