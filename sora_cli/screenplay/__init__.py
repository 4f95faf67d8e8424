"""Screenplays in and out: Fountain scripts <-> storyboards.

``import_fountain`` parses a Fountain 1.1 script (:mod:`.parse`), breaks it
down into shots as a storyboard artist would (:mod:`.breakdown`), writes the
storyboard as commented YAML (:mod:`.emit`) and checks it with the storyboard's
own loader, so what it returns always validates. ``export_fountain``
(:mod:`.export`) writes a storyboard back as a screenplay.
"""

from __future__ import annotations

from sora_cli.screenplay.importer import import_fountain

__all__ = ["import_fountain"]
