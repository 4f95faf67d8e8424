"""The speech engine and what it needs to know, on the ground floor below every stage.

Checking a storyboard (is this voice installed?), planning it (how long is this line
when spoken?) and mixing its sound all use the same engine, so it lives here rather
than inside one of those stages: ``engine`` (espeak-ng, its voices, phoneme events),
``voice`` (a voice as the engine uses it, and its defaults) and ``scripts`` (a line
in another writing system than its voice's language).
"""
