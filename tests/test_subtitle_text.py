"""Subtitles read back verbatim: what SRT readers would reinterpret is refused, the rest round-trips."""

from __future__ import annotations

from pathlib import Path

import av
import pysrt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sora_cli.assemble.subtitles import Cue, to_srt, wrap
from sora_cli.errors import StoryboardError
from sora_cli.storyboard import parse_storyboard
from tests.conftest import EXAMPLES, MINIMAL, problems_of


def _with_line(line: str) -> str:
    quoted = '"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'
    return MINIMAL.replace('"Hello there."', quoted)


def _accepted(line: str) -> bool:
    try:
        parse_storyboard(_with_line(line), "sb.yaml", EXAMPLES)
    except StoryboardError:
        return False
    return True


def _read_back(cues: list[Cue], tmp: Path) -> tuple[list[str], list[str]]:
    """The cue texts as pysrt and as ffmpeg's SRT demuxer (PyAV) read the file back."""
    path = tmp / "subs.srt"
    path.write_text(to_srt(cues), encoding="utf-8")
    with_pysrt = [item.text for item in pysrt.open(str(path), encoding="utf-8")]
    with av.open(str(path)) as container:
        with_ffmpeg = [bytes(packet).decode("utf-8") for packet in container.demux() if packet.size]
    return with_pysrt, with_ffmpeg


@pytest.mark.parametrize(
    "line,why",
    [
        ("Meet me at 00:00:01,000 --> 00:00:02,000 sharp", "`-->` is the arrow of SRT timing lines"),
        ("   ", "a line needs words"),
    ],
)
def test_text_srt_readers_reinterpret_is_refused_at_validate(line: str, why: str):
    [problem] = problems_of(_with_line(line))
    assert problem.startswith("sb.yaml:14:") and "shots[0].dialogue[0].line:" in problem and why in problem


@pytest.mark.parametrize("line", ["{\\an8}Up here", "one\\Ntwo", "<i>whispered</i>", "{\\b1}bold{\\b0} & [x]"])
def test_override_tags_and_escapes_are_written_and_read_back_verbatim(line: str, tmp_path: Path):
    assert _accepted(line)
    cues = [Cue(0, 0.5, tuple(wrap(line)), "kim")]
    assert _read_back(cues, tmp_path) == ([line], [line])


def test_a_nul_in_a_line_is_refused_at_validate():
    [problem] = problems_of(_with_line("before\x00after"))
    assert "U+0000 (NUL)" in problem


def test_every_cue_survives_a_line_that_once_broke_the_file(tmp_path: Path):
    # before: a NUL lost every later cue, a timing-like line made its cue disappear
    lines = ["First line.", "00:00:01,000 is a time, --> not an arrow here", "Last line."]
    safe = [line for line in lines if _accepted(line)]
    assert safe == ["First line.", "Last line."]
    cues = [Cue(i, i + 0.5, tuple(wrap(line)), "kim") for i, line in enumerate(safe)]
    assert _read_back(cues, tmp_path) == (["First line.", "Last line."], ["First line.", "Last line."])


PIECES = st.one_of(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("0123456789:,.-> <>{}\\/NnhibuI\n\t ")),
            st.characters(codec="utf-8", exclude_categories=("Cs",)),
        ),
        max_size=12,
    ),
    # what SRT and ASS readers act on, and a long word that pushes it onto a line of its own
    st.sampled_from(["00:00:01,000 --> 00:00:02,000", "{\\an8}", "\\N", "<i>", "</b>", "\n\n", "x" * 41 + " "]),
)
TEXT = st.lists(PIECES, min_size=1, max_size=6).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(TEXT, min_size=1, max_size=4))
def test_accepted_dialogue_reads_back_verbatim_from_the_srt(tmp_path_factory, lines: list[str]):
    accepted = [line for line in lines if _accepted(line)]
    if not accepted:
        return
    cues = [Cue(i, i + 0.5, tuple(wrap(line)), "kim") for i, line in enumerate(accepted)]
    expected = [cue.text for cue in cues]
    with_pysrt, with_ffmpeg = _read_back(cues, tmp_path_factory.mktemp("srt"))
    assert with_pysrt == expected
    assert with_ffmpeg == expected
