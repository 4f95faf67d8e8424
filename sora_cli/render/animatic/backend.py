"""The ``animatic`` backend: a procedural previz renderer, deterministic to the byte.

Every shot is drawn from the plan's resolved world: the place from the
location, sky and light from time of day, weather and lighting, characters
with a stable identity, motion from the action's verbs, the camera from
framing and move. State (camera, bodies, props, particles, RNG) is carried
into ``continue`` shots so they pick up exactly where the previous shot ended.

What a continue shot's own words change (the framing, the move, the action, the
cast, the world) happens by motion inside it, never by a jump at the cut: the
camera settles from the carried pose into the shot's own (``camera.settled``),
bodies keep their pose until an action moves them (``motion.py``), what hands hold
and what people sit on stays (the "kit"), breath, sway, clouds and waves run on the
chain's clock, the light steps and a new place dissolves over WORLD_CHANGE. The shot's action is still timed from its own
start (a jump at half a second, a turn at 0.4 s).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Generator
from dataclasses import asdict, replace
from typing import Any, ClassVar

import numpy as np
import skia

from sora_cli.fonts import MONO
from sora_cli.plan.colors import RGB, words
from sora_cli.plan.model import PlannedShot, WorldFacts
from sora_cli.render.animatic import weather
from sora_cli.render.animatic.camera import (
    BODY_CUTS,
    EASE_SECONDS,
    REFERENCE_VIEW,
    REFRAME_SECONDS,
    CameraPose,
    framed,
    moved,
    offset_of,
    settled,
)
from sora_cli.render.animatic.figures import SIT_DROP, Look, Mouth, draw_figure, lit_look, look_for
from sora_cli.render.animatic.motion import SPEEDS, Body, Intent, read_action, step
from sora_cli.render.animatic.paint import hex_rgb, mix
from sora_cli.render.animatic.place import Place, build_place
from sora_cli.render.animatic.props import draw_prop, kind_of, prop_kind
from sora_cli.render.animatic.sky import Light, blend, light_for
from sora_cli.render.animatic.staging import Staging, stage
from sora_cli.render.animatic.tags import Tag, lay_out
from sora_cli.render.backend import Backend, Carry, FilmSettings, OnStep, ShotRender, check_option_types
from sora_cli.render.watermark import TOP_BAND
from sora_cli.textfit import (
    LINE_GAP,
    Box,
    caption_fits,
    card_text,
    draw_text,
    fit_block,
    min_card_size,
    place_card,
    slate_fits,
    tag_fits,
    text_width,
    typeface,
    width_measure,
    wrap,
)

#: a body lying on its side stands this fraction of its height off the ground (what a framing cut on the
#: body takes for its top); the upper body (the head and shoulders a close framing shows) is this far up it
LYING_TOP, UPPER_BODY = 0.18, 0.8
WORLD_CHANGE = 1.0  # seconds over which a `set:` change shows inside a continue chain (light steps, place dissolves)
CLOUDED = ("cloudy", "rain", "storm", "snow", "blizzard")  # weathers with clouds across the sky
LIGHT_STEPS = 8  # the light changes in this many steps (each step's place is recorded once)

OPTIONS: dict[str, tuple[type, Any, str]] = {
    "slate": (bool, True, "shot id, camera and timecode in the corner"),
    "captions": (bool, True, "the shot's action as a caption"),
    "name_tags": (bool, True, "each character's name under them"),
}


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@functools.lru_cache(maxsize=256)
def _paint(color: RGB, alpha: int = 255) -> skia.Paint:
    """A fill, made once per colour (the overlays draw the same few every frame; none is changed after)."""
    return skia.Paint(AntiAlias=True, Color=skia.Color(*color, alpha))


class AnimaticBackend(Backend):
    name: ClassVar[str] = "animatic"
    version: ClassVar[str] = "11"  # bump whenever pixels or the carried state change
    frame_channels: ClassVar[int | None] = 4  # (Skia's RGBA surface)

    def __init__(self) -> None:
        self.film: FilmSettings | None = None
        self.looks: dict[str, Look] = {}
        self._places: dict[tuple[str, bool, Light], Place] = {}
        self._lit_looks: dict[tuple[str, Light], Look] = {}
        self._kept: dict[tuple[Any, ...], Any] = {}

    # --- the backend contract -------------------------------------------------------------

    @classmethod
    def identity_for(cls, film: FilmSettings) -> dict[str, Any]:
        """The cache identity: the safe area where text goes is part of the pixels."""
        return {
            "name": cls.name,
            "version": cls.version,
            "options": film.options,
            "model": film.model,
            "safe_area": [round(x, 6) for x in film.safe],
        }

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[tuple[str, str]]:
        """Problems with ``backend.options`` as (key, message), checked before rendering."""
        return check_option_types("animatic", options, {key: kind for key, (kind, _, _) in OPTIONS.items()})

    def open(self, film: FilmSettings) -> None:
        self.film = film
        self.options = {k: film.options.get(k, default) for k, (_, default, _) in OPTIONS.items()}
        # character conditioning, once per film: looks (colour, build, likeness image)
        self.looks = {cid: look_for(char) for cid, char in film.characters.items()}
        self.bold = typeface(True)
        short = min(film.width, film.height)  # text scales with the shorter side (see sora_cli.textfit)
        self.safe = Box.of(film.safe, film.width, film.height)
        self.fonts = {
            "tag": skia.Font(self.bold, max(11, short / 48)),
            "mono": skia.Font(skia.Typeface.MakeFromFile(str(MONO)), max(10, short / 50)),
            "caption": skia.Font(typeface(False), max(11, short / 40)),
        }
        self.buffer = np.zeros((film.height, film.width, 4), np.uint8)
        # premultiplied alpha: skia blends translucent paint without converting every pixel it touches to and
        # from plain alpha (a dimmed card or a lamp's glow costs half); the frame is opaque (the sky and ground
        # bands cover it before anything translucent), so its bytes mean the same either way
        self.surface = skia.Surface(
            self.buffer, colorType=skia.ColorType.kRGBA_8888_ColorType, alphaType=skia.AlphaType.kPremul_AlphaType
        )
        self._kept = {}  # text layout of this film's frame size

    def _keep(self, key: tuple[Any, ...], work: Callable[[], Any]) -> Any:
        """``work()``, done once per film for ``key``: the text layouts a shot draws the same every frame.

        What is kept depends only on its key and the film's settings, never on the
        frames drawn before, so a frame is the same whichever worker draws it.
        """
        if key not in self._kept:
            self._kept[key] = work()
        return self._kept[key]

    def close(self) -> None:
        self.surface = None  # type: ignore[assignment]

    def render_shot(self, shot: PlannedShot, carry: Carry | None, on_step: OnStep | None = None) -> ShotRender:
        return ShotRender(self._frames(shot, carry, draw=lambda i: True))

    def key_frame(self, shot: PlannedShot) -> np.ndarray:
        return self.key_frame_after(shot, None)[0]

    def key_frame_after(self, shot: PlannedShot, carry: Carry | None) -> tuple[np.ndarray, Carry]:
        """The shot's middle frame as the film shows it, and the carry for the shot after it.

        A ``continue`` shot picks up the previous shot's state, so its key frame is
        the film's own frame only when the chain before it has been run: every frame
        is stepped, only the middle one is drawn.
        """
        middle = shot.frames // 2
        frames = self._frames(shot, carry, draw=lambda i: i == middle)
        key: np.ndarray | None = None
        i = 0
        while True:
            try:
                frame = next(frames)
            except StopIteration as done:
                assert key is not None
                return key, done.value
            if i == middle:
                key = frame[:, :, :3].copy()
            i += 1

    # --- one shot ---------------------------------------------------------------------------

    def _frames(
        self, shot: PlannedShot, carry: Carry | None, draw: Callable[[int], bool]
    ) -> Generator[np.ndarray, None, Carry]:
        film = self.film
        assert film is not None, "open() the backend first"
        fps = film.fps
        dt = 1.0 / fps
        w = shot.world
        sky = _sky(w.time_of_day, w.weather, w.lighting, w.facts.indoors, w.facts.light_sources)
        light = light_for(*sky)
        clouded = 1.0 if w.weather in CLOUDED else 0.0  # the cloud cover
        sky_before = sky  # what the light and the clouds start from (the shot before's, when continuing)
        changed = 0.0  # how much of a world change was done before this shot (a short shot's unfinished one)
        aspect = film.width / film.height
        continuing = carry is not None and shot.continuity == "continue" and "bodies" in carry.state
        direction = -1.0 if shot.camera.move == "pan_left" else 1.0
        intents = read_action(shot.action, shot.cast, direction)
        ease = EASE_SECONDS  # how long a continued camera takes into this shot's framing

        if continuing:
            assert carry is not None
            state = carry.state
            bodies = {k: Body(**v) for k, v in state["bodies"].items()}
            for body in bodies.values():  # this shot's own jump and turn are still to come (a jump in flight lands)
                body.jumped, body.turned = body.y > 0, False
            props = dict(state["props"])
            start_pose = CameraPose(*state["camera"])
            track_x = state["track"]
            particles = weather.Particles.from_state(state["weather"])
            clock = state["clock"]
            sky_before = _sky(*state["sky"])
            # a world change the shot before did not finish (it was shorter than WORLD_CHANGE) goes on from
            # where it was, when this shot changes nothing more; another change starts from the last world
            going_on = state.get("changing")
            if going_on and sky_before == sky and self._world_before(shot, state) is None:
                sky_before, changed = _sky(*going_on["sky"]), going_on["done"]
            view = self._view(start_pose, aspect)
            particles = weather.change_kind(particles, w.weather, view)
            for name in list(bodies):
                if name not in shot.cast:  # leaving: run off the nearer side
                    bodies[name].exiting = 1.0 if bodies[name].x >= start_pose.cx else -1.0
            present = [bodies[n].x for n in shot.cast if n in bodies]
            for name in shot.cast:
                if name not in bodies:  # arriving: walk in from the right edge toward the others
                    edge = start_pose.cx + start_pose.view_h * aspect / 2 + 0.8
                    bodies[name] = Body(x=edge, facing=-1.0, facing_target=-1.0, phase=_stable_seed(name) % 7)
                    intents[name] = Intent(verbs={"walk"}, direction=-1.0)
                    if present:
                        intents[name].toward = next(n for n in shot.cast if n in bodies and n != name)
            # framing someone else, or differently: the camera goes to this shot's own cast at once
            # (someone else: in a third of a second; the same people framed differently: in half the usual ease)
            recast = state.get("cast") != list(shot.cast)
            if recast or state.get("framing") != shot.camera.framing:
                track_x = self._subject_x(shot, bodies, props)
                ease = REFRAME_SECONDS if recast else EASE_SECONDS / 2
        else:
            bodies, props = self._blocking(shot, intents)
            start_pose = None
            track_x = self._subject_x(shot, bodies, props)
            clock = 0.0
            first = self._target_pose(shot, bodies, props, track_x, 0.0, aspect)
            particles = weather.start(w.weather, shot.seed, self._view(first, aspect))

        before = light_for(*sky_before)
        clouded_before = 1.0 if sky_before[1] in CLOUDED else 0.0
        # what goes on whatever the action (breath, idle sway, clouds, waves) runs on the chain's clock, so it
        # carries on through a continue cut instead of starting again; a fresh shot's chain clock is its own time
        since = carry.state["clock"] + dt if continuing and carry is not None else 0.0
        was = self._world_before(shot, carry.state if continuing and carry is not None else {}, changed > 0)
        staging = stage(shot, intents)
        kit = _carry_kit(staging, state.get("kit", {}), bodies) if continuing else {}
        drag_props = list(staging.dragged)
        pose = start_pose
        offset: tuple[float, ...] | None = None
        frame = self.buffer
        for i in range(shot.frames):
            t = i * dt
            if i > 0 or continuing:  # a continue shot's first frame is one step after the last one
                clock += dt
                positions = dict(bodies)
                leans = {}
                for name, body in bodies.items():
                    leans[name] = step(body, intents.get(name, Intent()), t, dt, positions, since + t)
                for pid in drag_props:
                    draggers = [bodies[c] for c in shot.cast if c in bodies]
                    if draggers:
                        lead = min(draggers, key=lambda b: b.x * (1 if draggers[0].vx >= 0 else -1))
                        behind = lead.x - (1.5 if lead.vx >= 0 else -1.5)
                        props[pid] += (behind - props[pid]) * min(1.0, dt * 6)
                target_x = self._subject_x(shot, bodies, props)
                track_x += (target_x - track_x) * min(1.0, dt * 2.5)
                particles_view = self._view(pose or self._target_pose(shot, bodies, props, track_x, t, aspect), aspect)
                weather.step(particles, dt, clock, particles_view)
            else:
                leans = {name: 0.0 for name in bodies}
            _place_used_props(staging, bodies, props)
            target = self._target_pose(shot, bodies, props, track_x, t, aspect)
            if start_pose is not None:
                if offset is None:  # the carried pose, as an offset from this shot's own: it dies away
                    offset = offset_of(start_pose, target)
                pose = settled(target, offset, t + dt, ease)
            else:
                pose = target
            for name in [n for n, b in bodies.items() if b.exiting and abs(b.x - pose.cx) > pose.view_h * aspect * 1.5]:
                del bodies[name]  # well out of frame: gone
            if draw(i):
                # a world change inside a continue chain is seen happening, over WORLD_CHANGE seconds
                done = changed + t + dt  # seconds of the world change shown by this frame
                step_k = (
                    min(LIGHT_STEPS, math.floor(done / WORLD_CHANGE * LIGHT_STEPS)) if before != light else LIGHT_STEPS
                )
                now = blend(before, light, step_k / LIGHT_STEPS)
                change = min(1.0, done / WORLD_CHANGE) if continuing else 1.0
                clouds = clouded_before + (clouded - clouded_before) * change
                place = self._place(w.location, w.facts, w.time_of_day, now)
                self._draw(
                    shot, i, t, since + t, clouds, place, now, pose, bodies, leans, props, particles, staging, kit
                )
                if was is not None and done < WORLD_CHANGE:  # the place the chain was in, dissolving away
                    new = frame.copy()
                    old_place = self._place(was.world.location, was.world.facts, w.time_of_day, now)
                    self._draw(
                        was,
                        i,
                        t,
                        since + t,
                        clouds,
                        old_place,
                        now,
                        pose,
                        bodies,
                        leans,
                        props,
                        particles,
                        staging,
                        kit,
                    )
                    _dissolve(frame, new, done / WORLD_CHANGE)
            yield frame
        assert pose is not None
        state = {
            "bodies": {k: asdict(v) for k, v in bodies.items()},
            "props": props,
            "camera": pose.as_tuple(),
            "track": track_x,
            "weather": particles.state(),
            "clock": clock,
            "framing": shot.camera.framing,
            "cast": list(shot.cast),
            "sky": (w.time_of_day, w.weather, w.lighting, w.facts.indoors, w.facts.light_sources),
            "kit": _kit_after(staging, kit, bodies, shot.duration),
            "place": (w.location, w.facts.model_dump()),
        }
        done = changed + shot.frames * dt
        if continuing and done < WORLD_CHANGE and (sky_before != sky or was is not None):
            # unfinished: the next continue shot takes it over (the old place and sky, and how far it got)
            state["changing"] = {"sky": sky_before, "done": done}
            if was is not None:
                state["changing"]["place"] = (was.world.location, was.world.facts.model_dump())
        return Carry(shot.id, frame[:, :, :3].copy(), state)

    @staticmethod
    def _world_before(shot: PlannedShot, state: dict[str, Any], going_on: bool = False) -> PlannedShot | None:
        """``shot`` in the place the chain was in before it, when its ``set:`` moved the chain somewhere else.

        A continue shot's first frame is the previous shot's last, so a new location (or
        the same words read as another place) is not a cut to it: the old place dissolves
        into the new one over WORLD_CHANGE seconds, as the light does. None when the place
        is the same (or the shot starts a chain). ``going_on``: the shot carries on a change the shot
        before left unfinished, so the place it dissolves from is the one that change started from.
        """
        if going_on:
            if "place" not in state["changing"]:
                return None
            location, facts = state["changing"]["place"]
        elif "place" not in state:
            return None
        else:
            location, facts = state["place"]
        before = WorldFacts(**facts)
        if _place_of(location, before) == _place_of(shot.world.location, shot.world.facts):
            return None  # (the weather, the light and its sources change by their own steps, not by a dissolve)
        world = shot.world.model_copy(update={"location": location, "facts": before})
        return shot.model_copy(update={"world": world})

    # --- blocking and camera ------------------------------------------------------------------

    def _blocking(self, shot: PlannedShot, intents: dict[str, Intent]) -> tuple[dict[str, Body], dict[str, float]]:
        """Where everyone starts in a fresh set-up."""
        n = len(shot.cast)
        bodies: dict[str, Body] = {}
        for i, name in enumerate(shot.cast):
            x = (i - (n - 1) / 2) * 1.15
            intent = intents[name]
            moving = next((v for v in ("run", "drag", "walk") if v in intent.verbs), None)
            facing = intent.direction if moving else (1.0 if x <= 0 else -1.0)
            if moving and not intent.toward:
                x -= intent.direction * min(6.0, SPEEDS[moving] * shot.duration * 0.45)
            if intent.toward and moving:  # walking up to someone: start a little further off
                x -= intent.direction * 1.5
            bodies[name] = Body(x=x, facing=facing, facing_target=facing, phase=_stable_seed(name) % 7)
        props: dict[str, float] = {}
        right = max((b.x for b in bodies.values()), default=-1.2)
        for j, pid in enumerate(shot.props):
            props[pid] = right + 1.2 + 1.3 * j if bodies else (j - (len(shot.props) - 1) / 2) * 1.2
        return bodies, props

    def _subject_x(self, shot: PlannedShot, bodies: dict[str, Body], props: dict[str, float]) -> float:
        """Where the camera looks: the group when it fits the framing's width, else its first member.

        A framing cut on the body follows the upper body, which a fall carries away from the feet.
        """
        framing = shot.camera.framing
        present = [
            self._upper_x(n, bodies[n]) if framing in BODY_CUTS else bodies[n].x for n in shot.cast if n in bodies
        ]
        if framing in BODY_CUTS and present:
            film = self.film
            assert film is not None
            bottom, top = BODY_CUTS[framing]
            width = (
                self.looks[next(n for n in shot.cast if n in bodies)].height * (top - bottom) * film.width / film.height
            )
            if framing != "medium" or max(present) - min(present) + 0.6 > width:
                return present[0]
        if present:
            return (min(present) + max(present)) / 2
        if props:
            return props[shot.props[0]]
        return 0.0

    def _target_pose(
        self,
        shot: PlannedShot,
        bodies: dict[str, Body],
        props: dict[str, float],
        track_x: float,
        t: float,
        aspect: float,
    ) -> CameraPose:
        cast = [n for n in shot.cast if n in bodies]
        if cast:
            look, body = self.looks[cast[0]], bodies[cast[0]]
            # sitting lowers everything above the hips by SIT_DROP of the height
            height = look.height * (1 - SIT_DROP * body.sit)
            # a fallen body's top is its side, not its head: the frame keeps its size (the shot is the same shot
            # size) and comes down with the body, so a close shot that continues after a fall still shows the
            # person; upright, the top is the head (the same numbers as ever)
            top = height * math.cos(body.tilt) + LYING_TOP * look.height * math.sin(body.tilt)
            base = framed(shot.camera.framing, track_x, height, body.y - (height - top))
        elif shot.props:  # a product shot: frame the first prop whole, however close
            _, size = kind_of(prop_kind(shot.props[0], shot.world.props.get(shot.props[0], ""))).size
            base = framed(shot.camera.framing, track_x, size * 1.1)
            if base.view_h < size * 1.7:
                base = CameraPose(track_x, size * 0.55, size * 1.7)
        else:
            base = framed(shot.camera.framing, track_x, 1.75)
        return moved(base, shot.camera.move, t, shot.duration, aspect, shot.seed)

    def _upper_x(self, name: str, body: Body) -> float:
        """Where the upper body is across: over the feet when upright, toward the head as the body tilts over."""
        lean = self.looks[name].height * UPPER_BODY * math.sin(body.tilt)
        return body.x + (lean if body.facing >= 0 else -lean)

    @staticmethod
    def _view(pose: CameraPose, aspect: float) -> tuple[float, float, float, float]:
        half_w = pose.view_h * aspect / 2 / pose.zoom
        half_h = pose.view_h / 2 / pose.zoom
        return pose.cx - half_w, pose.cx + half_w, pose.cy - half_h, pose.cy + half_h

    def _place(self, location: str, facts: WorldFacts, time_of_day: str, light: Light) -> Place:
        """The plan's place, recorded once per location and light (layers are static pictures)."""
        night = time_of_day in ("night", "dusk")
        key = (location, night, light)
        if key not in self._places:
            self._places[key] = build_place(facts.place, _stable_seed(location), night, light, facts.windows)
        return self._places[key]

    def _look(self, name: str, light: Light) -> Look:
        key = (name, light)
        if key not in self._lit_looks:
            self._lit_looks[key] = lit_look(self.looks[name], light.lit)
        return self._lit_looks[key]

    # --- drawing ---------------------------------------------------------------------------------

    def _draw(
        self, shot, index, t, ambient, clouds, place, light, pose, bodies, leans, props, particles, staging, kit
    ) -> None:
        """Frame ``index`` at shot time ``t`` (what the action times: a switch, a hand-over, lip-sync) and chain
        time ``ambient`` (what goes on regardless: clouds, waves, breath); ``clouds`` is how much of the cloud
        cover shows (0 .. 1: a weather change in a continue chain brings it in or takes it away)."""
        film = self.film
        assert film is not None
        W, H = film.width, film.height
        s = H / pose.view_h
        s0 = H / REFERENCE_VIEW

        def layer_scale(p: float) -> float:
            return s0 * (s / s0) ** p * pose.zoom

        def apply(canvas: skia.Canvas, p: float) -> None:
            k = layer_scale(p)
            canvas.translate(W / 2, H / 2)
            canvas.rotate(pose.roll)
            canvas.scale(k, k)
            canvas.translate(-pose.cx * p, pose.cy * p)

        def ground_y(p: float) -> float:
            return H / 2 + layer_scale(p) * pose.cy * p

        def to_screen(points: np.ndarray) -> np.ndarray:
            k = layer_scale(1.0)
            out = np.empty_like(points, dtype=np.float32)
            out[:, 0] = W / 2 + (points[:, 0] - pose.cx) * k
            out[:, 1] = H / 2 - (points[:, 1] - pose.cy) * k
            return out

        w = shot.world
        lit = light.lit
        with self.surface as canvas:
            far_p = min((layer.parallax for layer in place.layers), default=0.2)
            horizon = ground_y(far_p * 0.5)
            ground_near, ground_far = place.ground, place.ground_far
            if particles.cover > 0 and not w.facts.indoors:  # snow lying on the ground (never on a floor)
                snow = lit((246, 249, 255))
                ground_near, ground_far = (
                    mix(ground_near, snow, particles.cover * 0.8),
                    mix(ground_far, snow, particles.cover * 0.6),
                )
            # sky and ground as opaque bands: opaque fills are ~15x cheaper than a gradient pass
            top = lit(light.sky_top, 0.0) if place.has_sky else lit(mix(place.ground_far, (226, 220, 208), 0.8))
            low = lit(light.sky_horizon, 0.0) if place.has_sky else top
            _fill_bands(self.buffer, ((0.0, horizon, top, low), (horizon, float(H), ground_far, ground_near)))
            if place.has_sky:
                if light.stars:
                    rng = np.random.default_rng(7)
                    stars = rng.uniform(0, 1, (90, 2)) * (W, max(1.0, horizon))
                    paint = skia.Paint(
                        AntiAlias=True,
                        Color=skia.Color(255, 255, 240, 200),
                        StrokeWidth=2,
                        StrokeCap=skia.Paint.kRound_Cap,
                    )
                    canvas.drawPoints(
                        skia.Canvas.kPoints_PointMode, [skia.Point(x, y) for x, y in stars.tolist()], paint
                    )
                    canvas.drawCircle(W * 0.8, max(30.0, horizon * 0.25), H * 0.04, _paint((250, 246, 220)))
                if clouds > 0:
                    cloud = lit(mix(light.sky_top, (200, 200, 205), 0.5), 0.0)
                    for k in range(7):
                        cx = (k * 0.19 * W + ambient * 12 * (1 + k % 3) - pose.cx * 2) % (W * 1.3) - W * 0.15
                        canvas.drawOval(
                            skia.Rect.MakeXYWH(cx, horizon * (0.1 + 0.12 * (k % 3)) - 20, W * 0.28, H * 0.09),
                            _paint(cloud, round(170 * clouds)),
                        )
            if place.water:
                shore = ground_y(0.6)
                canvas.drawRect(
                    skia.Rect.MakeLTRB(0, horizon, W, shore),
                    _paint(lit(mix(place.ground_far, (30, 70, 100), 0.5), 0.2)),
                )
                wave = skia.Paint(AntiAlias=True, Color=skia.Color(*lit((220, 235, 245), 0.3), 90), StrokeWidth=2)
                for k in range(12):
                    y = horizon + (shore - horizon) * (k + 0.5) / 12
                    x = (k * 97 + ambient * 25 * (k % 3 + 1)) % W
                    canvas.drawLine(x - 40, y, x + 40, y, wave)
            for layer in place.layers:
                canvas.save()
                apply(canvas, layer.parallax)
                canvas.drawPicture(layer.picture)
                canvas.restore()
            if (
                w.facts.indoors and place.windows and w.facts.weather_beyond_windows
            ):  # the weather is outside: seen only through the panes
                canvas.save()
                apply(canvas, place.wall_parallax)
                panes = skia.Path()
                for x0, y0, x1, y1 in place.windows:
                    panes.addRect(skia.Rect.MakeLTRB(x0, -y1, x1, -y0))
                canvas.clipPath(panes, doAntiAlias=True)
                canvas.resetMatrix()
                k, p = layer_scale(place.wall_parallax), place.wall_parallax
                on_screen = [
                    (W / 2 + k * (x0 - pose.cx * p), H / 2 + k * (-y1 + pose.cy * p),
                     W / 2 + k * (x1 - pose.cx * p), H / 2 + k * (-y0 + pose.cy * p))
                    for x0, y0, x1, y1 in place.windows
                ]  # fmt: skip
                visible = [r for r in on_screen if r[2] > 0 and r[0] < W and r[3] > 0 and r[1] < H]
                x0, y0, x1, y1 = place.windows[0]
                weather.draw_through(canvas, particles, visible, (x1 - x0, y1 - y0), layer_scale(1.0), lit)
                canvas.restore()
            canvas.save()
            apply(canvas, 1.0)
            glow = self._glow(shot, t)
            facing = {
                pid: bodies[n].facing
                for n, pid in [*staging.seats.items(), *staging.rides.items()]
                if pid and n in bodies
            }
            left = kit.get("seats", {})  # seats from the shot before, where they were left (a chair keeps its turn)
            facing |= {seat[0]: seat[4] for name, seat in left.items() if seat[0] and name not in staging.seats}
            for pid, x in props.items():
                if pid in staging.carried:
                    continue  # in a hand
                if pid in shot.props or any(b.exiting == 0 for b in bodies.values()):
                    kind = staging.kinds.get(pid) or prop_kind(pid, w.props.get(pid, ""))
                    _turned_prop(canvas, kind, w.props.get(pid, ""), x, facing.get(pid, 1.0), lit, glow)
            for name, seat in staging.seats.items():  # an implied seat (a chair, a bed, a rock) under whoever sits
                if seat is None and name in bodies and bodies[name].sit > 0.05:
                    kind = staging.implied.get(name, "chair")
                    _turned_prop(canvas, kind, "", bodies[name].x, bodies[name].facing, lit)
            for name, (pid, kind, ground, x, turned) in left.items():  # an implied seat stays where it was left
                if pid is None and not ground and name not in staging.seats:
                    _turned_prop(canvas, kind, "", x, turned, lit)
            for name, bike in staging.rides.items():  # an implied bike under a rider
                if bike is None and name in bodies:
                    _turned_prop(canvas, "bike", "", bodies[name].x, bodies[name].facing, lit)
            for name, body in sorted(bodies.items(), key=lambda kv: kv[1].x):
                look = self._look(name, light)
                held = None
                if name in staging.held:
                    pid = staging.held[name]
                    kind, desc = (staging.kinds[pid], w.props.get(pid, "")) if pid else ("cup", "")
                    held = _holder(kind, desc, lit)
                elif name in (handed := staging.holder(t, shot.duration)):
                    held = _holder(staging.kinds[handed[name]], w.props.get(handed[name], ""), lit)
                pose_now = body.pose(look.height, leans.get(name, 0.0))
                on_ground = name in staging.grounded or (name in left and name not in staging.seats and left[name][2])
                if on_ground:  # sat on the ground, in this shot or the one before
                    pose_now = replace(pose_now, ground=True)
                draw_figure(canvas, look, pose_now, _mouth(shot, name, t), ambient, held)
            for pid in staging.dragged:  # a rope from the lead's hands to the thing dragged
                pullers = [bodies[c] for c in shot.cast if c in bodies]
                if pid in props and pullers:
                    ahead = 1.0 if pullers[0].vx >= 0 else -1.0
                    lead = max(pullers, key=lambda b: b.x * ahead)
                    pw, ph = kind_of(staging.kinds[pid]).size
                    rope = skia.Paint(
                        AntiAlias=True,
                        Color=skia.Color(*lit((120, 96, 60))),
                        StrokeWidth=0.035,
                        Style=skia.Paint.kStroke_Style,
                    )
                    canvas.drawLine(lead.x - ahead * 0.18, -0.85, props[pid] + ahead * pw / 2, -ph * 0.6, rope)
            canvas.restore()
            if not w.facts.indoors:
                weather.draw(canvas, particles, to_screen, layer_scale(1.0), lit)
            if particles.flash > 0.02:
                self._lightning(canvas, particles, to_screen, W, H)
            self._overlays(canvas, shot, index, bodies, props, to_screen, W, H)

    def _fits(self, option: str, key: tuple[Any, ...], fits: Callable[[], bool]) -> bool:
        """A piece named in ``backend.options`` is drawn (validate refused it where it cannot fit); one on by
        default is left out of a frame too small to hold it whole, never drawn clipped or cut."""
        assert self.film is not None
        return option in self.film.options or self._keep(("fits", option, *key), fits)

    def _tags(self, canvas, shot, bodies, props, to_screen, W, H, pad) -> None:
        """Each character's name under them, then each prop's id, laid out without overlap (``tags.py``)."""
        film = self.film
        assert film is not None
        font, small = self.fonts["tag"], self.fonts["mono"]
        box = self.safe  # every label stays inside the title-safe area of the frame and the profile
        # and above the band burned subtitles cover, so that a line of dialogue never hides a name
        box = Box(box.left, box.top, box.right, min(box.bottom, max(box.top + 1, film.text_bottom * H)))
        wanted: list[tuple[Tag, str, skia.Font, RGB, int, float]] = []  # tag, text, font, fill, alpha, text inset
        for name, body in bodies.items():
            if name not in film.characters:
                continue
            (left, feet), (right, head) = to_screen(
                np.array([[body.x - 0.22, body.y], [body.x + 0.22, body.y + self.looks[name].height]])
            )
            if right < 0 or left > W or head > H or feet < 0:
                continue  # out of frame: no tag at the edge for someone who is not there
            label = name.capitalize()
            if not self._fits("name_tags", (label,), lambda label=label: tag_fits(label, W, H, self.safe)):
                continue
            width = text_width(label, font.getSize(), True)
            y = min(float(feet) + pad * 0.6, box.bottom - font.getSize() * 1.5)
            x = min(max(float(left + right) / 2 - width / 2, box.left + 8), box.right - width - 8)
            rect = (x - 8, y, x + width + 8, y + font.getSize() * 1.5)
            wanted.append((Tag(rect, True), label, font, hex_rgb(film.characters[name].color), 220, 8))
        for pid, x_m in props.items():
            if pid not in shot.props:
                continue
            sx, sy = to_screen(np.array([[x_m, 0.0]]))[0]
            if not 0 <= sx <= W or sy < 0:
                continue
            width = small.measureText(pid)
            y = min(float(sy) + pad * 0.4, box.bottom - small.getSize() * 1.4)
            x = min(max(float(sx) - width / 2, box.left + 6), box.right - width - 6)
            rect = (x - 6, y, x + width + 6, y + small.getSize() * 1.4)
            wanted.append((Tag(rect, False), pid, small, (30, 30, 36), 170, 6))
        spots = lay_out([tag for tag, *_ in wanted], (box.left, box.top, box.right, box.bottom))
        for (_, text, tag_font, fill, alpha, inset), spot in zip(wanted, spots, strict=True):
            if spot is None:
                continue
            left, top, right, bottom = spot
            radius = 8 if tag_font is font else 5
            canvas.drawRoundRect(skia.Rect.MakeLTRB(left, top, right, bottom), radius, radius, _paint(fill, alpha))
            color = (255, 255, 255) if tag_font is font else (235, 235, 235)
            baseline = top + tag_font.getSize() * (1.12 if tag_font is font else 1.05)
            draw_text(canvas, text, left + inset, baseline, tag_font, _paint(color))

    def _card(self, canvas: skia.Canvas, text: str, W: int, H: int, clear_top: float) -> None:
        """A title card over the dimmed scene (``action: "End card: ..."``), every word inside the safe area:
        shrunk to fit (validate refuses a card that cannot fit at the legible minimum; a smaller draft
        frame draws it at that minimum, clipped to the safe area, rather than not at all)."""
        assert self.film is not None
        canvas.drawPaint(_paint((0, 0, 0), 110))
        size, lines, box = self._keep(("card", text, clear_top), lambda: self._card_layout(text, W, H, clear_top))
        font = skia.Font(self.bold, size)
        top = (box.top + box.bottom) / 2 - size * (LINE_GAP * (len(lines) - 1) + 1.3) / 2
        canvas.save()
        canvas.clipRect(skia.Rect.MakeLTRB(box.left, box.top, box.right, box.bottom))
        for k, line in enumerate(lines):
            width = text_width(line, size, True)
            x = box.left + (box.width - width) / 2
            draw_text(canvas, line, x, top + size * (1 + LINE_GAP * k), font, _paint((255, 255, 255)))
        canvas.restore()

    def _card_layout(self, text: str, W: int, H: int, clear_top: float) -> tuple[float, list[str], Box]:
        """A card's size, lines and the box they are centred in."""
        assert self.film is not None
        placed = place_card(text, W, H, self.film.safe, clear_top)
        if placed is None:
            size = min_card_size(W, H)
            return size, wrap(text, width_measure(size, True), self.safe.width), self.safe
        return placed[0].size, list(placed[0].lines), placed[1]

    def _glow(self, shot: PlannedShot, t: float) -> float:
        said = words(shot.action)
        if "switch" in said or "switches" in said:
            return min(1.0, max(0.0, (t - 0.3) / 0.3))
        named = {*words(shot.world.lighting), *shot.world.facts.light_sources}
        return 1.0 if {"lamp", "lantern", "glow", "candle", "candles"} & named else 0.0

    @staticmethod
    def _lightning(canvas: skia.Canvas, particles: weather.Particles, to_screen: Any, W: int, H: int) -> None:
        rng = np.random.default_rng(int(particles.bolt_x * 1000) & 0xFFFF)
        top = to_screen(np.array([[particles.bolt_x, 60.0]]))[0]
        path = skia.Path()
        x, y = float(top[0]) % W, 0.0
        path.moveTo(x, y)
        while y < H * 0.55:
            x += float(rng.uniform(-30, 30))
            y += float(rng.uniform(20, 50))
            path.lineTo(x, y)
        bolt = skia.Paint(
            AntiAlias=True,
            Color=skia.Color(255, 255, 255, int(255 * particles.flash)),
            StrokeWidth=3,
            Style=skia.Paint.kStroke_Style,
        )
        canvas.drawPath(path, bolt)
        canvas.drawPaint(_paint((235, 240, 255), int(150 * particles.flash)))

    def _overlays(self, canvas, shot, index, bodies, props, to_screen, W, H) -> None:
        film = self.film
        assert film is not None
        pad = H / 60
        box = self.safe  # every label stays inside the title-safe area of the frame and the profile
        if self.options["name_tags"]:
            self._tags(canvas, shot, bodies, props, to_screen, W, H, pad)
        mono = self.fonts["mono"]
        top = box.top
        if self.options["slate"] and self._fits("slate", (shot.id,), lambda: slate_fits(shot.id, W, H, box)):
            # shot-local timecode: a shot's pixels must not depend on where it sits in the film
            fps = film.fps
            secs = index // fps
            tc = f"{secs // 60:02d}:{secs % 60:02d}:{index % fps:02d}"
            camera = f"{shot.camera.framing.replace('_', ' ')} / {shot.camera.move.replace('_', ' ')}"
            text = f"{shot.id}  {tc}  {camera}"
            if mono.measureText(text) > box.width - 16:  # a narrow frame: the framing goes to its own line
                text = f"{shot.id}  {tc}"
            width = min(mono.measureText(text), box.width - 16)
            canvas.drawRoundRect(
                skia.Rect.MakeXYWH(box.left, top, width + 16, mono.getSize() * 1.6), 6, 6, _paint((0, 0, 0), 150)
            )
            draw_text(canvas, text, box.left + 8, top + mono.getSize() * 1.15, mono, _paint((255, 255, 255)))
            top += mono.getSize() * 1.9
        card = card_text(shot.action)
        if card:
            self._card(canvas, card, W, H, top if self.options["slate"] else 0.0)
        elif (
            self.options["captions"]
            and shot.action
            and self._fits(
                "captions", (shot.action, top > box.top), lambda: caption_fits(shot.action, W, H, box, top > box.top)
            )
        ):
            size, lines = self._keep(("caption", shot.action, top), lambda: self._caption_layout(shot.action, top))
            font = skia.Font(typeface(False), size)
            height = font.getSize() * (1.35 * len(lines) + 0.5)
            width = max(text_width(line, size) for line in lines)
            canvas.drawRoundRect(skia.Rect.MakeXYWH(box.left, top, width + 20, height), 6, 6, _paint((0, 0, 0), 120))
            for k, line in enumerate(lines):
                draw_text(
                    canvas,
                    line,
                    box.left + 10,
                    top + font.getSize() * (1.2 + 1.35 * k),
                    font,
                    _paint((255, 255, 255), 235),
                )

    def _caption_layout(self, action: str, top: float) -> tuple[float, list[str]]:
        """The action caption's size and lines, from ``top`` down."""
        assert self.film is not None
        W, H, box = self.film.width, self.film.height, self.safe
        base = self.fonts["caption"]
        wide = box.width * (0.65 if W > H else 1.0) - 20
        room = H * TOP_BAND - top - base.getSize() * 0.5 - 2  # above the band the watermark may use
        size, _ = fit_block(action, typeface(False), base.getSize(), max(8.0, base.getSize() * 0.6), wide, room, 1.35)
        return size, wrap(action, width_measure(size), wide)  # a small frame: below the band, none dropped


