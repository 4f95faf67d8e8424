"""Framing is recomposed for every aspect, measured on drawn frames: a 9:16 wide shot shows the whole cast,
a close-up gives the face a comparable share of the frame in 16:9 and 9:16."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sora_cli.plan.resolve import make_plan
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.animatic.figures import look_for
from sora_cli.render.backend import FilmSettings
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES

SB = """\
version: 1
title: Three
output: {{width: {w}, height: {h}, fps: 12}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: false}}}}
world:
  location: "a small coffee bar"
  characters:
    ana: {{description: "barista", color: "#8a5a3c"}}
    leo: {{description: "regular", color: "#5a6f8a"}}
    mia: {{description: "student", color: "#4f8a5a"}}
shots:
  - {{id: a, duration: 1, camera: {{framing: {framing}}}, cast: {cast}}}
"""


def _frame(w: int, h: int, framing: str, cast: str) -> tuple[np.ndarray, object]:
    text = SB.format(w=w, h=h, framing=framing, cast=cast)
    plan = make_plan(parse_storyboard(text, "sb.yaml", EXAMPLES))
    backend = AnimaticBackend()
    backend.open(FilmSettings.from_plan(plan))
    frame = next(iter(backend.render_shot(plan.shots[0], None)))[:, :, :3].astype(np.int16).copy()
    backend.close()
    return frame, plan


@pytest.mark.parametrize(("w", "h"), [(192, 108), (108, 192)])
def test_a_wide_shot_shows_the_whole_cast(w: int, h: int) -> None:
    """Drawn with and without the cast: what the cast adds is three figures, none cut by an edge."""
    cast, _ = _frame(w, h, "wide", "[ana, leo, mia]")
    empty, _ = _frame(w, h, "wide", "[]")
    added = np.abs(cast - empty).max(axis=2) > 30
    labels, _ = ndimage.label(added)
    figures = [s for s in ndimage.find_objects(labels) if s[0].stop - s[0].start > h * 0.1]
    assert len(figures) == 3
    for rows, cols in figures:
        assert rows.start > 0 and cols.start > 0 and rows.stop < h and cols.stop < w


def test_a_close_up_gives_the_face_a_comparable_share_in_16x9_and_9x16() -> None:
    shares = []
    for w, h in [(384, 216), (216, 384)]:
        frame, plan = _frame(w, h, "close_up", "[ana]")
        skin = np.array(look_for(plan.characters["ana"]).skin)
        face = np.abs(frame - skin).max(axis=2) <= 12
        rows, cols = np.flatnonzero(face.any(axis=1)), np.flatnonzero(face.any(axis=0))
        assert len(rows), "no face drawn"
        assert cols[0] > 0 and cols[-1] < w - 1  # the whole face, not a crop of it
        shares.append((rows[-1] - rows[0] + 1) / h)
    # the same cut on the body in both (upper chest to above the head): the face fills as much of the height
    assert shares[0] > 0.25 and shares[1] > 0.25
    assert max(shares) / min(shares) < 1.25


FILM = """\
version: 1
title: Three
output: {{width: {w}, height: {h}, fps: 12, subtitles: []}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: false}}}}
world:
  location: "a small coffee bar"
  characters:
    ana: {{description: "barista", color: "#8a5a3c"}}
    leo: {{description: "regular", color: "#5a6f8a"}}
    mia: {{description: "student", color: "#4f8a5a"}}
shots:
  - {{id: cast, duration: 1, camera: {{framing: wide}}, cast: [ana, leo, mia]}}
  - {{id: empty, duration: 1, camera: {{framing: wide}}}}
  - {{id: face, duration: 1, camera: {{framing: close_up}}, cast: [ana]}}
"""


def _film_frames(tmp_path, w: int, h: int) -> tuple[list[np.ndarray], object]:
    """The first frame of each shot, decoded from the rendered MP4 (what a viewer gets, after encoding)."""
    import av

    from sora_cli.film import RenderRequest, render_film

    sb = tmp_path / f"three-{w}x{h}.yaml"
    sb.write_text(FILM.format(w=w, h=h), encoding="utf-8")
    out = tmp_path / f"three-{w}x{h}.mp4"
    render_film(RenderRequest(sb, output=out, jobs=1, qc=False, cache_dir=tmp_path / "cache"))
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    plan = make_plan(parse_storyboard(sb.read_text(), str(sb), EXAMPLES))
    return [frames[s.start_frame] for s in plan.shots], plan


@pytest.mark.parametrize(("w", "h"), [(216, 384), (384, 216)])
def test_on_the_rendered_film_the_wide_shot_shows_three_whole_figures_and_the_close_up_a_face(tmp_path, w, h):
    """Measured on frames decoded from the film: each figure's pixel extent (what the cast adds to the
    empty set) is whole and inside the frame; the close-up's face (its skin colour) is whole and takes
    28-31 % of the frame's height in both shapes (16:9 0.29, 9:16 0.29: the same cut on the body)."""
    (cast, empty, face_frame), plan = _film_frames(tmp_path, w, h)
    added = np.abs(cast - empty).max(axis=2) > 40
    labels, _ = ndimage.label(ndimage.binary_opening(added))
    figures = [s for s in ndimage.find_objects(labels) if s[0].stop - s[0].start > h * 0.1]
    assert len(figures) == 3, f"{len(figures)} figures at {w}x{h}"
    for rows, cols in figures:
        assert rows.start > 0 and cols.start > 0 and rows.stop < h and cols.stop < w
    skin = np.array(look_for(plan.characters["ana"]).skin)
    face = ndimage.binary_opening(np.abs(face_frame - skin).max(axis=2) <= 16)
    labels, _ = ndimage.label(face)
    biggest = max(ndimage.find_objects(labels), key=lambda s: (s[0].stop - s[0].start) * (s[1].stop - s[1].start))
    rows, cols = biggest
    assert rows.start > 0 and cols.start > 0 and rows.stop < h and cols.stop < w  # the whole face
    assert 0.26 <= (rows.stop - rows.start) / h <= 0.33
