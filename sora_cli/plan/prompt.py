"""Compose a shot's prompt as the format doc orders it: style, world, cast and
props, action, camera. Generative backends receive it verbatim; the animatic
draws from the same resolved state.

The weather is phrased from the world's resolved facts, not from its
``weather`` word: a text-to-video model draws every weather noun it is given
where the camera is, so "kitchen, interior, rain falling" rains in the kitchen.
Indoors the weather is said as seen through the windows; outdoors the words are
the ones prompts always had, so outdoor prompts (and the caches keyed on them)
stay byte-identical.
"""

from __future__ import annotations

from sora_cli.plan.model import Camera, ResolvedWorld, WorldFacts

TIME_WORDS = {
    "dawn": "at dawn",
    "day": "in daylight",
    "golden_hour": "at golden hour",
    "dusk": "at dusk",
    "night": "at night",
}
WEATHER_WORDS = {
    "clear": "clear sky",
    "cloudy": "overcast sky",
    "rain": "rain falling",
    "snow": "snow falling",
    "blizzard": "a howling blizzard",
    "fog": "thick fog",
    "storm": "a thunderstorm with lightning",
}
#: indoors, the weather seen through the windows (each names where it is, so none is drawn in the room)
THROUGH_WINDOWS = {
    "clear": "clear sky outside the windows",
    "cloudy": "overcast sky outside the windows",
    "rain": "rain falling outside the windows",
    "snow": "snow falling outside the windows",
    "blizzard": "a blizzard howling outside the windows",
    "fog": "fog outside the windows",
    "storm": "a thunderstorm with lightning outside the windows",
}
MOVE_WORDS = {
    "static": "static camera",
    "pan_left": "camera pans left",
    "pan_right": "camera pans right",
    "tilt_up": "camera tilts up",
    "tilt_down": "camera tilts down",
    "zoom_in": "camera zooms in",
    "zoom_out": "camera zooms out",
    "dolly_in": "camera dollies in",
    "dolly_out": "camera dollies out",
    "handheld": "handheld camera",
}


def weather_words(facts: WorldFacts) -> str:
    """The weather as the camera sees it: outdoors where it falls, indoors through the windows.

    A windowless room shows no weather, so it gets no words: even rain only
    heard through the walls (``weather_heard``) is left out, because a weather
    noun in a prompt is drawn, whatever the words around it say; the muffled
    rain is the soundtrack's to give.
    """
    if not facts.indoors:
        return WEATHER_WORDS[facts.weather_at_camera]
    if facts.windows and facts.weather_beyond_windows:
        return THROUGH_WINDOWS[facts.weather_beyond_windows]
    return ""


def compose_prompt(
    style: str, world: ResolvedWorld, cast: tuple[str, ...], props: tuple[str, ...], action: str, camera: Camera
) -> str:
    place = ", ".join(
        part
        for part in (
            world.location,
            TIME_WORDS[world.time_of_day],
            weather_words(world.facts),
            f"{world.lighting} lighting" if world.lighting else "",
        )
        if part
    )
    people = [
        f"{name.capitalize()}: {world.characters[name].description}"
        if world.characters[name].description
        else name.capitalize()
        for name in cast
    ]
    things = [world.props[p] or p for p in props]
    shot_words = f"{camera.framing.replace('_', ' ')} shot, {MOVE_WORDS[camera.move]}"
    parts = [style, place, "; ".join(people), "; ".join(things), action, shot_words]
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())
