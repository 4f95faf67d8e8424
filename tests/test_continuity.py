"""`continue` starts exactly where the previous shot ended, judged on the decoded film.

One small film holds a chain per case (a shot and the ``continue`` shot after
it, the second changing something: the action, the framing, the cast's order,
the place; one chain of three), each chain entered by a cut. At each ``continue`` cut the picture
may change no more than the motion on either side of it (the shots' own last
and first steps), or than the encoder's noise where a shot's first frame is a
key frame; at a ``cut`` it jumps, so the measure can fail.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sora_cli.render.animatic.motion import read_action
from tests.conftest import decode_video, render

W, H = 192, 108

FILM = f"""\
version: 1
title: Continuity
output: {{width: {W}, height: {H}, fps: 12}}
# no timecode or caption (they change at every cut), no name tag (Nora's is her coat's colour)
backend: {{options: {{slate: false, captions: false, name_tags: false}}}}
world:
  location: "a park with trees"
  time_of_day: day
  weather: cloudy
  characters:
    nora: {{description: "designer in a blue raincoat", color: "#3f6fb5"}}
    ben: {{description: "fisherman in a yellow oilskin", color: "#d0b020"}}
  props:
    chair: {{description: "a wooden chair"}}
audio: {{ambience: none}}
shots:
  - {{id: falls, duration: 2.5, cast: [nora], action: "Nora falls"}}
  - {{id: gets-up, duration: 2, continuity: continue, cast: [nora], action: "Nora gets up slowly"}}
  - {{id: waves-close, duration: 1, continuity: continue, cast: [nora], action: "Nora waves",
      camera: {{framing: close_up, move: handheld}}}}
  - {{id: turns, duration: 1, cast: [nora], action: "Nora turns"}}
  - {{id: turns-again, duration: 1, continuity: continue, cast: [nora], action: "Nora turns"}}
  - {{id: sits, duration: 1.5, cast: [nora], action: "Nora sits"}}
  - {{id: walks-off, duration: 1.5, continuity: continue, cast: [nora], action: "Nora walks to the right"}}
  - {{id: drinks, duration: 1.5, cast: [nora], action: "Nora drinks"}}
  - {{id: waves, duration: 1, continuity: continue, cast: [nora], action: "Nora waves"}}
  - {{id: two, duration: 1, cast: [nora, ben]}}
  - {{id: two-swapped, duration: 1, continuity: continue, cast: [ben, nora]}}
  - {{id: park, duration: 1, cast: [nora], camera: {{framing: wide}}}}
  - {{id: kitchen, duration: 1.5, continuity: continue, cast: [nora], camera: {{framing: wide}},
      set: {{location: "a kitchen"}}}}
  - {{id: cut-in, duration: 1, cast: [nora], camera: {{framing: medium}}}}
  - {{id: pull-close, duration: 1, cast: [nora], camera: {{framing: close_up}}}}
  - {{id: pull-out, duration: 1.5, continuity: continue, cast: [nora], camera: {{framing: extreme_wide}}}}
  - {{id: yard, duration: 1, cast: [nora], camera: {{framing: wide}}, set: {{location: "a park with trees"}}}}
  - {{id: to-hall, duration: 0.5, continuity: continue, cast: [nora], camera: {{framing: wide}},
      set: {{location: "a long hallway, interior"}}}}
  - {{id: in-hall, duration: 1, continuity: continue, cast: [nora], camera: {{framing: wide}}}}
"""
#: (in-hall: the dissolve to the hallway, begun in a half-second shot, goes on after the cut; it was cut short)
CONTINUES = ["gets-up", "waves-close", "turns-again", "walks-off", "waves", "two-swapped", "kitchen", "pull-out",
             "to-hall", "in-hall"]  # fmt: skip
#: what the encoder alone changes where a shot begins (its first frame is a key frame, the frame before it was
#: predicted): measured 10-13 levels on these 4x4-pixel block means; a snapped pose or prop measured 50-190
NOISE = 20.0


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[np.ndarray]]:
    """Each shot's decoded frames, by shot id."""
    folder = tmp_path_factory.mktemp("continuity")
    path = folder / "film.yaml"
    path.write_text(FILM, encoding="utf-8")
    report = render(path, use_cache=False, qc=False)
    frames = decode_video(Path(report["output"]["file"]))
    shots, at = {}, 0
    for shot in report["shots"]:
        shots[shot["id"]] = frames[at : at + shot["frames"]]
        at += shot["frames"]
    assert at == len(frames)
    return shots


