"""The Python API behind the CLI: notebooks, CI scripts and workers call these."""

from __future__ import annotations

from pathlib import Path

from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard import Storyboard, load_storyboard


def load(path: str | Path, cameo_dirs: Path | None = None, policy: Path | None = None) -> Storyboard:
    """Load and check a storyboard (``-`` reads stdin); ``policy`` replaces the default content policy."""
    return load_storyboard(path, cameo_dirs, policy)


def plan(path: str | Path, cameo_dirs: Path | None = None, policy: Path | None = None) -> Plan:
    """Load, check and resolve a storyboard into its :class:`Plan`."""
    return make_plan(load_storyboard(path, cameo_dirs, policy), cameo_dirs)
