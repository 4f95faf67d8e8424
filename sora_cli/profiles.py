"""Delivery profiles: the limits a film is checked against, by name or from a YAML file.

Each built-in profile states its figures and where they come from, so a
reviewer can re-check them against the spec. A YAML file of the same shape
(any subset of the fields; the rest from ``base``, default ``web``) is a
profile too::

    base: ebu-r128
    name: my-broadcaster
    loudness: {target: -23, tolerance: 1.0}
    picture: {fps: [25, 50]}

This module only depends on pydantic and PyYAML: the planner imports it to
find a storyboard's loudness target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sora_cli.errors import yaml_problem

#: the least distance (LU) between a loudness target and the true-peak ceiling that sora's mix can reach:
#: speech has a peak-to-loudness ratio of 12 dB or more, and its limiter takes away at most about 3 dB of
#: it before it audibly flattens the voice. A target closer to the ceiling is refused, not missed.
MIN_PEAK_TO_LOUDNESS = 9.0


def loudest_target(true_peak: float) -> float:
    """The loudest integrated target (LUFS) a mix can land on under a ``true_peak`` (dBTP) ceiling."""
    return true_peak - MIN_PEAK_TO_LOUDNESS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Loudness(_Strict):
    target: float = Field(-14.0, description="integrated loudness, LUFS (BS.1770-4 gating)")
    tolerance: float = Field(0.5, gt=0, description="allowed distance from the target, LU")
    true_peak: float = Field(-1.0, description="ceiling for the 4x-oversampled peak, dBTP")
    max_momentary: float | None = Field(None, description="ceiling for 400 ms loudness, LUFS")
    max_short_term: float | None = Field(None, description="ceiling for 3 s loudness, LUFS")
    silence_db: float = Field(-60.0, description="a 100 ms stretch under this (dBFS) is silent")
    silence_max: float = Field(2.0, gt=0, description="longest silence the plan did not ask for, s")

    @model_validator(mode="after")
    def _reachable(self) -> Loudness:
        if self.target > loudest_target(self.true_peak):
            raise ValueError(
                f"a {self.target:g} LUFS target is too close to the {self.true_peak:g} dBTP ceiling: "
                f"use {loudest_target(self.true_peak):g} LUFS or quieter ({MIN_PEAK_TO_LOUDNESS:g} LU under it)"
            )
        return self


class Picture(_Strict):
    width: int | None = Field(None, description="required width (None: any)")
    height: int | None = None
    fps: list[float] | None = Field(None, description="allowed frame rates (None: any)")
    progressive: bool = True
    black_max: float = Field(0.5, gt=0, description="longest run of black frames the plan did not ask for, s")
    freeze_max: float = Field(0.5, gt=0, description="longest run of frozen frames the plan did not ask for, s")
    luma_range: tuple[int, int] = Field((5, 246), description="8-bit luma range with EBU R 103's tolerance")
    chroma_range: tuple[int, int] = Field((5, 251), description="8-bit chroma range with EBU R 103's tolerance")
    out_of_range_area: float = Field(0.01, description="share of a frame allowed outside the range")
    max_flashes: int = Field(3, description="flashes (pairs of opposing transitions) in any one second, BT.1702")
    flash_area: float = Field(0.25, description="share of the screen a flash must cover to count")
    title_safe: float = Field(0.9, description="title-safe area as a share of width and height")
    safe_top: float = Field(0.0, description="share of the height kept clear at the top (social)")
    safe_bottom: float = Field(0.0, description="share of the height kept clear at the bottom (social)")
    safe_sides: float = Field(0.0, description="share of the width kept clear on each side (social)")


class Container(_Strict):
    av_duration_diff: float = Field(0.1, description="largest difference between audio and video durations, s")
    codecs: list[str] = Field(default_factory=lambda: ["h264"])
    h264_profiles: list[str] = Field(default_factory=lambda: ["Constrained Baseline", "Main", "High"])
    max_level: float = Field(5.1, description="highest H.264 level")
    colour: bool = Field(True, description="colour primaries, transfer, matrix and range must be tagged (BT.709)")
    c2pa: bool = Field(True, description="a C2PA manifest must be present and valid")


class Captions(_Strict):
    chars_per_line: int = 42
    lines_per_cue: int = 2
    chars_per_second: float = 20.0
    min_duration: float = Field(5 / 6, description="s")
    max_duration: float = Field(7.0, description="s")
    min_gap_frames: int = Field(2, description="frames between cues that do not touch")


class Profile(_Strict):
    name: str
    description: str = ""
    source: str = ""
    loudness: Loudness = Loudness()
    picture: Picture = Picture()
    container: Container = Container()
    captions: Captions = Captions()


_WEB = Profile(
    name="web",
    description="streaming and web video: -14 LUFS, -1 dBTP, any size and frame rate",
    source="YouTube/Spotify -14 LUFS, -1 dBTP (platform loudness notes); captions per Netflix timed-text style "
    "(42 chars, 2 lines, 5/6-7 s, 2-frame gap) at 20 cps; EBU R 103 ranges; ITU-R BT.1702 flash limits",
)

_EBU = Profile(
    name="ebu-r128",
    description="broadcast, EBU R 128: -23 LUFS +-0.5 LU (file-based), -1 dBTP; 25/50 fps progressive",
    source="EBU R 128 (2020) and EBU Tech 3341/3342; EBU R 103 video levels; ITU-R BT.1702 flashing",
    loudness=Loudness(target=-23.0, tolerance=0.5, true_peak=-1.0),
    picture=Picture(fps=[25, 50]),
    captions=Captions(chars_per_second=17.0),
)

_EBU_S1 = _EBU.model_copy(
    update={
        "name": "ebu-r128-s1",
        "description": "advertising and short-form, EBU R 128 s1: as ebu-r128 plus max short-term -18 LUFS",
        "source": "EBU R 128 s1 (2016): max short-term loudness -18 LUFS (EBU Tech 3341 short-term, 3 s)",
        "loudness": Loudness(target=-23.0, tolerance=0.5, true_peak=-1.0, max_short_term=-18.0),
    }
)

_ATSC = Profile(
    name="atsc-a85",
    description="US broadcast, ATSC A/85 (CALM Act): -24 LKFS +-2 dB, -2 dBTP",
    source="ATSC A/85:2013 recommended practice; FCC 79.1 captions (Netflix-style limits at 17 cps)",
    loudness=Loudness(target=-24.0, tolerance=2.0, true_peak=-2.0),
    picture=Picture(fps=[23.976, 24, 29.97, 30, 59.94, 60]),
    captions=Captions(chars_per_second=17.0),
)

_SOCIAL_VERTICAL = Profile(
    name="social-9x16",
    description="vertical social video (Reels, TikTok, Shorts): 1080x1920, 24-60 fps, -14 LUFS, -1 dBTP",
    source="Meta Reels 9:16 safe zone (top 14%, bottom 35%, 6% each side); TikTok 1080x1920",
    picture=Picture(
        width=1080,
        height=1920,
        fps=[23.976, 24, 25, 29.97, 30, 50, 59.94, 60],
        safe_top=0.14,
        safe_bottom=0.35,
        safe_sides=0.06,
    ),
)

_SOCIAL_SQUARE = Profile(
    name="social-1x1",
    description="square social feed video: 1080x1080, 24-60 fps, -14 LUFS, -1 dBTP",
    source="Meta/Instagram feed 1:1 at 1080x1080; safe margins of 6% on every side",
    picture=Picture(
        width=1080,
        height=1080,
        fps=[23.976, 24, 25, 29.97, 30, 50, 59.94, 60],
        safe_top=0.06,
        safe_bottom=0.06,
        safe_sides=0.06,
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (_WEB, _EBU, _EBU_S1, _ATSC, _SOCIAL_VERTICAL, _SOCIAL_SQUARE)}
DEFAULT_PROFILE = "web"


class ProfileError(ValueError):
    """A profile name that does not exist, or a profile file that is not valid."""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def profile_file(spec: str, base_dir: Path | None = None) -> Path | None:
    """The file a profile spec names (relative to ``base_dir``); None for a built-in name or a bare word."""
    if spec in PROFILES or not (spec.endswith((".yaml", ".yml")) or "/" in spec):
        return None
    path = Path(spec).expanduser()
    return base_dir / path if not path.is_absolute() and base_dir is not None else path


def load_profile(spec: str, base_dir: Path | None = None) -> Profile:
    """A built-in profile by name, or a YAML profile file (relative to ``base_dir``)."""
    if spec in PROFILES:
        return PROFILES[spec]
    path = profile_file(spec, base_dir)
    if path is None:
        raise ProfileError(f"no delivery profile {spec!r} (built in: {', '.join(PROFILES)}; or a .yaml file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read the profile file {spec}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"the profile file {spec} is not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"the profile file {spec} must be a mapping of profile fields")
    base_name = data.pop("base", DEFAULT_PROFILE)
    if base_name not in PROFILES:
        raise ProfileError(f"{spec}: base: no built-in profile {base_name!r} (built in: {', '.join(PROFILES)})")
    data.setdefault("name", path.stem)
    try:
        return Profile.model_validate(_merge(PROFILES[base_name].model_dump(), data))
    except ValidationError as exc:  # every problem at once
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"{spec}: {problems}") from None
