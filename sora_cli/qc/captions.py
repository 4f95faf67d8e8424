"""Caption checks on sidecar (SRT/WebVTT beside the film) and soft (mov_text track) subtitles.

Limits per cue: characters per line, lines, reading speed (characters per
second, spaces included, over the time on screen), minimum and maximum time
on screen, and the gap to the next cue (touching cues are fine; a gap
shorter than two frames reads as a flicker).
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from sora_cli.profiles import Profile
from sora_cli.qc.result import Check

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})")
_ARROW = re.compile(rf"{_TIME.pattern}\s*-->\s*{_TIME.pattern}")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    lines: tuple[str, ...]
    source: str


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_timed_text(text: str, source: str) -> list[Caption]:
    """Cues of an SRT or WebVTT file: the timing line and the text lines after it."""
    cues: list[Caption] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.split("\n")
        for i, line in enumerate(lines):
            m = _ARROW.search(line)
            if m:
                g = m.groups()
                body = tuple(_TAG.sub("", t) for t in lines[i + 1 :] if t.strip())
                cues.append(Caption(_seconds(*g[:4]), _seconds(*g[4:]), body, source))
                break
    return cues


def _soft_captions(path: Path) -> list[Caption]:
    cues: list[Caption] = []
    with av.open(str(path)) as container:
        for stream in container.streams.subtitles:
            if stream.codec_context.name != "mov_text":
                continue
            for packet in container.demux(stream):
                data = bytes(packet)
                if packet.pts is None or len(data) < 2:
                    continue
                n = struct.unpack(">H", data[:2])[0]
                text = data[2 : 2 + n].decode("utf-8", "replace")
                if not text.strip():
                    continue
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                cues.append(Caption(start, end, tuple(text.split("\n")), "soft"))
    return cues


NO_CAPTIONS = "not applicable: the film has no captions (no cue in any subtitle file or track), nothing to check"

Sidecars = Sequence[Path] | Mapping[str, Path]  #: files, or the names they are reported by -> files


def _sides(film: Path, sidecars: Sidecars | None) -> list[tuple[str, Path]]:
    """(name, file) of each sidecar: ``sidecars`` (a mapping names staged files by the names they will have),
    else the SRT and VTT beside the film."""
    if sidecars is None:
        return [(side.name, side) for side in (film.with_suffix(suffix) for suffix in (".srt", ".vtt"))]
    if isinstance(sidecars, Mapping):
        return [(name, Path(side)) for name, side in sidecars.items()]
    return [(Path(side).name, Path(side)) for side in sidecars]


def find_captions(film: Path, sidecars: Sidecars | None = None) -> dict[str, list[Caption]]:
    """Every caption source of the film: its SRT and VTT (``sidecars``, else those beside it), its soft track.

    A render checks its film before the set appears at its path, so it names the
    staged sidecars itself (by the names they will have); ``sora qc`` looks beside the film.
    """
    found: dict[str, list[Caption]] = {}
    for name, side in _sides(film, sidecars):
        if side.is_file():
            found[name] = parse_timed_text(side.read_text(encoding="utf-8", errors="replace"), name)
    soft = _soft_captions(film)
    if soft:
        found["soft"] = soft
    return found


def _header_only(text: str) -> bool:
    """A WebVTT file with its signature (``WEBVTT`` and the header's text) and nothing after: a valid file of
    no cues, what a film without dialogue carries, not junk. Comment, style and region blocks are header too."""
    blocks = re.split(r"\n\s*\n", text.lstrip("\ufeff").replace("\r\n", "\n").strip())
    if not re.match(r"WEBVTT(?:[ \t].*)?$", blocks[0].split("\n")[0]):
        return False
    return all(re.match(r"(?:NOTE|STYLE|REGION)(?:\s|$)", block) for block in blocks[1:])


def unreadable_sidecars(film: Path, sidecars: Sidecars | None = None) -> list[str]:
    """Sidecars (``sidecars``, else those beside the film) with text but not one cue: not subtitles a player could
    show. An empty file, or a WebVTT file that is only its header, is a valid file of no cues (a film without
    dialogue), not an unreadable one."""
    names = []
    for name, side in _sides(film, sidecars):
        if side.is_file():
            text = side.read_text(encoding="utf-8", errors="replace")
            if text.strip() and not _header_only(text) and not parse_timed_text(text, name):
                names.append(name)
    return names


def caption_checks(film: Path, profile: Profile, fps: float, sidecars: Sidecars | None = None) -> list[Check]:
    spec = profile.captions
    checks: list[Check] = []
    junk = unreadable_sidecars(film, sidecars)
    sources = find_captions(film, sidecars)
    if junk:
        checks.append(Check("captions.readable", False, ", ".join(junk), "SRT or WebVTT cues", note="no cue found"))
    elif not any(sources.values()):
        # nothing to read is nothing unreadable: a film without dialogue (or without subtitles) passes, saying why
        checks.append(Check("captions.readable", True, 0, "SRT or WebVTT cues", unit="cues", note=NO_CAPTIONS))
    if not any(sources.values()):
        return checks
    cues = [c for name in sorted(sources) for c in sources[name]]
    frame = 1.0 / fps if fps else 1 / 25

    def add(check_id: str, values: list[tuple[float, float]], limit: float, unit: str, over: bool = True) -> None:
        bad = [(t, v) for t, v in values if (v > limit if over else v < limit)]
        worst = (max if over else min)((v for _, v in values), default=0.0)
        checks.append(Check(check_id, not bad, worst, limit, tuple(sorted({t for t, _ in bad})), unit=unit))

    add("captions.chars_per_line", [(c.start, max((len(t) for t in c.lines), default=0)) for c in cues],
        spec.chars_per_line, "characters")  # fmt: skip
    add("captions.lines_per_cue", [(c.start, len(c.lines)) for c in cues], spec.lines_per_cue, "lines")
    add("captions.reading_speed",
        [(c.start, sum(len(t) for t in c.lines) / max(c.end - c.start, 1e-3)) for c in cues],
        spec.chars_per_second, "characters/s")  # fmt: skip
    # durations are compared at frame accuracy: a cue that ends one frame early is a rounding, not a defect
    add("captions.min_duration", [(c.start, c.end - c.start + frame / 2) for c in cues], spec.min_duration, "s", False)
    add("captions.max_duration", [(c.start, c.end - c.start - frame / 2) for c in cues], spec.max_duration, "s")
    gaps: list[tuple[float, float]] = []
    for name in sorted(sources):
        ordered = sorted(sources[name], key=lambda c: c.start)
        for a, b in itertools.pairwise(ordered):
            gap = b.start - a.end
            if gap > 1e-3:  # touching cues are fine
                gaps.append((a.end, round(gap / frame, 1)))
    add("captions.gap", gaps, spec.min_gap_frames, "frames", over=False)
    return checks
