"""Motion: verbs in ``action`` become what each character does, under simple physics.

Each clause of the action is read for its verbs and the characters it names.
Characters named before the verb are its subjects; a clause naming nobody
applies to the whole cast ("two explorers drag a sled"); a "who ..." clause
applies to the last character named before it ("towards Ben, who turns").

Bodies have momentum (speed changes at a bounded acceleration), jumps follow
gravity and land on the ground, falls rotate about the feet until the body
lies on the ground.

A body's pose outlives the shot that made it: a ``continue`` shot starts from
the carried body, so someone who fell is still on the ground and someone who sat
is still seated until an action gets them up ("gets up", "stands", "rises", or
any verb that needs them on their feet: walk, run, drag, ride, jump). Getting up
is motion inside the shot, never a snap at the cut: a fallen body rotates back
about its feet, a sitter rises over STAND_SECONDS; "slowly" halves both speeds.
A fall that was still under way at the cut goes on to the ground.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sora_cli.render.animatic.figures import Pose

GRAVITY = 9.81

VERBS: dict[str, tuple[str, ...]] = {
    "walk": ("walk", "walks", "walking", "stroll", "strolls", "approach", "approaches", "step", "steps", "wander",
             "wanders", "paces", "trudge", "trudges", "march", "marches", "cross", "crosses", "enter", "enters", "follows"),
    "run": ("run", "runs", "running", "rush", "rushes", "race", "races", "sprint", "sprints", "dash", "dashes", "flee"),
    "jump": ("jump", "jumps", "jumping", "leap", "leaps", "hop", "hops", "vault", "vaults"),
    "fall": ("fall", "falls", "falling", "trip", "trips", "collapse", "collapses", "slip", "slips", "tumble", "tumbles"),
    "drag": ("drag", "drags", "dragging", "pull", "pulls", "haul", "hauls", "push", "pushes", "tow", "tows"),
    "sit": ("sit", "sits", "sitting", "seated"),
    "wave": ("wave", "waves", "waving", "gesture", "gestures"),
    "turn": ("turn", "turns", "turning", "spin", "spins", "looks"),
    "ride": ("ride", "rides", "riding", "cycle", "cycles", "cycling", "pedal", "pedals", "bikes"),
    "drink": ("drink", "drinks", "drinking", "sip", "sips", "sipping", "gulp", "gulps"),
    "give": ("hand", "hands", "handing", "give", "gives", "giving", "pass", "passes", "passing", "offer", "offers"),
    "rise": ("rise", "rises", "rising", "stand", "stands", "standing", "stood", "arise", "arises", "gets_up"),
}  # fmt: skip
#: "gets up", "picks herself up", "climbs to her feet": said with two or more words, read as ``rise`` (its own
#: token, so a thing that rises is told apart from a person getting up); "picks up the lantern" and "pulls up a
#: chair" lift a thing: those verbs get someone up only with a "herself"
_RISE_PHRASE = re.compile(
    r"\b(?:(?:get|gets|getting|got|climb|climbs|climbing|scramble|scrambles|struggle|struggles)"
    r"(?:\s+\w+sel(?:f|ves))?\s+up"
    r"|(?:pick|picks|picking|pull|pulls|pulling|push|pushes|pushing)\s+\w+sel(?:f|ves)\s+up"
    r"|\w+\s+to\s+(?:her|his|their|my|your|our)\s+feet)\b"
)
GOT_UP = "gets_up"
#: verbs that need the body on its feet: said of someone on the ground or seated, they get up first
UPRIGHT_VERBS = frozenset({"rise", "walk", "run", "drag", "ride", "jump"})
RISE_RATE = 2.2  # rad/s: a fallen body's quickest turn back upright (about a second from lying)
RISE_ACCEL = 7.0  # rad/s^2: how fast that turn gets going (it starts from rest, as the fall ended at rest)
SIT_SECONDS = 0.35  # the time constant of sitting down
STAND_SECONDS = 0.7  # standing up from a seat, at full pace (reached after STAND_START seconds, from rest)
STAND_START = 0.25
SPEEDS = {"walk": 1.3, "run": 3.6, "drag": 0.8, "ride": 4.2}
ACCEL = {"walk": 2.0, "run": 5.0, "drag": 1.2, "ride": 2.5}
_VERB_OF = {form: verb for verb, forms in VERBS.items() for form in forms}
_CLAUSE = re.compile(r"[,;.:!?]|\band\b|\bwhile\b|\bas\b|\bthen\b|\bbefore\b|\bafter\b")


@dataclass
class Intent:
    verbs: set[str] = field(default_factory=set)
    direction: float = 1.0
    toward: str | None = None
    slow: bool = False  # "slowly": getting up takes twice as long


#: words that, just before a verb (at most NEGATED_WITHIN words before it), say it is not done ("does not get
#: up", "refuses to stand", "doesn't walk", "never runs"); further back they belong to something else ("Nora
#: doesn't answer but walks to the door")
NEGATIONS = frozenset({"not", "never", "t", "cannot", "refuses", "refuse", "refusing", "fails", "unable"})
NEGATED_WITHIN = 2
#: a thing, not a person, said to rise ("the sun rises", "as it rises", "smoke rising")
RISING_THINGS = frozenset({"it", "sun", "moon", "tide", "smoke", "mist", "fog", "steam", "water", "curtain",
                           "dust", "wind", "temperature", "sea", "river", "bread", "dough"})  # fmt: skip
_LITERAL_RISE = frozenset({"rise", "rises", "rising", "arise", "arises"})


def _done(tokens: list[str]) -> list[tuple[int, str]]:
    """The clause's verbs that someone does: none just after a negation, and not a thing's rising (the
    literal word "rises" after "sun", "it", "smoke": a person's getting up is read from "gets up" too)."""
    verbs = []
    for i, t in enumerate(tokens):
        verb = _VERB_OF.get(t)
        if verb is None or NEGATIONS & set(tokens[max(0, i - NEGATED_WITHIN) : i]):
            continue
        if t in _LITERAL_RISE and i and tokens[i - 1] in RISING_THINGS:
            continue
        verbs.append((i, verb))
    return verbs


def read_action(action: str, cast: tuple[str, ...], default_direction: float = 1.0) -> dict[str, Intent]:
    intents = {name: Intent(direction=default_direction) for name in cast}
    last_named: str | None = None
    for clause in _CLAUSE.split(_RISE_PHRASE.sub(f" {GOT_UP} ", action.lower())):
        tokens = re.findall(r"[a-z0-9_-]+", clause)
        verbs = _done(tokens)
        named = [(i, t) for i, t in enumerate(tokens) if t in intents]
        if not verbs:
            if named:
                last_named = named[-1][1]
            continue
        first_verb = verbs[0][0]
        subjects = [n for i, n in named if i < first_verb]
        if not subjects:
            subjects = [last_named] if tokens and tokens[0] in ("who", "which") and last_named else list(cast)
        toward = next(
            (n for i, n in named if i > first_verb and i > 0 and tokens[i - 1] in ("towards", "toward", "to")), None
        )
        for name in subjects:
            intent = intents[name]
            intent.verbs |= {v for _, v in verbs}
            if "left" in tokens:
                intent.direction = -1.0
            elif "right" in tokens:
                intent.direction = 1.0
            if toward and toward != name:
                intent.toward = toward
            if "slowly" in tokens:
                intent.slow = True
        if named:
            last_named = named[-1][1]
    return intents


@dataclass
class Body:
    """A character's physical state; pickles into a carry."""

    x: float
    y: float = 0.0
    vx: float = 0.0
    vy: float = 0.0
    facing: float = 1.0
    facing_target: float = 1.0
    stride: float = 0.0
    tilt: float = 0.0
    spin: float = 0.0
    sit: float = 0.0
    wave: float = 0.0
    wave_phase: float = 0.0
    jumped: bool = False  # this shot's jump is done (reset by a continue shot: it may jump again)
    turned: bool = False  # this shot's turn is done (likewise)
    phase: float = 0.0  # idle sway offset
    exiting: float = 0.0  # direction of exit, 0 when staying
    drink: float = 0.0  # 0 .. 1 a held cup raised to the mouth
    ride: float = 0.0  # 0 .. 1 on a saddle
    standing: float = 0.0  # how fast ``sit`` is falling as the body stands up (per second)

    def pose(self, height: float, lean: float) -> Pose:
        return Pose(
            x=self.x,
            y=self.y,
            facing=self.facing,
            stride=self.stride,
            swing=min(1.0, abs(self.vx) / 1.3) if self.y <= 0.001 else 0.3,
            lean=lean,
            tilt=self.tilt,
            sit=self.sit,
            wave=self.wave,
            wave_phase=self.wave_phase,
            drink=self.drink,
            ride=self.ride,
        )


def step(
    body: Body, intent: Intent, t: float, dt: float, others: dict[str, Body], ambient: float | None = None
) -> float:
    """Advance ``body`` by ``dt`` at shot time ``t``; returns its torso lean.

    The verbs are timed from the shot's start (``t``); the idle sway runs on ``ambient``, the chain's
    clock (``t`` in a fresh shot), so a ``continue`` shot's first lean follows the last one.
    """
    verbs = intent.verbs
    mode = (
        "run"
        if "run" in verbs or body.exiting
        else "ride"
        if "ride" in verbs
        else "drag"
        if "drag" in verbs
        else "walk"
        if "walk" in verbs
        else None
    )
    if mode == "ride":
        body.ride = 1.0
    # up from the ground or a seat (a state carried in from the shot before): the fall and the sit of this
    # shot's own action win, so a fresh shot (upright, standing) never rises
    rising = not {"fall", "sit"} & verbs and bool(UPRIGHT_VERBS & verbs or mode)
    slow = 2.0 if intent.slow else 1.0
    direction = body.exiting or intent.direction
    if intent.toward and intent.toward in others and not body.exiting:
        gap = others[intent.toward].x - body.x
        direction = 1.0 if gap >= 0 else -1.0
        if abs(gap) < 1.0:
            mode = None  # arrived
    target = direction * SPEEDS[mode] if mode and body.tilt == 0 and body.sit < 0.05 else 0.0
    accel = ACCEL.get(mode or "walk", 2.0)
    body.vx += max(-accel * dt, min(accel * dt, target - body.vx))
    body.x += body.vx * dt
    body.stride += abs(body.vx) * dt * (2 * math.pi / (1.5 if mode != "run" else 2.2))
    if abs(body.vx) > 0.05:
        body.facing_target = 1.0 if body.vx > 0 else -1.0
    if "turn" in verbs and t >= 0.4 and not body.turned:
        body.turned = True
        body.facing_target = -body.facing_target
    body.facing += (body.facing_target - body.facing) * min(1.0, dt * 7)
    # a jump leaves from the feet: someone on the ground or in a seat gets up first
    if "jump" in verbs and t >= 0.5 and not body.jumped and body.y <= 0 and body.tilt == 0 and body.sit < 0.05:
        body.vy, body.jumped = 3.4, True
    if body.y > 0 or body.vy > 0:
        body.vy -= GRAVITY * dt
        body.y += body.vy * dt
        if body.y <= 0:  # ground contact
            body.y, body.vy = 0.0, 0.0
    if rising and body.tilt > 0 and (body.tilt >= math.pi / 2 or body.spin <= 0):
        # back up about the feet, once down (a fall under way lands first): the turn speeds up from rest to
        # RISE_RATE, and stops upright
        body.spin = max(min(body.spin, 0.0) - RISE_ACCEL / slow * dt, -RISE_RATE / slow)
        body.tilt = max(0.0, body.tilt + body.spin * dt)
        if body.tilt == 0.0:
            body.spin = 0.0
    elif (("fall" in verbs and t >= 0.6) or body.tilt > 0) and body.tilt < math.pi / 2:
        # a body toppling about its feet (one already toppling goes on): angular acceleration grows with the tilt
        body.spin += (GRAVITY / 1.0) * math.sin(max(body.tilt, 0.05)) * dt
        body.tilt = min(math.pi / 2, body.tilt + body.spin * dt)
        if body.tilt == math.pi / 2:
            body.spin = 0.0  # on the ground, at rest
    if "sit" in verbs and t >= 0.3:
        body.sit += (1 - body.sit) * min(1.0, dt / SIT_SECONDS)
    elif rising and body.sit > 0:
        # from rest, so the first frame after a cut is only a little higher than the last before it
        full = 1 / (STAND_SECONDS * slow)
        body.standing = min(full, body.standing + full * dt / (STAND_START * slow))
        body.sit = max(0.0, body.sit - body.standing * dt)
        if body.sit == 0.0:
            body.standing = 0.0
    if "drink" in verbs and t >= 0.3:
        body.drink += (1 - body.drink) * min(1.0, dt / 0.5)
    elif body.drink > 0:  # a cup raised in the shot before comes down
        body.drink += (0 - body.drink) * min(1.0, dt / 0.5)
    if "wave" in verbs:
        body.wave += (1 - body.wave) * min(1.0, dt / 0.25)
        body.wave_phase += dt * 9
    else:
        body.wave *= max(0.0, 1 - dt / 0.25)
    lean = 0.38 if mode == "drag" else 0.12 if mode == "run" else 0.0
    return lean + 0.02 * math.sin((t if ambient is None else ambient) * 1.7 + body.phase)
