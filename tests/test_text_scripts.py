"""Text in every script: cards, captions and tags draw Chinese, Japanese, Arabic and Hebrew with a font
that has each glyph, Arabic shaped and right to left; a character no shipped font has is refused at
validate (located, naming the card and the characters), never drawn as an empty box."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import skia

from sora_cli.textfit import (
    Box,
    card_block_top,
    draw_text,
    missing_glyphs,
    place_card,
    slate_bottom,
    text_width,
    typeface,
)
from tests.conftest import problems_of, run_cli


def _draw(text: str, plain: bool = False, size: float = 40.0) -> np.ndarray:
    buf = np.zeros((80, 420, 4), np.uint8)
    surface = skia.Surface(buf)
    font = skia.Font(typeface(False), size)
    paint = skia.Paint(AntiAlias=True, Color=skia.ColorWHITE)
    with surface as canvas:
        canvas.clear(skia.ColorBLACK)
        if plain:
            canvas.drawString(text, 10, 55, font, paint)
        else:
            draw_text(canvas, text, 10, 55, font, paint)
    return buf[:, :, :3].max(axis=2).copy()


def _ink_columns(img: np.ndarray) -> np.ndarray:
    return np.flatnonzero(img.max(axis=0) > 100)


def test_cjk_is_drawn_with_its_own_glyphs_not_boxes() -> None:
    assert missing_glyphs("東京の朝 مرحبا שלום ☕") == ""
    shaped, boxes = _draw("東京の朝"), _draw("東京の朝", plain=True)
    assert not np.array_equal(shaped, boxes)  # DejaVu alone draws four .notdef boxes
    # four distinct glyphs: no two characters' ink is the same picture (boxes all are)
    cells = [_draw(c) for c in "東京の朝"]
    assert len({c.tobytes() for c in cells}) == 4


def test_cjk_card_read_back_by_ocr(tmp_path: Path) -> None:
    rapidocr = pytest.importorskip("rapidocr_onnxruntime")
    sb = tmp_path / "cjk.yaml"
    sb.write_text(
        """\
version: 1
title: C
output: {width: 320, height: 180, fps: 4}
backend: {name: animatic, options: {slate: false, captions: false, name_tags: false}}
world:
  location: "a cafe"
shots:
  - id: end
    duration: 1
    action: "End card: 東京 毎朝 珈琲"
""",
        encoding="utf-8",
    )
    film = tmp_path / "cjk.mp4"
    result = run_cli("render", str(sb), "-o", str(film), "--no-qc", "-q", "-j", "1", "--no-cache")
    assert result.code == 0, result.stderr
    with av.open(str(film)) as container:
        frame = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)][-1]
    big = np.kron(frame, np.ones((2, 2, 1), np.uint8))
    rows, _ = rapidocr.RapidOCR()(big)
    said = "".join(r[1] for r in rows or []).replace(" ", "")
    for char in "京朝珈":  # the OCR model answers in simplified characters: these are the same in both
        assert char in said, said


def test_arabic_is_shaped_and_right_to_left() -> None:
    word = "مرحبا"
    shaped, unshaped = _draw(word), _draw(word, plain=True)
    assert not np.array_equal(shaped, unshaped)
    # joined letters are narrower than the isolated forms drawn one after another
    isolated = sum(skia.Font(typeface(False), 40).measureText(c) for c in word)
    assert text_width(word, 40) < isolated * 0.9
    # right to left: the first letter written (alef here) sits at the right end of the ink
    alef = _ink_columns(_draw("ا"))
    both = _ink_columns(_draw("ا   ب"))
    assert both.max() - both.min() > 3 * (alef.max() - alef.min() + 1)
    right = _draw("ا   ب")[:, both.max() - (alef.max() - alef.min()) : both.max() + 1]
    left = _draw("ا   ب")[:, both.min() : both.min() + alef.max() - alef.min() + 1]
    alone = _draw("ا")[:, alef.min() : alef.max() + 1]
    assert np.abs(right.astype(int) - alone).mean() < np.abs(left.astype(int) - alone).mean()


def test_a_character_no_font_has_is_a_located_error() -> None:
    problems = problems_of(
        """\
        version: 1
        title: T
        world:
          location: "a cafe"
        shots:
          - id: open
          - id: end
            action: "End card: Ritual नमस्ते"
        """
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("sb.yaml:8:")
    assert "shots[1].action" in problems[0] and "card of shot 'end'" in problems[0]
    assert "'न' (U+0928)" in problems[0] and "'म' (U+092E)" in problems[0]


def test_caption_glyphs_checked_only_when_captions_are_drawn() -> None:
    text = """\
        version: 1
        title: T
        backend: {{name: animatic, options: {{captions: {on}}}}}
        world:
          location: "a cafe"
        shots:
          - id: open
            action: "Ana waves ก"
        """
    assert any("caption of shot 'open'" in p for p in problems_of(text.format(on="true")))
    assert problems_of(text.format(on="false")) == []


def test_small_frame_refuses_every_piece_that_cannot_fit() -> None:
    """At 64x64 the slate, the name tag, the caption and a burned subtitle word are each refused, located
    and naming the frame: none is clipped, cut mid-word or drawn past the frame's edge."""
    problems = problems_of(
        """\
        version: 1
        title: T
        output: {width: 64, height: 64, subtitles: [burn]}
        backend: {name: animatic, options: {captions: true, slate: true, name_tags: true}}
        world:
          location: "a room"
          characters:
            bartholomew: {description: "a"}
        shots:
          - id: a
            cast: [bartholomew]
            action: "Bartholomew contemplates the extraordinarily complicated espresso machine"
            dialogue:
              - {speaker: bartholomew, line: "Incomprehensibilities notwithstanding."}
        """
    )
    assert all("64x64 frame" in p for p in problems), problems
    located = {p.split(": ")[0].split(":", 1)[1] + " " + p.split(": ")[1] for p in problems}
    assert located == {
        "10:9 shots[0].id",
        "11:11 shots[0].cast",
        "12:13 shots[0].action",
        "14:38 shots[0].dialogue[0].line",
    }, problems
    assert any("name tag 'Bartholomew'" in p for p in problems)


