"""Name tags laid out without overlap: a character in frame never loses its tag to another.

Tags are placed one at a time in priority order (characters before props); each
takes the first free spot among its candidates: under the feet where it wants
to be, then stepped further down or up by its own height, then nudged sideways.
A character's tag that finds no free spot is still drawn at its wanted place
(it must be seen); a prop's tag that finds none is left out. This step only
moves rectangles that the caller sized and clamped to the frame, so how text
is sized and where the safe area lies stay the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass

Rect = tuple[float, float, float, float]  # left, top, right, bottom in pixels


@dataclass(frozen=True)
class Tag:
    rect: Rect  # where the tag wants to be (already inside the frame)
    required: bool  # a character's tag: drawn even where no free spot is found


def _overlaps(a: Rect, b: Rect, gap: float) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def _candidates(rect: Rect, bounds: Rect) -> list[Rect]:
    left, top, right, bottom = rect
    w, h = right - left, bottom - top
    out = [rect]
    for k in (1, -1, 2, -2, 3, -3):  # further down, then up, by its own height
        out.append((left, top + k * h * 1.1, right, bottom + k * h * 1.1))
    for k in (1, -1, 2, -2):  # sideways, by half its width
        out.append((left + k * w * 0.55, top, right + k * w * 0.55, bottom))
    # inside the bounds, or no further out than the wanted place already is (a tag clamped to a margin)
    x0, y0, x1, y1 = min(bounds[0], left), min(bounds[1], top), max(bounds[2], right), max(bounds[3], bottom)
    return [r for r in out if r[0] >= x0 and r[1] >= y0 and r[2] <= x1 and r[3] <= y1]


def lay_out(tags: list[Tag], bounds: Rect, gap: float = 1.0) -> list[Rect | None]:
    """Where each tag goes (same order as given), or None for a prop's tag with no room; tags in priority order.

    ``bounds`` is the area tags may use (the title-safe area of the frame), as (left, top, right, bottom).
    """
    placed: list[Rect] = []
    out: list[Rect | None] = []
    for tag in tags:
        spot = next((r for r in _candidates(tag.rect, bounds) if not any(_overlaps(r, p, gap) for p in placed)), None)
        if spot is None and tag.required:
            spot = tag.rect
        if spot is not None:
            placed.append(spot)
        out.append(spot)
    return out
