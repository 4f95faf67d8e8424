"""Text in every script: cards, captions and tags draw Chinese, Japanese, Arabic and Hebrew with a font
that has each glyph, Arabic shaped and right to left; a character no shipped font has is refused at
validate (located, naming the card and the characters), never drawn as an empty box."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import skia

from sora_cli.textfit import draw_text, missing_glyphs, text_width, typeface
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
