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


def qc(film: str | Path, profile: str | None = None, storyboard: str | Path | None = None) -> dict:
    """``sora qc`` as a dict: the film checked against ``profile`` (default: the storyboard's, else web).

    With ``storyboard`` the checks know the film's plan (its fades and title cards are not defects).
    """
    from sora_cli.qc import profile_for, run_qc

    the_plan = plan(storyboard) if storyboard is not None else None
    return run_qc(Path(film), profile_for(profile, the_plan, Path.cwd()), the_plan).to_json()
