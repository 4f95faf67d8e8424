"""The Python API behind the CLI: notebooks, CI scripts and workers call these."""

from __future__ import annotations

from pathlib import Path

from sora_cli.plan.model import Plan
from sora_cli.plan.resolve import make_plan
from sora_cli.storyboard import Storyboard, load_storyboard


def load(
    path: str | Path, cameo_dirs: Path | None = None, policy: Path | None = None, allow_assets: tuple[Path, ...] = ()
) -> Storyboard:
    """Load and check a storyboard (``-`` reads stdin); ``policy`` replaces the default content policy."""
    return load_storyboard(path, cameo_dirs, policy, allow_assets)


def plan(
    path: str | Path,
    cameo_dirs: Path | None = None,
    policy: Path | None = None,
    backend: str | None = None,
    model: str | None = None,
    allow_assets: tuple[Path, ...] = (),
    deliverable: str | None = None,
) -> Plan:
    """Load, check and resolve a storyboard into its :class:`Plan`, with the render's preflight
    (``deliverable``: the plan of that entry of its ``deliverables:``).

    What ``sora validate`` accepts, ``sora render`` draws: the same checks of the
    backend (``backend``/``model`` as ``--backend``/``--model`` would override them)
    and of every asset run here and before a render (:mod:`sora_cli.preflight`).
    """
    from sora_cli.preflight import preflight

    sb = load_storyboard(path, cameo_dirs, policy, allow_assets)
    if model is not None:
        from sora_cli.film import with_model

        sb = with_model(sb, model)
    preflight(sb, cameo_dirs, backend)
    if deliverable:
        from sora_cli.storyboard.deliverables import for_deliverable

        sb = for_deliverable(sb, deliverable)
    return make_plan(sb, cameo_dirs)


def qc(film: str | Path, profile: str | None = None, storyboard: str | Path | None = None) -> dict:
    """``sora qc`` as a dict: the film checked against ``profile`` (default: the storyboard's, else web).

    With ``storyboard`` the checks know the film's plan (its fades and title cards are not defects).
    """
    from sora_cli.qc import profile_for, run_qc

    the_plan = plan(storyboard) if storyboard is not None else None
    return run_qc(Path(film), profile_for(profile, the_plan, Path.cwd()), the_plan).to_json()
