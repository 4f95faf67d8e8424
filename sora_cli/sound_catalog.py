"""The names of the built-in sound effects and ambience beds.

Kept apart from the synthesis code so that checking a storyboard (which must
know whether ``sfx: [{sound: wind_gust}]`` names something) stays cheap.
"""

from __future__ import annotations

#: name -> one-line description, shown by ``sora sounds``.
EFFECTS: dict[str, str] = {
    "wind_gust": "a rising and falling gust of wind",
    "thunder": "a close crack of thunder rolling away",
    "footsteps_snow": "crunching steps in snow",
    "footsteps_hard": "heels on a hard floor",
    "door_knock": "three knocks on a wooden door",
    "door_slam": "a heavy door slammed shut",
    "splash": "something dropped into water",
    "glass_break": "a pane of glass shattering",
    "car_pass": "a car passing left to right",
    "engine_start": "an engine cranking and catching",
    "bird_chirp": "a small bird chirping",
    "dog_bark": "two barks of a medium dog",
    "phone_ring": "a phone ringing twice",
    "click": "a short mechanical click",
    "whoosh": "a fast swish past the camera",
    "impact": "a dull heavy hit",
    "crowd_murmur": "a room of people talking",
    "applause": "a small audience clapping",
    "heartbeat": "a slow heartbeat",
    "sled_scrape": "runners scraping over ice",
    "camera_shutter": "a camera shutter",
    "typing": "typing on a keyboard",
    "pop": "a cork-like pop",
    "chime": "a bright notification chime",
    "rain_burst": "a short burst of heavy rain",
    "fire_crackle": "a crackling fire",
    "water_drip": "water dripping in a quiet room",
    "swoosh_logo": "a rising swoosh for a logo reveal",
}
