"""The animatic's paint: colour arithmetic, and the tint a lighting description casts.

Only the drawing needs these; the colour vocabulary the plan also reads (a
character's identity colour) stays in :mod:`sora_cli.plan.colors`.
"""

from __future__ import annotations

from sora_cli.plan.colors import COLOR_WORDS, RGB, words

#: lighting words -> tint colour (multiplied over the scene)
LIGHT_WORDS: dict[str, RGB] = {
    **{k: v for k, v in COLOR_WORDS.items() if k not in ("black", "white", "grey", "gray")},
    "blue-hour": (110, 140, 255),
    "warm": (255, 196, 140),
    "cold": (160, 195, 255),
    "cool": (170, 200, 255),
    "sodium": (255, 165, 70),
    "candle": (255, 170, 90),
    "candlelight": (255, 170, 90),
    "moonlight": (140, 160, 255),
    "moonlit": (140, 160, 255),
    "fluorescent": (220, 255, 230),
    "sunset": (255, 150, 90),
    "firelight": (255, 140, 60),
}


def light_tint(text: str) -> tuple[RGB, float, bool]:
    """Tint, strength and neon-ness of a lighting description ("neon pink sign light")."""
    found = [LIGHT_WORDS[w] for w in words(text) if w in LIGHT_WORDS]
    neon = "neon" in words(text)
    if not found:
        return (255, 255, 255), 0.0, False
    r = sum(c[0] for c in found) // len(found)
    g = sum(c[1] for c in found) // len(found)
    b = sum(c[2] for c in found) // len(found)
    strength = 0.45 if neon else 0.32
    if "low" in words(text) or "dim" in words(text):
        strength += 0.1
    return (r, g, b), strength, neon


def hex_rgb(color: str) -> RGB:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def shade(color: RGB, factor: float) -> RGB:
    return tuple(max(0, min(255, round(c * factor))) for c in color)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]
