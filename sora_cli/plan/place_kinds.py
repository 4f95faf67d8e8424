"""Kinds of place, read from a location's words; shared by the picture and the sound.

The location is read like a noun phrase, not a bag of keywords, and the first
rule that applies decides (its name is kept as ``WorldFacts.reason``):

1. ``explicit``: a slug or word that says it (``INT.``, ``EXT.``, indoors,
   outdoors, interior, exterior, open-air); the first one said wins.
2. ``preposition``: the location opens with a place *relative to* a building,
   "outside the office", "in front of the house", "behind the barn", "on the
   roof of ..." (outdoors); "inside the ...", "within ..." (indoors).
3. ``head noun``: the head of the first noun phrase (the last known noun
   before the first preposition) decides: "an old hotel *hallway*" is a hallway,
   "the office *rooftop*" a rooftop, "the *garden* of the house" a garden, "a
   log *cabin* in the woods" a cabin. A venue (bar, cafe, restaurant) modified by
   an open-air word ("a *beach* bar", "a *rooftop* bar") is outdoors.
4. ``keywords``: no head noun known: the known nouns anywhere in the location
   are counted (more hits win; ties go to the interior).
5. ``unknown``: nothing known: a neutral set, outdoors.
"""

from __future__ import annotations

import itertools

from sora_cli.plan.colors import words

#: place -> nouns that name such a place outdoors
OUTDOOR: dict[str, tuple[str, ...]] = {
    "market": ("market", "bazaar", "stall", "stalls", "fair", "souk", "vendors", "fairground", "marketplace"),
    "city": ("city", "street", "avenue", "downtown", "alley", "alleyway", "road", "town", "urban", "boulevard",
             "square", "sidewalk", "pavement", "rooftop", "roof", "balcony", "terrace", "patio", "porch", "yard",
             "backyard", "courtyard", "driveway", "parking", "crossroads", "intersection", "highway",
             "bridge", "plaza", "stadium", "playground", "schoolyard", "campus", "village", "suburb", "station",
             "platform", "quay", "rooftops", "street-corner", "junction", "runway", "tarmac", "cemetery",
             "graveyard", "ruins", "exterior", "outside", "outdoors"),
    "forest": ("forest", "woods", "wood", "jungle", "trees", "grove", "woodland", "park", "clearing", "garden",
               "gardens", "orchard", "field", "fields", "meadow", "farm", "farmyard", "vineyard", "countryside",
               "trail", "path", "riverbank", "river", "swamp", "marsh", "campsite", "camp", "lawn", "hedge"),
    "sea": ("beach", "sea", "ocean", "harbour", "harbor", "coast", "pier", "shore", "lake", "port", "bay", "dock",
            "boats", "seaside", "seafront", "boardwalk", "marina", "lighthouse", "island", "lagoon", "waterfront",
            "deck", "cove", "cliffs", "jetty", "wharf", "promenade"),
    "desert": ("desert", "dune", "dunes", "sand", "sahara", "canyon", "mesa", "oasis", "badlands", "savanna",
               "savannah", "prairie", "steppe"),
    "mountains": ("mountain", "mountains", "peak", "peaks", "alpine", "ridge", "valley", "cliff", "summit",
                  "hills", "hill", "hillside", "mountainside", "volcano", "crater", "slope", "slopes"),
    "ice": ("ice", "antarctic", "arctic", "snowfield", "tundra", "glacier", "polar", "plateau", "frozen",
            "iceberg", "floe", "icefield"),
}  # fmt: skip
#: nouns that name a place indoors (rooms, buildings entered, vehicles' insides)
INDOOR: tuple[str, ...] = (
    "room", "rooms", "office", "offices", "interior", "kitchen", "living", "studio", "apartment",
    "bedroom", "hall", "hallway", "corridor", "lobby", "foyer", "vestibule", "inside", "indoors", "desk", "bar",
    "pub", "tavern", "saloon", "cafe", "café", "coffeehouse", "diner", "restaurant", "canteen", "cafeteria",
    "lab", "laboratory", "library", "shop", "store", "boutique", "supermarket", "mall", "house", "home", "bathroom",
    "toilet", "restroom", "washroom", "shower", "classroom", "school", "lecture", "auditorium", "hospital", "ward",
    "clinic", "surgery", "museum", "gallery", "cinema", "theatre", "theater", "gym", "gymnasium", "basement",
    "cellar", "attic", "loft", "garage", "workshop", "church", "chapel", "cathedral", "temple", "mosque",
    "synagogue", "cabin", "cockpit", "carriage", "compartment", "hotel", "motel", "inn", "suite", "cave", "cavern",
    "tunnel", "barn", "stable", "shed", "warehouse", "factory", "hangar", "submarine", "bunker", "vault", "prison",
    "cell", "jail", "courtroom", "boardroom", "elevator", "stairwell", "staircase", "den",
    "nursery", "pantry", "closet", "wardrobe", "dormitory", "dorm", "barracks", "castle", "palace", "mansion",
    "cottage", "hut", "igloo", "tent", "spaceship", "spacecraft", "starship", "train", "bus", "plane",
    "airplane", "aircraft", "airliner", "terminal", "arcade", "casino", "club", "nightclub", "bakery",
    "laundromat", "salon", "barbershop", "pharmacy", "firehouse", "precinct",
    "locker", "sauna", "spa", "greenhouse", "conservatory", "mill", "cabinet", "ballroom",
    "lounge", "parlour", "parlor", "chamber", "dungeon", "crypt", "tower", "interrogation",
)  # fmt: skip
#: venues that are outdoors when an open-air word modifies them ("a beach bar", "a rooftop bar")
VENUES = ("bar", "pub", "cafe", "café", "restaurant", "diner", "club", "lounge", "cinema", "kitchen", "gym")
OPEN_AIR = ("beach", "rooftop", "roof", "garden", "patio", "terrace", "street", "sidewalk", "poolside", "pool",
            "outdoor", "open-air", "courtyard", "seaside", "park", "drive-in", "deck", "backyard")  # fmt: skip
