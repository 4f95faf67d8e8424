"""Kinds of place, read from a location's words; shared by the picture and the sound."""

from __future__ import annotations

from sora_cli.plan.colors import words

#: place -> keywords in the location text (more hits win; ties go to the earlier place)
KEYWORDS: dict[str, tuple[str, ...]] = {
    "interior": ("room", "office", "interior", "kitchen", "living", "studio", "apartment", "bedroom", "hall",
                 "inside", "desk", "bar", "cafe", "café", "lab", "library", "shop", "store", "house"),
    "market": ("market", "bazaar", "stall", "stalls", "fair", "souk", "vendors"),
    "city": ("city", "street", "avenue", "downtown", "alley", "road", "town", "urban", "boulevard", "square", "sidewalk"),
    "forest": ("forest", "woods", "wood", "jungle", "trees", "grove", "woodland", "park", "clearing"),
    "sea": ("beach", "sea", "ocean", "harbour", "harbor", "coast", "pier", "shore", "lake", "port", "bay", "dock", "boats"),
    "desert": ("desert", "dune", "dunes", "sand", "sahara", "canyon", "mesa"),
    "mountains": ("mountain", "mountains", "peak", "peaks", "alpine", "ridge", "valley", "cliff", "summit", "hills"),
    "ice": ("ice", "antarctic", "arctic", "snowfield", "tundra", "glacier", "polar", "plateau", "frozen", "iceberg"),
}  # fmt: skip


def place_for(location: str) -> str:
    said = words(location)
    scores = {place: sum(said.count(k) for k in keys) for place, keys in KEYWORDS.items()}
    best = max(scores.values())
    if best == 0:
        return "neutral"
    return next(place for place, score in scores.items() if score == best)
