"""Subtitle cues from the plan's dialogue, and the files that carry them.

Cues are timed to the speech itself (the plan's line start and end), wrapped
to :data:`MAX_CHARS` characters per line and :data:`MAX_LINES` lines; a longer
line is split into consecutive cues, its time shared by length.

Text is written verbatim in every format, which means escaping what each
format would otherwise interpret: ``&``/``<``/``>`` in WebVTT, override blocks
and backslash sequences in ASS (libass draws ``\\{`` as ``{``; a backslash is
kept from starting an escape by a word joiner after it). SRT has no escapes;
it is written as is. Soft subtitles bypass text formats altogether (see
:mod:`sora_cli.assemble.mux`).
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass

from sora_cli.fonts import family_for
from sora_cli.plan.model import Plan

MAX_CHARS = 42
MAX_LINES = 2
WORD_JOINER = "\u2060"


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wrap(text: str) -> list[str]:
    """Lines of at most MAX_CHARS (a single longer word is broken).

    No line keeps a space at either end: SRT readers strip them, so a cue
    would not read back as it was written.
    """
    flat = re.sub(r"\s+", " ", text).strip()
    lines = textwrap.wrap(flat, MAX_CHARS, break_long_words=True, break_on_hyphens=False)
    return [line for line in (raw.strip() for raw in lines) if line] or [""]


def _groups(text: str, seconds: float) -> list[list[str]]:
    """The wrapped lines of one dialogue line, in cues of at most MAX_LINES lines and about
    MAX_CUE_SECONDS each (time is shared by characters): a line spoken slowly is split at
    word boundaries into as many cues as its length on screen needs."""
    lines = wrap(text)
    groups = [lines[i : i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)]
    words = " ".join(lines).split(" ")
    wanted = min(len(words), math.ceil(seconds / MAX_CUE_SECONDS - 1e-9))
    if len(groups) >= wanted:
        return groups
    total = sum(len(w) + 1 for w in words)
    parts: list[list[str]] = [[]]
    done = 0
    for word in words:
        if parts[-1] and done >= total * len(parts) / wanted:
            parts.append([])
        parts[-1].append(word)
        done += len(word) + 1
    return [group for part in parts for group in _groups(" ".join(part), 0.0)]


def cues(plan: Plan) -> list[Cue]:
    out: list[Cue] = []
    for shot in plan.shots:
        for line in shot.dialogue:
            groups = _groups(line.line, line.end - line.start)
            weights = [sum(len(x) for x in g) for g in groups]
            total = sum(weights) or 1
            t = line.start
            for group, weight in zip(groups, weights, strict=True):
                end = t + (line.end - line.start) * weight / total
                out.append(Cue(round(t, 3), round(end, 3), tuple(group), line.speaker))
                t = end
    return _readable(_merge_overlapping(sorted(out, key=lambda c: (c.start, c.end))), plan.duration, plan.fps)


MIN_CUE_SECONDS = 5 / 6  # shortest time on screen (Netflix timed-text style; checked by sora qc)
MAX_CUE_SECONDS = 7.0  # longest time on screen (the same style): a slower line is split into more cues
READING_CPS = 17.0  # characters per second a cue is given room for, when there is room
MIN_GAP_FRAMES = 2  # cues that do not touch are at least this far apart (a shorter gap reads as a flicker)
ROUNDING = 0.02  # s: the coarsest clock a cue is written with (ASS centiseconds), with room to spare


def _merge_overlapping(cue_list: list[Cue]) -> list[Cue]:
    """Cues said at once (dual dialogue) become one cue, a line each, when both fit in one.

    Shown one after the other they would each get a fraction of the overlap,
    too short to read; two speakers on two lines is how a dual exchange is captioned.
    """
    out: list[Cue] = []
    for cue in cue_list:
        last = out[-1] if out else None
        if last is not None and cue.start < last.end and len(last.lines) + len(cue.lines) <= MAX_LINES:
            speaker = last.speaker if last.speaker == cue.speaker else f"{last.speaker}+{cue.speaker}"
            out[-1] = Cue(last.start, max(last.end, cue.end), last.lines + cue.lines, speaker)
        else:
            out.append(cue)
    return out


def _readable(cue_list: list[Cue], film_end: float, fps: float) -> list[Cue]:
    """Cues a viewer can read, in order, never overlapping.

    Each is on screen at least :data:`MIN_CUE_SECONDS` (a cue whose speech is
    shorter, or silent like "...", is held; the next cue waits for it), is given
    room for its characters at :data:`READING_CPS` where the next cue leaves it,
    and either touches the next cue or leaves :data:`MIN_GAP_FRAMES` frames
    before it: a sliver of a gap is closed. Nothing runs past the film's end.
    """
    min_gap = MIN_GAP_FRAMES / max(fps, 1.0) + ROUNDING
    out: list[Cue] = []
    for i, cue in enumerate(cue_list):
        start = max(cue.start, out[-1].end) if out else cue.start
        if start + MIN_CUE_SECONDS > film_end:  # too near the end to be read: shown earlier, after the one before
            start = max(film_end - MIN_CUE_SECONDS, out[-1].end if out else 0.0)
        following = cue_list[i + 1].start if i + 1 < len(cue_list) else film_end
        wanted = start + max(MIN_CUE_SECONDS, len("".join(cue.lines)) / READING_CPS)
        end = max(start + (cue.end - cue.start), min(wanted, following), start + MIN_CUE_SECONDS)
        if end < following < end + min_gap:
            end = following
        end = min(end, film_end)
        if end <= start:
            continue  # nothing left of the film to show it in
        out.append(Cue(round(start, 3), round(end, 3), cue.lines, cue.speaker))
    for i in range(len(out) - 1):  # a start moved by the rules above may leave a sliver: close it
        if 0 < out[i + 1].start - out[i].end < min_gap:
            out[i] = Cue(out[i].start, out[i + 1].start, out[i].lines, out[i].speaker)
    return out


def _clock(t: float, sep: str) -> str:
    ms = round(t * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def to_srt(cue_list: list[Cue]) -> str:
    blocks = [f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n" for i, c in enumerate(cue_list, 1)]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cue_list: list[Cue]) -> str:
    blocks = [f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{_vtt_escape(c.text)}\n" for c in cue_list]
    return "WEBVTT\n\n" + "\n".join(blocks)


def ass_escape(text: str) -> str:
    """Text that libass draws exactly as written."""
    text = text.replace("\\", "\\" + WORD_JOINER)  # "\N" must stay a backslash and an N
    text = text.replace("{", "\\{").replace("}", "\\}")
    return text.replace("\n", "\\N")


def ass_text(text: str, base_family: str) -> str:
    """Escaped ASS text, switching font for runs the base font has no glyphs for.

    libass does not fall back to other fonts in its ``fontsdir`` by itself, so a
    script the base font lacks would come out as empty boxes.
    """
    out: list[str] = []
    current = base_family
    run = ""
    for char in text:
        family = family_for(char) if char != "\n" else current
        if family != current:
            out.append(ass_escape(run) + "{\\fn" + family + "}")
            current, run = family, ""
        run += char
    out.append(ass_escape(run))
    return "".join(out)


def _ass_clock(t: float) -> str:
    cs = round(t * 100)
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def to_ass(
    cue_list: list[Cue],
    width: int,
    height: int,
    font: str,
    margins: tuple[int, int] | None = None,
    size: int | None = None,
) -> str:
    """``margins``: (left and right, bottom) in pixels, e.g. to keep inside a delivery profile's safe area;
    ``size``: the font size (default 1/18 of the shorter side; lines are wrapped to it by
    :mod:`sora_cli.assemble.burn_layout`, and libass wraps any line still too wide)."""
    size = size or max(12, round(min(width, height) / 18))
    margin = max(8, round(min(width, height) / 24))
    side, vertical = margins or (margin, margin)
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: Default,{font},{size},&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,0,0,0,0,100,100,0,0,1,"
        f"{max(1, size // 14)},0,2,{side},{side},{vertical},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    events = [
        f"Dialogue: 0,{_ass_clock(c.start)},{_ass_clock(c.end)},Default,,0,0,0,,{ass_text(c.text, font)}\n"
        for c in cue_list
    ]
    return header + "".join(events)
