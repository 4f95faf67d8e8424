"""The screenplay words a breakdown reads: times of day, weather, light, delivery, emotion.

Kept apart from the breakdown so the vocabulary can grow without touching the
logic, and so export can use the same tables backwards.
"""

from __future__ import annotations

import re
import unicodedata

#: Heading times -> (storyboard time_of_day, lighting or None).
TIMES: dict[str, tuple[str, str | None]] = {
    "DAY": ("day", None), "DAYTIME": ("day", None), "NOON": ("day", "high midday sun"),
    "MIDDAY": ("day", "high midday sun"), "MORNING": ("day", "soft morning light"),
    "EARLY MORNING": ("dawn", "early morning light"), "LATE MORNING": ("day", "soft morning light"),
    "AFTERNOON": ("day", "warm afternoon light"), "LATE AFTERNOON": ("golden_hour", "low afternoon sun"),
    "DAWN": ("dawn", None), "SUNRISE": ("dawn", "sunrise"), "DAYBREAK": ("dawn", None),
    "FIRST LIGHT": ("dawn", None), "SUNSET": ("golden_hour", "sunset glow"),
    "MAGIC HOUR": ("golden_hour", None), "GOLDEN HOUR": ("golden_hour", None),
    "DUSK": ("dusk", None), "TWILIGHT": ("dusk", None), "EVENING": ("dusk", "evening light"),
    "NIGHT": ("night", None), "MIDNIGHT": ("night", None), "LATE NIGHT": ("night", None),
    "PRE-DAWN": ("night", "first grey before dawn"),
}  # fmt: skip
#: Heading "times" that say when relative to the last scene: the time of day carries on.
RELATIVE_TIMES = {
    "CONTINUOUS", "LATER", "MOMENTS LATER", "A MOMENT LATER", "SECONDS LATER", "MINUTES LATER",
    "SAME", "SAME TIME", "SIMULTANEOUS", "CONTINUING", "INTERCUT",
}  # fmt: skip
#: Words that make the last part of a heading a time ("3 AM", "THE NEXT MORNING") rather than a place.
TIMEISH = re.compile(
    r"\d|\b(AM|PM|A\.M|P\.M|O'CLOCK|HOUR|LATER|BEFORE|AFTER|NEXT|SAME|FLASHBACK|PRESENT|YEARS?|DAYS?)\b"
)
#: storyboard time_of_day -> the heading word export writes.
HEADING_TIME = {"dawn": "DAWN", "day": "DAY", "golden_hour": "MAGIC HOUR", "dusk": "DUSK", "night": "NIGHT"}

#: Weather words in action -> storyboard weather (first one named in a scene wins).
_WEATHER = (
    (r"blizzard|whiteout", "blizzard"),
    (r"storm\w*|thunder\w*|lightning", "storm"),
    (r"snow\w*|sleet", "snow"),
    (r"rain\w*|drizzl\w*|downpour|showers?", "rain"),
    (r"fog\w*|mist\w*|haze", "fog"),
    (r"clouds?|cloudy|overcast", "cloudy"),
)
WEATHER = re.compile(r"\b(" + "|".join(p for p, _ in _WEATHER) + r")\b", re.IGNORECASE)

LIGHT = re.compile(
    r"\b((?:neon|sodium|street|lamp|candle|fire|moon|sun|torch|flash|head|spot|strobe|fluorescent|"
    r"halogen|morning|evening|dawn)[\w -]{0,12}?(?:light|lights|glow|lamps?)|candlelight|moonlight|"
    r"firelight|lamplight|sunlight|torchlight|flashlight|spotlight|headlights|neon|candles)\b",
    re.IGNORECASE,
)

