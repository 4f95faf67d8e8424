"""The facts of a shot's world, resolved once from its location, weather, time and lighting.

Picture and sound used to guess the place from the words each on their own
(and disagreed: snow fell inside an office the soundtrack had correctly
muffled). Now the plan decides, and both read :class:`WorldFacts`.
"""

from __future__ import annotations

from sora_cli.plan.colors import words
from sora_cli.plan.model import WorldFacts
from sora_cli.plan.place_kinds import resolve_place, windowless

#: place -> what the cast stands on when the location names nothing more precise
SURFACES = {
    "interior": "floor", "ice": "snow", "mountains": "grass", "city": "asphalt", "market": "ground",
    "forest": "grass", "sea": "deck", "desert": "sand", "neutral": "ground",
}  # fmt: skip
SURFACE_WORDS = {
    "carpet": "carpet", "rug": "carpet", "tiles": "tiles", "tiled": "tiles", "concrete": "concrete",
    "pier": "deck", "deck": "deck", "dock": "deck", "sand": "sand", "beach": "sand", "snow": "snow",
    "ice": "ice", "grass": "grass", "meadow": "grass", "street": "asphalt", "road": "asphalt", "mud": "mud",
}  # fmt: skip
LIGHT_WORDS = ("lamp", "lantern", "neon", "candle", "candles", "fire", "fireplace", "torch", "sodium",
               "streetlight", "streetlights", "spotlight", "screen", "lightning", "headlights")  # fmt: skip
#: weather loud enough to be heard through walls
AUDIBLE_INDOORS = ("rain", "storm", "blizzard")


def world_facts(
    location: str, time_of_day: str, weather: str, lighting: str, props: dict[str, str] | None = None
) -> WorldFacts:
    """The facts of one world; ``props`` (id -> description) can name light sources (a desk lamp)."""
    place, reason = resolve_place(location)
    indoors = place == "interior"
    windows = not (indoors and windowless(location))
    said = words(location)
    surface = next((SURFACE_WORDS[w] for w in said if w in SURFACE_WORDS and not indoors), SURFACES[place])
    if weather in ("snow", "blizzard") and not indoors:
        surface = "snow"
    named = [lighting, location, *(f"{pid.replace('_', ' ')} {d}" for pid, d in sorted((props or {}).items()))]
    lit_by = [w for text in named for w in words(text) if w in LIGHT_WORDS]
    natural = ("windows" if windows else "") if indoors else "moon" if time_of_day == "night" else "sun"
    return WorldFacts(
        place=place,
        indoors=indoors,
        surface=surface,
        light_sources=tuple(s for s in dict.fromkeys([*lit_by, natural]) if s),
        weather_at_camera="clear" if indoors else weather,
        weather_beyond_windows=weather if indoors and windows else "",
        weather_heard=("muffled" if weather in AUDIBLE_INDOORS else "none") if indoors else "full",
        windows=windows,
        reason=reason,
    )
