"""Text always fits: cards, captions and burned subtitles inside the title-safe area of every frame shape.

The render tests read the text back from the film's own frames with an OCR engine (rapidocr-onnxruntime,
models inside its wheel) and check that every word is there and every box lies inside the safe area.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import av
import numpy as np
import pytest

from sora_cli.assemble.burn_layout import ASS_EM, burn_cues, subtitle_size
from sora_cli.assemble.subtitles import Cue
from sora_cli.profiles import PROFILES
from sora_cli.textfit import Box, fit_card, measurer, profile_fractions, typeface
from tests.conftest import problems_of, run_cli

CARD = "Ritual Coffee. Every morning, made right. Roasted in small batches by the river since 1998."
LINE = "Every morning we grind the beans by hand, brew them slowly, and pour the very first cup for you."
SHAPES = [  # (width, height, profile)
    (1080, 1920, "social-9x16"),
    (1080, 1080, "social-1x1"),
    (1080, 1350, "web"),
    (1280, 720, "web"),
]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.mark.parametrize(("width", "height", "profile"), SHAPES)
def test_card_fits_the_safe_area_whole(width: int, height: int, profile: str) -> None:
    safe = profile_fractions(PROFILES[profile])
    fit = fit_card("Ritual Coffee. Every morning, made right.", width, height, safe)
    assert fit is not None
    assert " ".join(fit.lines).split() == ["Ritual", "Coffee.", "Every", "morning,", "made", "right."]
    box = Box.of(safe, width, height)
    measure = measurer(typeface(True), fit.size)
    assert max(measure(line) for line in fit.lines) <= box.width
    assert fit.size >= min(width, height) / 40


def test_card_that_cannot_fit_is_a_located_error() -> None:
    long = " ".join(["Ritual Coffee, every morning made right."] * 60)
    problems = problems_of(
        f"""\
        version: 1
        title: T
        output: {{width: 192, height: 108, profile: social-9x16}}
        world:
          location: "a cafe"
        shots:
          - id: open
          - id: end
            action: "End card: {long}"
        """
    )
    assert len(problems) == 1
    assert problems[0].startswith("sb.yaml:9:")
    assert "shots[1].action" in problems[0] and "'end'" in problems[0] and "192x108" in problems[0]


def test_burned_subtitles_wrap_by_measured_width() -> None:
    """At 1080x1920 a 42-character line is wider than the frame's safe width: it is re-wrapped, time kept."""
    size = subtitle_size(1080, 1920)
    assert size == 60  # from the shorter side, as a 1920x1080 frame has
    cue = Cue(1.0, 5.0, ("Every morning we grind the beans by hand,", "brew them slowly, and pour the very"), "ann")
    width = 1080 * 0.88
    out = burn_cues([cue], width, size)
    measure = measurer(typeface(False), size * ASS_EM)
    assert all(measure(line) <= width for c in out for line in c.lines)
    assert all(len(c.lines) <= 2 for c in out)
    assert " ".join(line for c in out for line in c.lines).split() == " ".join(cue.lines).split()
    assert out[0].start == 1.0 and out[-1].end == 5.0
    assert all(a.end == b.start for a, b in itertools.pairwise(out))


# --- read back from rendered films ---------------------------------------------------------------------------------


def _storyboard(width: int, height: int, profile: str) -> str:
    return f"""\
version: 1
title: Ritual
output: {{width: {width}, height: {height}, fps: 4, profile: {profile}, subtitles: [burn, sidecar]}}
backend: {{name: animatic, options: {{slate: false, name_tags: false, captions: false}}}}
world:
  location: "a small coffee bar"
  characters:
    ann: {{description: "barista in a brown apron"}}
shots:
  - id: pour
    cast: [ann]
    camera: {{framing: medium}}
    dialogue:
      - {{speaker: ann, line: "{LINE}"}}
  - id: end
    duration: 1
    action: "End card: {CARD}"
"""


def _srt_cues(path: Path) -> list[Cue]:
    cues = []
    for block in path.read_text(encoding="utf-8").strip().split("\n\n"):
        rows = block.splitlines()
        a, b = rows[1].split(" --> ")

        def secs(clock: str) -> float:
            h, m, rest = clock.split(":")
            s, ms = rest.split(",")
            return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

        cues.append(Cue(secs(a), secs(b), tuple(rows[2:]), ""))
    return cues


def _frames_at(path: Path, times: list[float]) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as container:
        frames = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    for t in times:
        out.append(max((f for f in frames if f[0] <= t + 1e-6), key=lambda f: f[0])[1])
    return out


@pytest.fixture(scope="module")
def ocr():
    rapidocr = pytest.importorskip("rapidocr_onnxruntime")
    return rapidocr.RapidOCR()


@pytest.mark.parametrize(("width", "height", "profile"), SHAPES)
def test_every_word_read_back_inside_the_safe_area(ocr, tmp_path: Path, width: int, height: int, profile: str) -> None:
    sb = tmp_path / "ritual.yaml"
    sb.write_text(_storyboard(width, height, profile), encoding="utf-8")
    film = tmp_path / "ritual.mp4"
    result = run_cli("render", str(sb), "-o", str(film), "--no-qc", "-q", "-j", "1", "--no-cache")
    assert result.code == 0, result.stderr
    burned = burn_cues(_srt_cues(film.with_suffix(".srt")), width, subtitle_size(width, height))
    sub_times = [(c.start + c.end) / 2 for c in burned]
    with av.open(str(film)) as container:
        end = float(container.duration) / 1e6
    frames = _frames_at(film, [*sub_times, end - 0.5])
    box = Box.of(profile_fractions(PROFILES[profile]), width, height)

    def read(frame: np.ndarray) -> str:
        rows, _ = ocr(frame)
        text = ""
        for corners, said, score in rows or []:
            if float(score) < 0.6 or len(_norm(said)) < 2:
                continue
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            assert box.left - 2 <= min(xs) and max(xs) <= box.right + 2, (said, xs, box)
            assert box.top - 2 <= min(ys) and max(ys) <= box.bottom + 2, (said, ys, box)
            text += _norm(said)
        return text

    subtitles = "".join(read(f) for f in frames[:-1])
    card = read(frames[-1])
    for word in LINE.split():
        assert _norm(word) in subtitles, (word, subtitles)
    for word in CARD.split():
        assert _norm(word) in card, (word, card)
