"""sora: turn a YAML storyboard into a finished multi-shot film.

The package is laid out as the data flows: ``storyboard`` (load, check) ->
``plan`` (resolved world, timing, seeds) -> ``render`` (backends, carried
state, shot cache) -> ``sound`` (speech, effects, music, mix) -> ``assemble``
(ffmpeg: stitch, mux, subtitles, provenance).
"""

__version__ = "0.1.0"
