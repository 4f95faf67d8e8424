"""``sora qc``: a film checked against a delivery profile, each check with its value, limit and times.

Works on any MP4 or MOV that PyAV opens; with the film's plan, what the plan
asked for (fades, title cards) is not counted as a defect. ``sora render``
runs the same checks on what it wrote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av

from sora_cli.errors import UsageError
from sora_cli.plan.model import Plan
from sora_cli.profiles import DEFAULT_PROFILE, PROFILES, Profile, ProfileError, load_profile
from sora_cli.qc.audio import audio_checks
from sora_cli.qc.captions import Sidecars, caption_checks
from sora_cli.qc.container import container_checks
from sora_cli.qc.picture import picture_checks
from sora_cli.qc.planned import intended
from sora_cli.qc.result import Check, QcResult

SPANS, AUDIO = "spans", "audio"  # the folders of a check cache (see run_qc)

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Check", "Profile", "ProfileError", "QcResult", "load_profile", "run_qc"]


def run_qc(
    film: Path,
    profile: Profile,
    plan: Plan | None = None,
    sidecars: Sidecars | None = None,
    cache: Path | None = None,
    c2pa_state: str | Callable[[], str] | None = None,
) -> QcResult:
    """Measure ``film`` against ``profile``; bad input (not a film) is a :class:`UsageError`.

    ``sidecars`` are the film's subtitle files when they are not beside it under its name
    (a mapping: by the names the report gives them, e.g. a render's staged files by their final names).
    ``cache``: a folder where the picture's spans and the sound's measurement are kept by
    content (a render passes its cache's): what was measured before is not decoded again,
    and the result is the same.
    ``c2pa_state``: the film's C2PA verification state when the caller has just read it back from
    this very file (a render verifies what it signed): not read again (c2pa-rs holds up to 256 MB
    of a film while it hashes it). A callable gives it once the film is signed: a render signs
    the film while its picture and sound are measured (signing changes neither), and only the
    container and caption checks, which read the file's boxes, wait for it.
    """
    film = Path(film)
    if film.is_dir():
        raise UsageError(f"{film}: is a folder, not a film (give an MP4 or MOV file)")
    if not film.is_file():
        raise UsageError(f"{film}: no such file")
    try:
        with av.open(str(film)) as container:
            if not container.streams.video and not container.streams.audio:
                raise UsageError(f"{film}: has neither video nor audio")
    except av.FFmpegError as exc:
        raise UsageError(f"{film}: not a film PyAV can open ({exc.strerror or type(exc).__name__})") from None
    wanted = intended(plan)
    result = QcResult(str(film), profile.name)
    # the sound and the picture are decoded and measured at once (a thread each: PyAV, numpy and scipy
    # release the GIL while they work), so a render's checks take about the longer of the two, not the sum
    with ThreadPoolExecutor(1, thread_name_prefix="sora-qc-audio") as pool:
        audio = pool.submit(audio_checks, film, profile, wanted, cache and cache / AUDIO)
        picture, facts = picture_checks(film, profile, wanted, cache and cache / SPANS)
        result.checks += audio.result()
    result.checks += picture
    if callable(c2pa_state):
        c2pa_state = c2pa_state()
    result.checks += container_checks(film, profile, c2pa_state)
    result.checks += caption_checks(film, profile, facts.fps, sidecars)
    return result


DRAFT_SETTINGS = ("picture.size", "picture.frame_rate")  # what --draft itself changes (quarter size, 12 fps)


def as_draft(result: QcResult) -> QcResult:
    """The checks of a ``--draft`` preview: its frame size and rate are the draft's own (quarter size, 12
    fps), not the profile's, so those two checks are skipped (passed, with a note saying so) rather than
    failing every draft of a size-fixed profile; every other check keeps its verdict."""
    note = "skipped for --draft (a preview: a quarter of the pixels, at most 12 fps); the full render is checked"
    checks = [dataclasses.replace(c, passed=True, note=note) if c.id in DRAFT_SETTINGS else c for c in result.checks]
    return dataclasses.replace(result, checks=checks)


def profile_for(spec: str | None, plan: Plan | None, base_dir: Path | None = None) -> Profile:
    """``--profile`` if given, else the plan's ``output.profile``, else :data:`DEFAULT_PROFILE`.

    A plan whose storyboard sets ``output.loudness`` checks against that target.
    """
    try:
        profile = load_profile(spec if spec is not None else (plan.profile if plan else DEFAULT_PROFILE), base_dir)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if plan is not None and spec is None and plan.loudness != profile.loudness.target:
        loudness = profile.loudness.model_copy(update={"target": plan.loudness})
        profile = profile.model_copy(update={"loudness": loudness})
    return profile
