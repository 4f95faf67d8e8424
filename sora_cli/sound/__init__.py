"""Sound: speech, ambience, effects and music, mixed once for the whole film."""
