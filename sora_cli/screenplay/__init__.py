"""Screenplays in and out: Fountain scripts <-> storyboards.

``import_fountain`` (:mod:`.importer`) parses a Fountain 1.1 script
(:mod:`.parse`), breaks it down into shots as a storyboard artist would
(:mod:`.breakdown`, with the vocabulary in :mod:`.words`; or follows sora's own
notes, :mod:`.notes`) into a :mod:`.draft`, writes it as commented YAML
(:mod:`.emit`) and checks it as ``sora validate`` does, so what it returns always
validates. ``export_fountain`` (:mod:`.export`) writes a storyboard back as a
screenplay; :mod:`.files` reads scripts and writes outputs for the CLI.
"""

from __future__ import annotations

from sora_cli.screenplay.importer import import_fountain

__all__ = ["import_fountain"]
