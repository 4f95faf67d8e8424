"""sora: turn a YAML storyboard into a finished multi-shot film.

The package is laid out as the data flows: ``storyboard`` (load, check) ->
``plan`` (resolved world, timing, seeds) -> ``render`` (backends, carried
state, shot cache) -> ``sound`` (speech, effects, music, mix) -> ``assemble``
(ffmpeg: stitch, mux, subtitles, provenance).
"""

__version__ = "0.1.0"

import os as _os

# fontconfig reads its configuration once, when the drawing library (skia) is
# loaded: point it at the fonts.conf sora ships (only sora's fonts) before any
# module can load it, so the machine's configuration cannot print warnings
# under --quiet; ffmpeg's children inherit it.
_os.environ.setdefault("FONTCONFIG_FILE", _os.path.join(_os.path.dirname(__file__), "fonts", "fonts.conf"))