WHISPER = re.compile(
    r"\b(whisper\w*|quiet\w*|soft\w*|hush\w*|murmur\w*|under (?:his|her|their|my) breath|sotto voce|low voice)\b",
    re.IGNORECASE,
)
SHOUT = re.compile(
    r"\b(shout\w*|yell\w*|scream\w*|bellow\w*|roar\w*|holler\w*|call\w* out|loud\w*|at the top of)\b",
    re.IGNORECASE,
)
EMOTION = re.compile(
    r"\b(cry\w*|crie\w*|sob\w*|tear\w*|furious\w*|angr\w*|terrified|desperate\w*|plead\w*|breaking|"
    r"trembling|choking|horrified|enraged|heartbroken|weeping)\b",
    re.IGNORECASE,
)
#: Extensions meaning the speaker is not on screen: heard, not cast in the shot.
OFF_SCREEN = re.compile(r"^(V\.?O\.?|O\.?S\.?|O\.?C\.?|OFF|OFF[- ]SCREEN|PRE-LAP|ON PHONE|PHONE|RADIO|FILTERED)$", re.I)

MOTION = re.compile(r"\b(run\w*|ran|chas\w*|race[sd]?|racing|flee\w*|fled|fight\w*|sprint\w*|scrambl\w*)\b", re.I)

DETERMINERS = {"the", "a", "an", "his", "her", "their", "its", "my", "your", "our", "this", "that", "some", "one"}
#: Capitalised words in action that are sounds or camera language, never props.
NOT_PROPS = {
    "bang", "boom", "crash", "thud", "slam", "click", "knock", "ring", "rings", "beep", "creak", "whoosh",
    "scream", "thunder", "pov", "knocks", "slams", "shatters", "bangs", "splash", "chime", "insert", "angle", "close", "wide", "later", "continuous", "cut", "fade",
    "v.o", "o.s", "cont'd", "moment", "beat", "silence", "end",
}  # fmt: skip


#: Sounds written in capitals in action ("the phone RINGS") -> built-in sound effects.
SOUNDS = (
    (r"RINGS?|RINGING", "phone_ring"),
    (r"KNOCKS?|KNOCKING", "door_knock"),
    (r"SLAMS?|SLAMMING", "door_slam"),
    (r"THUNDER|RUMBLES?", "thunder"),
    (r"SHATTERS?|SMASH(?:ES)?", "glass_break"),
    (r"BANG|BANGS|THUD|THUDS|CRASH|CRASHES|BOOM", "impact"),
    (r"BARKS?|BARKING", "dog_bark"),
    (r"SPLASH(?:ES)?", "splash"),
    (r"CLICKS?", "click"),
    (r"WHOOSH(?:ES)?", "whoosh"),
    (r"APPLAUSE|CLAPPING", "applause"),
    (r"HEARTBEAT", "heartbeat"),
    (r"CRACKLES?|CRACKLING", "fire_crackle"),
    (r"DRIPS?|DRIPPING", "water_drip"),
    (r"CHIMES?", "chime"),
)
_SOUND = re.compile(r"(?<![\w'])(" + "|".join(p for p, _ in SOUNDS) + r")(?![\w'])")


def is_sound(word: str) -> bool:
    return bool(_SOUND.fullmatch(word))


def sounds_in(text: str) -> list[dict[str, object]]:
    """The built-in sounds an action writes in capitals (the first three, each once)."""
    names: list[str] = []
    for match in _SOUND.finditer(text):
        name = next(value for pattern, value in SOUNDS if re.fullmatch(pattern, match.group(1)))
        if name not in names:
            names.append(name)
    # a shot without dialogue lasts 2 s: three sounds fit, half a second apart
    return [{"sound": name, "at": 0.3 + 0.5 * i} for i, name in enumerate(names[:3])]


def weather_in(text: str) -> str | None:
    """The first weather the text names, as a storyboard weather."""
    match = WEATHER.search(text)
    if not match:
        return None
    word = match.group(1)
    return next(value for pattern, value in _WEATHER if re.fullmatch(pattern, word, re.IGNORECASE))


def light_in(text: str) -> str | None:
    match = LIGHT.search(text)
    return match.group(1).lower() if match else None


def delivery_of(parenthetical: str) -> str | None:
    """``(whispering)`` -> whisper, ``(shouting)`` -> shout, anything else -> None."""
    if SHOUT.search(parenthetical):
        return "shout"
    if WHISPER.search(parenthetical):
        return "whisper"
    return None


def slug(name: str) -> str:
    """A name as a storyboard id: lower-case ASCII letters, digits, ``_`` and ``-``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9_-]+", "_", ascii_name.lower()).strip("_-")
    return out[:64].strip("_-")
