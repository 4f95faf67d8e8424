"""The documented limits on what a storyboard may ask for (README: "Limits").

Each bounds a resource a hostile or mistaken storyboard could exhaust: memory
while reading it (file size, text length, nesting), time and disk while
rendering it (duration, frame size, frame rate, shots), memory while decoding
its assets (image pixels, audio length). Every limit is a located problem,
exit 2, before anything renders.
"""

from __future__ import annotations

#: A storyboard file (or stdin) is at most this many bytes.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Any single text value (a line, a description, a path, an option) is at most this many characters.
MAX_TEXT_CHARS = 4000
#: Mappings and lists nest at most this deep (a storyboard needs about 7 levels).
MAX_DEPTH = 32
#: Alias expansion beyond this many values is refused (a "billion laughs" file).
MAX_VALUES = 200_000
#: Shots in one storyboard.
MAX_SHOTS = 10_000
#: The whole film, transitions' overlaps taken off, in seconds (12 hours).
MAX_FILM_SECONDS = 12 * 3600
#: Pixels of one frame: 4096x2160 (DCI 4K) or 3840x2160, not 4096x4096.
MAX_FRAME_PIXELS = 4096 * 2304
#: Frames per second.
MAX_FPS = 120
#: Pixels of a decoded image asset (a likeness image): 50 megapixels, e.g. 8660x5773.
MAX_IMAGE_PIXELS = 50_000_000
#: Seconds of a decoded audio asset (music, ambience, a take, an effect file): 1 hour.
MAX_AUDIO_SECONDS = 3600