BAND = 8  # pixels per band of a vertical gradient


def _fill_bands(frame: np.ndarray, gradients: tuple[tuple[float, float, RGB, RGB], ...]) -> None:
    """Vertical gradients as opaque bands (``(y0, y1, top colour, bottom colour)`` each), written into
    ``frame`` (the surface's own pixels, before anything is drawn on them) as whole rows at once.

    The rows are those skia fills for the bands as rectangles (edges rounded
    to whole pixels, each band one row deeper than its share so no seam shows,
    later bands over earlier ones), the same bytes for ~90 fewer calls a frame.
    """
    covered, colors = _band_rows(frame.shape[0], gradients)
    rows = frame.view(np.uint32)[..., 0]
    if covered.all():
        np.copyto(rows, colors[:, None])
    else:  # a row no band reaches keeps what was there, as it would under rectangles
        rows[covered] = colors[covered][:, None]


@functools.lru_cache(maxsize=64)
def _band_rows(height: int, gradients: tuple[tuple[float, float, RGB, RGB], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Which rows the bands of ``gradients`` cover and each row's colour as RGBA bytes read as one uint32:
    worked out once for a shot whose horizon stays put."""
    covered = np.zeros(height, bool)
    colors = np.zeros((height, 4), np.uint8)
    colors[:, 3] = 255
    rows = np.arange(height)
    for y0, y1, c0, c1 in gradients:
        if y1 <= y0:
            continue
        n = max(1, math.ceil((y1 - y0) / BAND))
        ramp = np.linspace(0.0, 1.0, n)[:, None]
        rgb = np.rint(np.array(c0) * (1 - ramp) + np.array(c1) * ramp).astype(np.uint8)
        # skia keeps a rectangle's edges as 32-bit floats and rounds each to the nearest row (halves up)
        k = np.arange(n)
        tops = (y0 + k * (y1 - y0) / n).astype(np.float32)
        bottoms = (y0 + (k + 1) * (y1 - y0) / n + 1).astype(np.float32)
        first = np.floor(tops + np.float32(0.5)).astype(int)
        last = np.floor(bottoms + np.float32(0.5)).astype(int)
        # both edges only grow with k, so a row's band is the last one starting at or above it, if it reaches it
        band = np.searchsorted(first, rows, side="right") - 1
        inside = band >= 0
        inside[inside] = last[band[inside]] > rows[inside]
        covered |= inside
        colors[inside, :3] = rgb[band[inside]]
    return covered, colors.view(np.uint32)[:, 0]


def _mouth(shot: PlannedShot, name: str, t: float) -> Mouth:
    """``name``'s mouth at shot time ``t``: the plan's lip-sync shape, at rest (X) between lines."""
    for line in shot.dialogue:
        if line.speaker != name or not line.visemes:
            continue
        local = [(v.t - shot.start, v.shape) for v in line.visemes]
        if local[0][0] - 1e-6 <= t < local[-1][0] - 1e-6:
            shape = next(shape for at, shape in reversed(local) if at <= t + 1e-6)
            return Mouth(shape, line.delivery, talking=True)
    return Mouth()


def _sky(time_of_day: str, weather: str, lighting: str, indoors: bool, sources: Any) -> tuple[Any, ...]:
    """What the light is made from, comparable whether it was carried as JSON (lists) or made here (tuples)."""
    return time_of_day, weather, lighting, indoors, tuple(sources)


def _place_of(location: str, facts: WorldFacts) -> tuple[str, str, bool, bool]:
    """What makes a place another place to look at: its words (its layers' seed), its kind, in or out, windows."""
    return location, facts.place, facts.indoors, facts.windows


def _dissolve(frame: np.ndarray, new: np.ndarray, k: float) -> None:
    """``frame`` (the old picture) becomes ``k`` (0 .. 1) of the way to ``new``, in place, in whole 1/256ths."""
    weight = min(256, max(0, round(k * 256)))
    mixed = (frame.astype(np.uint16) * (256 - weight) + new.astype(np.uint16) * weight + 128) >> 8
    frame[...] = mixed.astype(np.uint8)


def _carry_kit(staging: Staging, carried: dict[str, Any], bodies: dict[str, Body]) -> dict[str, Any]:
    """What the shot before left in hands and under people, taken on by a ``continue`` shot.

    Staging is read from each shot's own words, so without this a cup, a bike or
    an implied chair would vanish at the cut while the body still holds, rides or
    sits on it. Whoever still holds or rides keeps it (``staging`` gains them);
    the seats are returned as ``{"seats": {sitter: [prop or None, kind, on the
    ground, x, facing]}}``: a prop seat stays where it stands, an implied one is
    drawn where it was left, also once its sitter has got up.
    """
    for name, (pid, kind) in carried.get("held", {}).items():
        if name in bodies and name not in staging.held and not (staging.handed and name in staging.handed[1:]):
            staging.held[name] = pid
            if pid:
                staging.kinds[pid] = kind
    for name, (pid,) in carried.get("rides", {}).items():
        if name in bodies and bodies[name].ride > 0.05 and name not in staging.rides:
            staging.rides[name] = pid
            if pid:
                staging.kinds[pid] = "bike"
    return {"seats": {n: seat for n, seat in carried.get("seats", {}).items() if n not in staging.seats}}


def _kit_after(staging: Staging, kit: dict[str, Any], bodies: dict[str, Body], duration: float) -> dict[str, Any]:
    """The hands, saddles and seats at the shot's end, for the ``continue`` shot after it (see ``_carry_kit``)."""
    seats = dict(kit.get("seats", {}))
    for name in [*staging.seats, *staging.grounded]:
        body = bodies.get(name)
        if body is None or body.sit <= 0.05:
            continue  # never sat down (or left): nothing was drawn under them
        pid = staging.seats.get(name)
        kind = staging.kinds.get(pid, "") if pid else staging.implied.get(name, "")
        seats[name] = [pid, kind, name in staging.grounded, body.x, body.facing]
    held = {n: [pid, staging.kinds.get(pid, "") if pid else "cup"] for n, pid in staging.held.items() if n in bodies}
    for name, pid in staging.holder(duration, duration).items():  # a prop handed over is in the receiver's hand
        if name in bodies:
            held[name] = [pid, staging.kinds[pid]]
    rides = {n: [pid] for n, pid in staging.rides.items() if n in bodies}
    return {"seats": seats, "held": held, "rides": rides}


def _place_used_props(staging: Staging, bodies: dict[str, Body], props: dict[str, float]) -> None:
    """Props follow the bodies that use them: the seat under a sitter, the desk before them, the bike under a rider."""
    for name, pid in staging.seats.items():
        if pid and name in bodies:
            props[pid] = bodies[name].x
    for name, pid in staging.worktops.items():
        if name in bodies:
            props[pid] = bodies[name].x + (1.0 if bodies[name].facing >= 0 else -1.0) * 0.85
    for name, pid in staging.rides.items():
        if pid and name in bodies:
            props[pid] = bodies[name].x


def _turned_prop(
    canvas: skia.Canvas,
    kind: str,
    description: str,
    x: float,
    facing: float,
    lit: Callable[[RGB], RGB],
    glow: float = 0.0,
) -> None:
    """A prop at ``x`` turned the way ``facing`` says (a chair's back behind its sitter, a bike along its ride)."""
    canvas.save()
    canvas.translate(x, 0)
    if facing < 0:
        canvas.scale(-1, 1)
    draw_prop(canvas, kind, description, 0.0, lit, glow)
    canvas.restore()


def _holder(
    kind: str, description: str, lit: Callable[[RGB], RGB]
) -> Callable[[skia.Canvas, float, float, float], None]:
    """Draws a prop held in a hand: centred on the hand, tilted as it is raised."""
    height = kind_of(kind).size[1]

    def held(canvas: skia.Canvas, x: float, y: float, tilt: float) -> None:
        canvas.save()
        canvas.translate(x, y + height / 2)
        canvas.rotate(tilt)
        draw_prop(canvas, kind, description, 0.0, lit)
        canvas.restore()

    return held