def test_the_same_pieces_fit_a_larger_frame() -> None:
    text = """\
        version: 1
        title: T
        output: {width: 480, height: 270, subtitles: [burn]}
        world:
          location: "a room"
          characters:
            bartholomew: {description: "a"}
        shots:
          - id: a
            cast: [bartholomew]
            action: "Bartholomew contemplates the extraordinarily complicated espresso machine"
            dialogue:
              - {speaker: bartholomew, line: "Incomprehensibilities notwithstanding."}
        """
    assert problems_of(text) == []


def test_card_keeps_clear_of_the_slate() -> None:
    """A card that fills the safe area is set below the slate, not over it; centred as before otherwise."""
    safe = (0.05, 0.05, 0.95, 0.95)
    long = " ".join(["Ritual Coffee. Every morning, made right."] * 5)
    box = Box.of(safe, 192, 108)
    clear = slate_bottom(box, 192, 108)
    centred = place_card(long, 192, 108, safe, 0.0)
    assert centred is not None and card_block_top(box, centred[0]) < clear  # centred, it would cover the slate
    placed = place_card(long, 192, 108, safe, clear)
    assert placed is not None
    fit, where = placed
    assert card_block_top(where, fit) >= clear
    assert " ".join(fit.lines).split() == long.split()
    short = place_card("Ritual", 192, 108, safe, clear)
    assert short is not None and short[1] == box  # nothing moves where nothing overlapped


def _film_frames(tmp_path: Path, name: str, subtitles: str, tags: bool = True) -> tuple[list[np.ndarray], list[float]]:
    sb = tmp_path / f"{name}.yaml"
    sb.write_text(
        f"""\
version: 1
title: Tags
output: {{width: 270, height: 480, fps: 4, profile: social-9x16, subtitles: [{subtitles}]}}
backend: {{name: animatic, options: {{slate: false, captions: false, name_tags: {str(tags).lower()}}}}}
world:
  location: "a small coffee bar"
  characters:
    ana: {{description: "barista", color: "#ff00ff"}}
shots:
  - id: pour
    cast: [ana]
    camera: {{framing: wide}}
    dialogue:
      - {{speaker: ana, line: "Every morning, made right.", at: 0.2}}
""",
        encoding="utf-8",
    )
    film = tmp_path / f"{name}.mp4"
    result = run_cli("render", str(sb), "-o", str(film), "--no-qc", "-q", "-j", "1", "--no-cache")
    assert result.code == 0, result.stderr
    with av.open(str(film)) as container:
        decoded = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return [f for _, f in decoded], [t for t, _ in decoded]


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    ys, xs = np.nonzero(mask)
    return None if len(ys) == 0 else (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max()))


def test_burned_subtitles_keep_clear_of_name_tags(tmp_path: Path) -> None:
    """A 9:16 film with burned subtitles: the name tag's box and the subtitle's box never intersect (each
    measured as what it changed against the same film without it)."""
    burned, times = _film_frames(tmp_path, "burned", "burn")
    untagged, _ = _film_frames(tmp_path, "untagged", "burn", tags=False)
    bare, _ = _film_frames(tmp_path, "bare", "sidecar", tags=False)
    checked = 0
    for frame, no_tag, neither, t in zip(burned, untagged, bare, times, strict=True):
        if t < 0.5:
            continue
        sub = _bbox(np.abs(no_tag.astype(int) - neither.astype(int)).max(axis=2) > 60)
        tag = _bbox(np.abs(frame.astype(int) - no_tag.astype(int)).max(axis=2) > 60)
        if sub is None or tag is None:
            continue
        checked += 1
        apart = tag[2] < sub[0] or sub[2] < tag[0] or tag[3] < sub[1] or sub[3] < tag[1]
        assert apart, (t, tag, sub)
    assert checked >= 3
