"""The ``animatic`` backend: a procedural previz renderer, deterministic to the byte.

The backend class is :class:`sora_cli.render.animatic.backend.AnimaticBackend`;
the modules beside it draw one part each (place, sky, weather, figures, props,
tags, camera, motion, staging). This package file imports nothing, so the
parts import each other without passing through it.
"""
