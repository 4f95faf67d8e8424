"""Staging: actions that use props, decided once per shot from the verbs and the props' kinds.

"Bo sits at his desk" puts Bo on a seat (the shot's chair, stool, bench, sofa
or bed; else a chair when the action names furniture, the shot has a desk or
table, or the place is indoors) with the desk in front of him; "rides" puts
the rider on the shot's bike (or one implied); "drinks" raises the shot's cup,
mug, glass or bottle (or an implied cup) from the hand to the mouth; "drags"
ties a rope from the hands to the thing dragged; "hands ... to" passes the
shot's first portable prop from the giver's hand to the receiver's halfway through.

Which prop an action uses is the one its words name ("drags the sled" with
props [lantern, sled] drags the sled; "drinks from the bottle" with [cup,
bottle] raises the bottle); only when the words name none is it the first that
fits. Sitting needs something to sit on: the named furniture ("sits on the
bed" with no bed prop implies a bed), else indoors a chair, outdoors a rock or,
in a street, a bench; "sits on the ground / grass / floor" sits on the ground.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sora_cli.plan.colors import words
from sora_cli.plan.model import PlannedShot
from sora_cli.render.animatic.motion import Intent
from sora_cli.render.animatic.props import prop_kind

SEATS = ("chair", "stool", "bench", "sofa", "bed")
WORKTOPS = ("desk", "table", "counter")
DRINKS = ("cup", "mug", "glass", "bottle")
FURNITURE_WORDS = {"chair", "seat", "stool", "bench", "sofa", "couch", "desk", "table", "counter", "armchair"}
#: words for a seat named in the action -> the library kind implied when the shot has none
NAMED_SEATS = {"chair": "chair", "armchair": "chair", "seat": "chair", "stool": "stool", "bench": "bench",
               "sofa": "sofa", "couch": "sofa", "settee": "sofa", "bed": "bed", "rock": "rock", "boulder": "rock",
               "stone": "rock", "log": "log", "stump": "log"}  # fmt: skip
GROUND_WORDS = {"ground", "grass", "floor", "sand", "snow", "ice", "carpet", "rug", "steps", "earth", "beach"}
#: outdoor places -> what an unnamed seat there is (streets have benches; elsewhere a rock)
OUTDOOR_SEATS = {"city": "bench", "market": "bench", "forest": "log"}


@dataclass
class Staging:
    kinds: dict[str, str]  # prop id -> library kind
    seats: dict[str, str | None] = field(default_factory=dict)  # sitter -> seat prop (None: an implied seat)
    implied: dict[str, str] = field(default_factory=dict)  # sitter -> the kind of the implied seat
    grounded: set[str] = field(default_factory=set)  # sitters on the ground itself
    worktops: dict[str, str] = field(default_factory=dict)  # sitter -> the desk or table in front
    rides: dict[str, str | None] = field(default_factory=dict)  # rider -> bike prop (None: an implied bike)
    held: dict[str, str | None] = field(default_factory=dict)  # drinker -> what is drunk from (None: a cup)
    dragged: dict[str, str] = field(default_factory=dict)  # prop -> who pulls it
    handed: tuple[str, str, str] | None = None  # (prop, giver, receiver): it changes hands halfway

    def holder(self, t: float, duration: float) -> dict[str, str]:
        """Who holds a handed prop at shot time ``t``: the giver, then from halfway the receiver."""
        if not self.handed:
            return {}
        pid, giver, receiver = self.handed
        return {receiver if t >= duration / 2 else giver: pid}

    @property
    def carried(self) -> set[str]:
        """Props drawn in a hand rather than on the ground."""
        return {pid for pid in self.held.values() if pid} | ({self.handed[0]} if self.handed else set())


def stage(shot: PlannedShot, intents: dict[str, Intent]) -> Staging:
    kinds = {pid: prop_kind(pid, shot.world.props.get(pid, "")) for pid in shot.props}
    staging = Staging(kinds)
    free = list(shot.props)

    said = set(words(shot.action))

    def names(pid: str) -> bool:
        """Whether the action's words name prop ``pid`` (by a word of its id or by its kind)."""
        own = set(words(pid.replace("_", " ").replace("-", " "))) | {kinds[pid]}
        own |= {w + "s" for w in own}
        return bool(own & said)

    def take(allowed: tuple[str, ...] | None = None, exclude: tuple[str, ...] = ()) -> str | None:
        fits = [p for p in free if (allowed is None or kinds[p] in allowed) and kinds[p] not in exclude]
        pid = next((p for p in fits if names(p)), fits[0] if fits else None)
        if pid:
            free.remove(pid)
        return pid

    cast = [c for c in shot.cast if c in intents]
    for name in cast:
        verbs = intents[name].verbs
        if "sit" in verbs:
            seat = take(SEATS)
            desk = take(WORKTOPS)
            named = next((NAMED_SEATS[w] for w in words(shot.action) if w in NAMED_SEATS), None)
            if seat or desk or named:
                staging.seats[name] = seat
                if not seat:
                    staging.implied[name] = named or "chair"
            elif said & GROUND_WORDS:
                staging.grounded.add(name)
            else:  # a seat implied by the place: a chair indoors, a bench in a street, a rock or a log outside
                staging.seats[name] = None
                facts = shot.world.facts
                staging.implied[name] = "chair" if facts.indoors else OUTDOOR_SEATS.get(facts.place, "rock")
            if desk:
                staging.worktops[name] = desk
        if "ride" in verbs:
            staging.rides[name] = take(("bike",))
        if "drink" in verbs:
            staging.held[name] = take(DRINKS)
    givers = [c for c in cast if "give" in intents[c].verbs]
    if givers and len(cast) > 1:
        giver = givers[0]
        receiver = intents[giver].toward or next(c for c in cast if c != giver)
        pid = take(exclude=SEATS + WORKTOPS)
        if pid:
            staging.handed = (pid, giver, receiver)
    pullers = [c for c in cast if "drag" in intents[c].verbs]
    if pullers:
        pid = take(exclude=SEATS + WORKTOPS)
        if pid:
            staging.dragged[pid] = pullers[0]
    return staging