def change(a: np.ndarray, b: np.ndarray) -> float:
    """How much the picture changes from ``a`` to ``b`` where it changes most: the 99.5th percentile over
    4x4-pixel blocks of the mean's largest channel difference (a figure that moves by a few pixels is
    tens of blocks; the encoder's noise is a few levels in each)."""

    def blocks(f: np.ndarray) -> np.ndarray:
        return f.astype(np.float32).reshape(H // 4, 4, W // 4, 4, 3).mean(axis=(1, 3))

    return float(np.percentile(np.abs(blocks(a) - blocks(b)).max(axis=2), 99.5))


def at_cut(film: dict[str, list[np.ndarray]], shot: str) -> tuple[float, float]:
    """The change from the previous shot's last frame to ``shot``'s first, and the largest of the steps
    beside it (the previous shot's last step, this shot's first)."""
    ids = list(film)
    before, after = film[ids[ids.index(shot) - 1]], film[shot]
    beside = max(change(before[-2], before[-1]), change(after[0], after[1]))
    return change(before[-1], after[0]), beside


@pytest.mark.parametrize("shot", CONTINUES)
def test_a_continue_shot_starts_where_the_previous_one_ended(film, shot):
    cut, beside = at_cut(film, shot)
    assert cut <= max(2 * beside, NOISE), (shot, cut, beside)


@pytest.mark.parametrize("shot", ["two", "park", "cut-in"])
def test_a_cut_may_jump(film, shot):
    """The same measure at cuts: a new set-up (another framing, the bodies placed afresh) is a jump."""
    cut, beside = at_cut(film, shot)
    assert cut > max(2 * beside, NOISE), (shot, cut, beside)


def coat(frame: np.ndarray) -> tuple[int, int, int]:
    """Nora's coat in ``frame``: (pixels, height, width) of the pixels of her identity colour (#3f6fb5, ~(57,
    96, 160) under the cloudy sky: far bluer than red, which the grey-blue sky, trees and grass never are)."""
    rgb = frame.astype(np.int16)
    ys, xs = ((rgb[..., 2] - rgb[..., 0] > 85) & (rgb[..., 2] > 130)).nonzero()
    if len(ys) < 20:
        return len(ys), 0, 0
    (top, bottom), (left, right) = np.percentile(ys, [2, 98]), np.percentile(xs, [2, 98])
    return len(ys), int(bottom - top + 1), int(right - left + 1)


def test_a_fallen_figure_stays_down_at_the_cut_and_gets_up_in_the_shot(film):
    """A medium shot follows her down as she falls; the continue shot starts with her lying and has her
    standing by its end, in frame all along: getting up is motion inside the shot, not a snap at the cut."""
    seen = [coat(f) for f in film["falls"] + film["gets-up"]]
    assert all(pixels > 100 for pixels, _, _ in seen), seen  # never out of the frame
    lying, first, last = coat(film["falls"][-1]), coat(film["gets-up"][0]), coat(film["gets-up"][-1])
    assert lying[2] > 1.5 * lying[1], lying  # down at the end of the first shot: wider than tall
    assert first[2] > 1.5 * first[1], first  # and still down in the continue shot's first frame
    assert last[1] > 1.2 * last[2], last  # up by the end: taller than wide
    heights = [tall for _, tall, _ in seen]
    assert max(abs(b - a) for a, b in itertools.pairwise(heights)) < H / 5, heights  # no jump


@pytest.mark.parametrize(
    "action,rises",
    [
        ("Nora gets up slowly", True),
        ("Nora picks herself up", True),
        ("Nora climbs to her feet", True),
        ("Nora stands", True),
        ("Nora rises from the chair", True),
        ("Nora gets a cup", False),
        ("Nora looks up", False),
        ("Nora does not get up", False),  # (the tester's: she got up)
        ("Nora refuses to stand", False),
        ("Nora stays down, the sun rises", False),
        ("Nora doesn't get up", False),
        ("The sun rises and Nora gets up", True),
        ("Nora waves at the sun as it rises", False),  # (the second tester's: she got up)
        ("Nora picks up the lantern", False),
        ("Nora doesn't answer but gets up", True),  # (a negation further back is about something else)
        ("With no hesitation Nora gets up", True),
        ("Nora climbs to her feet", True),
    ],
)
def test_getting_up_is_read_from_the_words(action, rises):
    """The verbs that get a fallen or seated body up (a continue shot after a fall or a sit) and those that do not."""
    intent = read_action(action, ("nora",))["nora"]
    assert ("rise" in intent.verbs) is rises, intent
    assert intent.slow is ("slowly" in action)


def test_a_continue_shot_pulls_out_from_a_close_up_without_losing_the_picture(film):
    """Close-up, then a continue shot framed extreme wide: the camera pulls out inside the shot, the coat
    shrinking by like factors frame after frame (3182, 2254, 1139, 435, 119 pixels here). It lost four fifths
    of the coat in the first frame (3182, 659, 140): the view's height went most of the way at once."""
    sizes = [coat(f)[0] for f in film["pull-close"][-1:] + film["pull-out"]]
    assert sizes[1] >= 0.5 * sizes[0], sizes  # the first frame is one frame of the pull, not most of it
    assert sizes[2] >= 0.25 * sizes[0], sizes  # and so is the second
    assert sizes[-1] < 0.05 * sizes[0], sizes  # wide by the end


def test_a_place_change_left_unfinished_by_a_short_shot_goes_on_after_the_cut(film):
    """A half-second continue shot sets a new place: its one-second dissolve is half done when the shot ends,
    and the continue shot after it carries on dissolving, so the picture changes at that cut no more than
    on about the step after it (the rest of the dissolve). The dissolve was cut short: the old place vanished
    at once (here 89 at the cut against 1.7 after it; now 21 against 15)."""
    before, after = film["to-hall"], film["in-hall"]
    cut, next_step = change(before[-1], after[0]), change(after[0], after[1])
    assert cut <= 2 * max(next_step, NOISE / 2), (cut, next_step)
