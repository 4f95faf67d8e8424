"""Assembly behind one call: shot files and a soundtrack in, a staged film and its sidecars out.

:func:`assemble` stitches the cached shot files (packets copied, only
transition overlaps encoded again), burns subtitles into the picture when the
plan asks for it, muxes the soundtrack and soft subtitles, and stages the
SRT/VTT sidecars and the OTIO timeline with the render's :class:`Publisher`,
so they appear together with the film. Signing, the delivery checks and the
report come after (see :mod:`sora_cli.film`): they read what was staged here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sora_cli.assemble import subtitles as subs
from sora_cli.assemble.burn_layout import burn_cues, subtitle_size
from sora_cli.assemble.mux import write_film
from sora_cli.assemble.stitch import Segment, plan_segments, video_packets
from sora_cli.ffmpeg import filter_value, run_ffmpeg
from sora_cli.fonts import fallback_chain
from sora_cli.outputs import Publisher, set_paths
from sora_cli.plan.model import Plan
from sora_cli.qc import profile_for
from sora_cli.qc.burned import safe_box
from sora_cli.render.encode import VideoSettings
from sora_cli.render.shots import ShotFile


@dataclass
class Assembled:
    """What :func:`assemble` staged: the film (unsigned yet) and where each file will appear."""

    film: Path  #: the staged film (a temp name beside ``output``)
    cues: list[subs.Cue]
    subtitles: dict[str, str] = field(default_factory=dict)  #: "srt"/"vtt" -> final path
    otio: Path | None = None  #: the timeline's final path, when asked for
    media: Path | None = None  #: the timeline's media folder's final path (``FILM.media``)
    #: with burned subtitles, the picture before and after burning (for the safe-area check)
    burned: tuple[Path, Path] | None = None


def assemble(
    plan: Plan,
    shot_files: dict[str, ShotFile],
    video: VideoSettings,
    soundtrack: Path,
    output: Path,
    publisher: Publisher,
    scratch: Path,
    transitions: Path,
    otio: bool = False,
) -> Assembled:
    """Stage the film, its subtitle sidecars and (``otio``) its timeline beside ``output``."""
    cues = subs.cues(plan)
    staged = publisher.stage(output)
    burned = _write_picture_and_sound(plan, shot_files, video, soundtrack, cues, staged, scratch, transitions)
    done = Assembled(staged, cues, _stage_sidecars(plan, cues, output, publisher), burned=burned)
    if otio:
        from sora_cli.assemble.timeline import write_otio  # OpenTimelineIO costs 50 ms to import: only for --otio

        done.otio = output.with_suffix(".otio")
        done.media = set_paths(output)["media"]
        media = publisher.stage_folder(done.media)
        write_otio(plan, shot_files, output, publisher.stage(done.otio), done.subtitles, media, done.media)
    return done


def _write_picture_and_sound(
    plan: Plan,
    shot_files: dict[str, ShotFile],
    video: VideoSettings,
    sound: Path,
    cues: list[subs.Cue],
    output: Path,
    scratch: Path,
    transitions: Path,
) -> tuple[Path, Path] | None:
    """Write the film; with burned subtitles, the picture before and after burning."""
    files = {sid: f.path for sid, f in shot_files.items()}
    segments = plan_segments(plan, files, video, transitions, {sid: f.key for sid, f in shot_files.items()})
    template = files[plan.shots[0].id]
    soft = cues if "soft" in plan.subtitles else None
    burned: tuple[Path, Path] | None = None
    if "burn" in plan.subtitles and cues:
        stitched = scratch / "stitched.mp4"
        write_film(stitched, video_packets(segments, plan.fps), template, None, plan.duration, None)
        burned = (stitched, _burn(stitched, cues, plan, video, scratch))
        segments = [Segment(burned[1], 0, plan.frames, 0)]
        template = burned[1]
    write_film(output, video_packets(segments, plan.fps), template, sound, plan.duration, soft)
    return burned


def _burn(video_path: Path, cues: list[subs.Cue], plan: Plan, video: VideoSettings, scratch: Path) -> Path:
    """Draw the subtitles into the picture with libass and the fonts sora ships."""

    left, _, _, bottom = safe_box(profile_for(None, plan), plan.width, plan.height)
    margins = (left + max(2, plan.width // 100), plan.height - bottom + max(2, plan.height // 100))
    size = subtitle_size(plan.width, plan.height)
    cues = burn_cues(cues, plan.width - 2 * margins[0], size)  # wrapped by measured width
    text = subs.to_ass(cues, plan.width, plan.height, "DejaVu Sans", margins, size)
    (scratch / "subs.ass").write_text(text, encoding="utf-8")
    fonts = scratch / "fonts"
    fonts.mkdir(exist_ok=True)
    for _, font in fallback_chain():
        shutil.copy(font, fonts / font.name)
    out = scratch / "burned.mp4"
    graph = f"subtitles=filename={filter_value('subs.ass')}:fontsdir={filter_value('fonts')}"
    run_ffmpeg(
        ["-i", video_path.name, "-vf", graph, *video.codec_args(), "-an", out.name], "burning subtitles", cwd=scratch
    )
    return out


def _stage_sidecars(plan: Plan, cues: list[subs.Cue], output: Path, publisher: Publisher) -> dict[str, str]:
    """Stage the SRT/VTT sidecars (they appear with the film, see :class:`Publisher`); their final paths."""
    written: dict[str, str] = {}
    if "sidecar" in plan.subtitles:
        srt, vtt = output.with_suffix(".srt"), output.with_suffix(".vtt")
        publisher.stage(srt).write_text(subs.to_srt(cues), encoding="utf-8")
        publisher.stage(vtt).write_text(subs.to_vtt(cues), encoding="utf-8")
        written.update(srt=str(srt), vtt=str(vtt))
    return written
