"""The ambience bed each shot's world calls for, decided once from the plan's facts.

The sound stage synthesises the components named here; the delivery checks read
the same answer to know where the plan asks for sound (a place with no bed of
its own may be quiet). Neither re-derives it from the world's words.
"""

from __future__ import annotations

from sora_cli.plan.model import PlannedShot

CUT_CROSSFADE = 0.3  # seconds, at a cut
CHANGE_CROSSFADE = 0.6  # seconds, when `set:` changes the bed inside a continue chain

WEATHER_BED = {
    "clear": None,
    "cloudy": "breeze",
    "rain": "rain",
    "snow": "snow_hush",
    "blizzard": "blizzard",
    "fog": "fog",
    "storm": "storm",
}
PLACE_BED = {
    "ice": "wind", "mountains": "wind", "city": "traffic", "market": "crowd", "interior": "room_tone",
    "forest": "forest", "sea": "waves", "desert": "desert_wind", "neutral": None,
}  # fmt: skip


#: weather heard through walls: only its low end, and softer
MUFFLED_BED = {"rain": "rain_muffled", "storm": "storm_muffled", "blizzard": "wind_muffled"}


def bed_for(shot: PlannedShot) -> tuple[str, ...]:
    """The bed's components for a shot's world, as the plan resolved it (indoors the weather is muffled)."""
    facts = shot.world.facts
    parts = [PLACE_BED[facts.place]]
    if facts.weather_heard == "full":
        parts.append(WEATHER_BED[shot.world.weather])
    elif facts.weather_heard == "muffled":
        parts.append(MUFFLED_BED.get(shot.world.weather))
    return tuple(sorted({p for p in parts if p}))
