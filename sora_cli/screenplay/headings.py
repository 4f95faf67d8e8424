"""A scene heading read for its place and its time of day (``INT. LAMP ROOM - NIGHT``).

Shared by the breakdown of a fresh script and the import of one that carries
sora's own notes (a heading the writer added to an export), so both read a
heading the same way.
"""

from __future__ import annotations

import re

from sora_cli.screenplay import words
from sora_cli.screenplay.draft import UNKNOWN_PLACE
from sora_cli.screenplay.parse import plain


def split_heading(text: str, forced: bool) -> tuple[str, str]:
    """``INT. LAMP ROOM - NIGHT`` -> (``lamp room, interior``, ``NIGHT``)."""
    body = text.strip()
    side = ""
    match = re.match(r"^(INT\.?/EXT|EXT\.?/INT|I/E|E/I|INT|EXT|EST)[.\s]\s*", body, re.I) if not forced else None
    if match:
        prefix = match.group(1).upper()
        side = {"INT": "interior", "EXT": "exterior", "EST": "exterior"}.get(prefix, "interior and exterior")
        body = body[match.end() :]
    # "NIGHT - FLASHBACK", "NIGHT (FLASHBACK) - 1987", "NIGHT - RAIN": the time of day is the rightmost
    # segment that names one; what follows it (flashback, year, weather) is said after the time
    parts = [p.strip() for p in re.split(r"(?:^|\s+)[-–—]+(?:\s+|$)", body)]
    when = ""
    cut = len(parts)
    for i in range(len(parts) - 1, 0, -1):
        if time_of(bare(parts[i]))[0]:
            cut = i
            break
    else:
        last = bare(parts[-1]) if len(parts) > 1 else ""
        if last and (last in words.RELATIVE_TIMES or words.TIMEISH.search(last)):
            cut = len(parts) - 1
    if cut < len(parts):
        when = " - ".join(p.rstrip(".") for p in parts[cut:])
    place = plain(" - ".join(p for p in parts[:cut] if p)).strip().lower() or UNKNOWN_PLACE
    return (f"{place}, {side}" if side else place), when


def time_jump(heading: str) -> bool:
    """Whether a heading says time has passed or turned back (``LATER``, ``THE NEXT DAY``, ``FLASHBACK``, a year)."""
    when = split_heading(heading, False)[1].upper()
    return bool(re.search(r"\b(LATER|NEXT|AFTER|BEFORE|FLASHBACK|YEARS?|DAYS?|WEEKS?|MONTHS?)\b|\d", when))


def bare(segment: str) -> str:
    """A heading segment without its parentheses or final full stop, upper case: ``night (flashback).`` -> NIGHT."""
    return re.sub(r"\([^)]*\)", "", segment).strip().rstrip(".").upper()


#: Clock hours -> time of day ("3 AM" is night, "6 PM" golden hour).
_HOURS = ["night"] * 5 + ["dawn"] * 2 + ["day"] * 10 + ["golden_hour"] * 2 + ["dusk"] * 2 + ["night"] * 3


def time_of(when: str) -> tuple[str | None, str | None]:
    key = when.upper().strip()
    if key in words.TIMES:
        return words.TIMES[key]
    if clock := re.search(r"\b(\d{1,2})(?::\d\d)?\s*([AP])\.?M\b", key):
        hour = int(clock.group(1)) % 12 + (12 if clock.group(2) == "P" else 0)
        return _HOURS[hour], None
    for word, value in words.TIMES.items():
        if re.search(rf"\b{re.escape(word)}\b", key):
            return value
    return None, None
