"""Sky and light from ``time_of_day``, ``weather`` and ``lighting``.

The light is one multiply colour laid over the drawn scene (before overlays),
so night is darker than day by construction and a "neon pink" lighting tints
everything the camera sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from sora_cli.plan.colors import RGB
from sora_cli.render.animatic.paint import light_tint, mix, shade

#: time of day -> (sky top, sky horizon, ambient light colour)
SKIES: dict[str, tuple[RGB, RGB, RGB]] = {
    "dawn": ((62, 82, 150), (246, 168, 140), (235, 205, 200)),
    "day": ((64, 136, 226), (182, 216, 246), (255, 255, 255)),
    "golden_hour": ((84, 116, 196), (255, 186, 106), (255, 226, 180)),
    "dusk": ((26, 34, 92), (196, 104, 118), (150, 140, 175)),
    "night": ((4, 7, 22), (22, 28, 58), (78, 86, 122)),
}

GREY_SKY: dict[str, float] = {"cloudy": 0.55, "fog": 0.75, "rain": 0.6, "storm": 0.75, "snow": 0.5, "blizzard": 0.8}


#: weather -> how much depth haze the farthest layer gets
HAZE: dict[str, float] = {"fog": 0.75, "blizzard": 0.45, "snow": 0.15, "rain": 0.18, "storm": 0.2}


@dataclass(frozen=True)
class Light:
    """How the scene is lit; :meth:`lit` applies it to a colour.

    Light is applied to colours as they are chosen rather than to pixels after
    drawing: one full-frame blend costs as much as drawing the whole scene.
    """

    sky_top: RGB
    sky_horizon: RGB
    multiply: RGB  # ambient colour times lighting tint
    glow: RGB | None  # a neon glow colour, if any
    stars: bool
    haze: float  # depth haze at the far distance (fog, blizzard...)
    haze_color: RGB

    def lit(self, color: RGB, depth: float = 1.0) -> RGB:
        """``color`` as seen under this light, at parallax ``depth`` (1 = subject, 0 = far)."""
        r, g, b = (c * m // 255 for c, m in zip(color, self.multiply, strict=True))
        if self.glow:
            r, g, b = (c + k * (255 - c) // 1600 for c, k in zip((r, g, b), self.glow, strict=True))
        fog = self.haze * (1.0 - 0.8 * depth)
        if fog > 0:
            return mix((r, g, b), self.haze_color, fog)
        return (r, g, b)


#: light sources that give warm light where they stand (the plan's ``facts.light_sources``)
PRACTICALS = ("lamp", "lantern", "candle", "candles", "fire", "fireplace", "torch", "spotlight", "streetlight",
              "streetlights", "sodium", "headlights")  # fmt: skip
PRACTICAL_COLOR = (255, 214, 160)


def light_for(
    time_of_day: str, weather: str, lighting: str, indoors: bool = False, sources: tuple[str, ...] = ()
) -> Light:
    """The light of a world; indoors the daylight comes through windows, dimmed by the weather, without haze.

    A named practical source (a lamp, a lantern, a fire) lifts the ambient light
    toward its warm colour, the more the darker the hour: a desk lamp lights a
    night office, it barely shows at noon. Indoors its light stays in the room.
    """
    top, horizon, ambient = SKIES[time_of_day]
    practicals = [s for s in sources if s in PRACTICALS]
    if practicals:
        dark = 1.0 - sum(ambient) / (3 * 255)
        reach = (0.55 if indoors else 0.3) * min(1.0, 0.75 + 0.25 * len(practicals))
        ambient = mix(ambient, PRACTICAL_COLOR, dark * reach)
    grey = GREY_SKY.get(weather, 0.0)
    if grey:
        overcast = shade((150, 156, 166), 0.35 + 0.65 * (ambient[0] / 255))
        top, horizon = mix(top, overcast, grey), mix(horizon, overcast, grey)
        ambient = shade(ambient, 1 - 0.2 * grey)
    tint, strength, neon = light_tint(lighting)
    light = mix((255, 255, 255), tint, strength)
    multiply = tuple(round(a * b / 255) for a, b in zip(ambient, light, strict=True))
    haze_color = tuple(c * m // 255 for c, m in zip(mix(horizon, (205, 208, 214), 0.5), multiply, strict=True))
    return Light(
        sky_top=top,
        sky_horizon=horizon,
        multiply=multiply,  # type: ignore[arg-type]
        glow=tint if neon else None,
        stars=time_of_day == "night" and weather in ("clear", "cloudy"),
        haze=0.0 if indoors else HAZE.get(weather, 0.0),
        haze_color=haze_color,  # type: ignore[arg-type]
    )


def blend(a: Light, b: Light, t: float) -> Light:
    """Light part way (``t`` in 0..1) from ``a`` to ``b``: a world change seen happening."""
    if t >= 1.0:
        return b
    return Light(
        sky_top=mix(a.sky_top, b.sky_top, t),
        sky_horizon=mix(a.sky_horizon, b.sky_horizon, t),
        multiply=mix(a.multiply, b.multiply, t),
        glow=b.glow if t >= 0.5 else a.glow,
        stars=b.stars if t >= 0.5 else a.stars,
        haze=a.haze + (b.haze - a.haze) * t,
        haze_color=mix(a.haze_color, b.haze_color, t),
    )