#: words that stop the head noun phrase (the head is the last known noun before one of them)
PREPOSITIONS = {
    "of", "in", "at", "on", "near", "by", "outside", "inside", "beside", "behind", "with", "under", "above",
    "over", "from", "across", "along", "during", "overlooking", "facing", "next", "within", "around", "beyond",
    "below", "beneath", "between", "among", "opposite", "past", "through", "toward", "towards", "off", "onto",
    "into", "underneath", "where", "while", "and", "as", "full", "filled", "lit", "after", "before",
}  # fmt: skip
#: openings that put the scene outside a building named after them
OUTSIDE_OF = (("outside",), ("in", "front", "of"), ("behind",), ("around",), ("on", "top", "of"),
              ("on", "the", "roof", "of"), ("on", "the", "steps", "of"), ("at", "the", "door", "of"),
              ("at", "the", "gate", "of"), ("beside",), ("next", "to"), ("opposite",), ("across", "from"),
              ("out", "of"))  # fmt: skip
INSIDE_OF = (("inside",), ("within",), ("deep", "inside"), ("in", "the", "middle", "of", "the", "room"))
EXPLICIT_IN = {"int", "interior", "indoors", "indoor"}
EXPLICIT_OUT = {"ext", "exterior", "outdoors", "outdoor", "open-air", "alfresco"}
ARTICLES = {"a", "an", "the", "this", "that", "his", "her", "their", "our", "my", "your", "its", "some"}

KIND_OF: dict[str, str] = {w: place for place, nouns in OUTDOOR.items() for w in nouns}
for _noun in INDOOR:
    KIND_OF.setdefault(_noun, "interior")
KIND_OF.update({"bar": "interior", "tent": "interior", "inside": "interior", "interior": "interior"})
#: kept for callers that counted keywords: place -> its nouns
KEYWORDS: dict[str, tuple[str, ...]] = {
    "interior": tuple(w for w, p in KIND_OF.items() if p == "interior"),
    **{p: tuple(w for w, k in KIND_OF.items() if k == p) for p in OUTDOOR},
}


def _known(word: str) -> str | None:
    if word in KIND_OF:
        return KIND_OF[word]
    if word.endswith("s") and word[:-1] in KIND_OF:
        return KIND_OF[word[:-1]]
    return None


def _starts(said: list[str], openings: tuple[tuple[str, ...], ...]) -> bool:
    body = said[1:] if said[:1] and said[0] in ARTICLES else said
    return any(tuple(body[: len(o)]) == o for o in openings)


def _outdoor_kind(said: list[str]) -> str:
    """The outdoor place a location names somewhere (a city street when it names none)."""
    kinds = [k for w in said if (k := _known(w)) and k != "interior"]
    return kinds[0] if kinds else "city"


def resolve_place(location: str) -> tuple[str, str]:
    """(place, reason): the kind of place a location is, and which rule decided (see the module)."""
    raw = location.lower()
    said = words(location)
    for w in said:
        if w in EXPLICIT_IN or (w == "int" and "int." in raw):
            return "interior", f"explicit: {w}"
        if w in EXPLICIT_OUT:
            return _outdoor_kind([x for x in said if x not in EXPLICIT_OUT]), f"explicit: {w}"
    if _starts(said, INSIDE_OF):
        return "interior", "preposition: inside"
    if _starts(said, OUTSIDE_OF):
        body = said[1:] if said[0] in ARTICLES else said
        opening = next(" ".join(o) for o in OUTSIDE_OF if tuple(body[: len(o)]) == o)
        return _outdoor_kind(body), f"preposition: {opening}"
    phrase = list(itertools.takewhile(lambda w: w not in PREPOSITIONS, said))
    known = [(i, w) for i, w in enumerate(phrase) if _known(w)]
    if known:
        i, head = known[-1]
        kind = _known(head)
        assert kind is not None
        if kind == "interior" and head in VENUES:
            modifier = next((m for m in phrase[:i] if m in OPEN_AIR), None)
            if modifier:
                return _outdoor_kind(phrase), f"head noun: {modifier} {head}"
        return kind, f"head noun: {head}"
    scores: dict[str, int] = {}
    for w in said:
        if kind := _known(w):
            scores[kind] = scores.get(kind, 0) + 1
    if scores:
        best = max(scores.values())
        order = ["interior", *OUTDOOR]
        place = next(p for p in order if scores.get(p) == best)
        return place, "keywords"
    return "neutral", "unknown: no place word known, a neutral set outdoors"


def place_for(location: str) -> str:
    return resolve_place(location)[0]


def windowless(location: str) -> bool:
    """``"a room with no windows"``, ``"a windowless cell"``: nothing of the outside is seen."""
    said = words(location)
    if "windowless" in said:
        return True
    pairs = list(itertools.pairwise(said))
    return any(a in ("no", "without") and b in ("window", "windows") for a, b in pairs) or any(
        said[i : i + 3] == ["without", "any", "windows"] for i in range(len(said))
    )
