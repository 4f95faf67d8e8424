"""Burned subtitles laid out for the frame they are burned into.

Sidecar and soft subtitles keep the profile's line-length rules (a player
lays them out); burned ones are pixels, so they are wrapped here by the width
libass will really draw, inside the title-safe area, at a size taken from the
frame's shorter side. A cue that needs more than two lines at that width is
split into consecutive cues, its time shared by length, as the sidecar does
for a long line.
"""

from __future__ import annotations

from sora_cli.assemble.subtitles import MAX_LINES, Cue
from sora_cli.textfit import ASS_EM, SLACK, measurer, outline, subtitle_size, typeface, wrap

__all__ = ["ASS_EM", "SLACK", "burn_cues", "outline", "subtitle_size"]


def burn_cues(cue_list: list[Cue], line_width: float, size: int) -> list[Cue]:
    """``cue_list`` re-wrapped to lines no wider than ``line_width`` pixels as libass draws ``size``."""
    measure = measurer(typeface(False), size * ASS_EM)
    room = (line_width - 2 * outline(size)) * SLACK
    out: list[Cue] = []
    for cue in cue_list:
        lines = wrap(" ".join(cue.lines), measure, room) or [""]
        groups = [lines[i : i + MAX_LINES] for i in range(0, len(lines), MAX_LINES)]
        weights = [max(1, sum(len(x) for x in g)) for g in groups]
        total = sum(weights)
        t = cue.start
        for k, (group, weight) in enumerate(zip(groups, weights, strict=True)):
            end = cue.end if k == len(groups) - 1 else round(t + (cue.end - cue.start) * weight / total, 3)
            out.append(Cue(t, end, tuple(group), cue.speaker))
            t = end
    return out
