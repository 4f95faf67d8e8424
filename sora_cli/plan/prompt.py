"""Compose a shot's prompt as the format doc orders it: style, world, cast and
props, action, camera. Generative backends receive it verbatim; the animatic
draws from the same resolved state."""

from __future__ import annotations

from sora_cli.plan.model import Camera, ResolvedWorld

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


def compose_prompt(
    style: str, world: ResolvedWorld, cast: tuple[str, ...], props: tuple[str, ...], action: str, camera: Camera
) -> str:
    place = ", ".join(
        part
        for part in (
            world.location,
            TIME_WORDS[world.time_of_day],
            WEATHER_WORDS[world.weather],
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
