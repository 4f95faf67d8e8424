"""The film as an OpenTimelineIO timeline (``--otio``), for editors to open and finish.

A video track of the shot files (one clip per shot, pointing at its file in the
shot cache), with the crossfades and fades between them; an audio track with
the mixed soundtrack (the film's own audio); subtitle cues as markers, with the
sidecar files named in the metadata.

OTIO transitions take no time on their track: they borrow media from the clips
either side. So a transition of T frames is centred on the cut, and each clip
is trimmed by its half of the overlap; the track then lasts exactly as long as
the film. A fade-in (the first shot entered by ``fade_black``/``fade_white``)
is a transition at the head of the track that takes nothing from before it.

The timeline is portable: the shot files are copied out of the cache into a
media folder beside it (``FILM.media/NN-SHOT.mp4``), and every clip names its
media by a path relative to the timeline's folder, so the folder can be moved
or sent as a whole. With burned subtitles a third track holds the film itself,
the picture that carries them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from sora_cli.assemble.subtitles import cues
from sora_cli.atomic import atomic_write_text
from sora_cli.plan.model import Plan

if TYPE_CHECKING:
    import opentimelineio as otio


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def export_media(plan: Plan, shot_files: dict, folder: Path, final: Path) -> dict[str, Path]:
    """Each shot's file copied into ``folder`` (the staged media folder that becomes ``final``); shot id ->
    where its copy will be. A copy, never a hard link: an editor that changes a clip in place must not
    change the shot cache (a reflink where the filesystem has them: no bytes duplicated, still a copy)."""
    copies: dict[str, Path] = {}
    for i, shot in enumerate(plan.shots):
        name = f"{i + 1:02d}-{shot.id}.mp4"
        _copy(Path(shot_files[shot.id].path), folder / name)
        copies[shot.id] = final / name
    return copies


FICLONE = 0x40049409  # Linux ioctl: share the source's blocks copy-on-write (btrfs, XFS)


def _copy(source: Path, target: Path) -> None:
    """``source`` to ``target`` as a reflink where the filesystem can, else as a byte copy."""
    try:
        import fcntl

        with open(source, "rb") as src, open(target, "wb") as dst:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
        return
    except (ImportError, OSError):
        pass
    shutil.copyfile(source, target)


def build_timeline(
    plan: Plan,
    shot_files: dict,
    film: Path,
    subtitles: dict[str, str],
    media: dict[str, Path] | None = None,
    base: Path | None = None,
) -> otio.schema.Timeline:
    """``media``/``base``: the exported shot files and the timeline's folder, for relative paths (else the
    cache's files by absolute URL)."""
    import opentimelineio as otio  # (50 ms to import: only a render asked for --otio pays it)

    fps = plan.fps

    def url(path: Path) -> str:
        return _relative(path, base) if base is not None else path.resolve().as_uri()

    def frames(n: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(n, fps)

    timeline = otio.schema.Timeline(name=plan.title, global_start_time=frames(0))
    timeline.metadata["sora"] = {
        "storyboard_sha256": plan.storyboard_hash,
        "seed": plan.seed,
        "film": url(film),
        "subtitles": {kind: url(Path(path)) for kind, path in subtitles.items()},
    }
    video = otio.schema.Track(name="picture", kind=otio.schema.TrackKind.Video)
    shots = plan.shots
    for i, shot in enumerate(shots):
        t_in = shot.transition.frames if i else 0
        t_out = shots[i + 1].transition.frames if i + 1 < len(shots) else 0
        head, tail = t_in - t_in // 2, t_out // 2  # this clip's share of each overlap
        if t_in:
            kind = (
                otio.schema.TransitionTypes.SMPTE_Dissolve
                if shot.transition.type == "crossfade"
                else otio.schema.TransitionTypes.Custom
            )
            video.append(
                otio.schema.Transition(
                    name=shot.transition.type,
                    transition_type=kind,
                    in_offset=frames(t_in // 2),
                    out_offset=frames(head),
                )
            )
        if i == 0 and shot.transition.frames:  # the fade-in: from black (or white) into the first shot
            video.append(
                otio.schema.Transition(
                    name=shot.transition.type,
                    transition_type=otio.schema.TransitionTypes.Custom,
                    in_offset=frames(0),
                    out_offset=frames(shot.transition.frames),
                )
            )
        path = media[shot.id] if media else Path(shot_files[shot.id].path)
        clip = otio.schema.Clip(
            name=shot.id,
            media_reference=otio.schema.ExternalReference(
                target_url=url(path), available_range=otio.opentime.TimeRange(frames(0), frames(shot.frames))
            ),
            source_range=otio.opentime.TimeRange(frames(head), frames(shot.frames - head - tail)),
        )
        clip.metadata["sora"] = {
            "prompt": shot.prompt,
            "cast": list(shot.cast),
            "camera": shot.camera.model_dump(),
            "continuity": shot.continuity,
        }
        if i == 0 and shot.transition.frames:
            clip.metadata["sora"]["fade_in"] = {"type": shot.transition.type, "frames": shot.transition.frames}
        video.append(clip)
    audio = otio.schema.Track(name="soundtrack", kind=otio.schema.TrackKind.Audio)
    audio.append(
        otio.schema.Clip(
            name="soundtrack",
            media_reference=otio.schema.ExternalReference(
                target_url=url(film),
                available_range=otio.opentime.TimeRange(frames(0), frames(plan.frames)),
            ),
            source_range=otio.opentime.TimeRange(frames(0), frames(plan.frames)),
        )
    )
    for cue in cues(plan):
        start = otio.opentime.RationalTime(cue.start * fps, fps)
        marker = otio.schema.Marker(
            name=cue.text,
            marked_range=otio.opentime.TimeRange(start, otio.opentime.RationalTime((cue.end - cue.start) * fps, fps)),
            color=otio.schema.MarkerColor.YELLOW,
        )
        marker.metadata["sora"] = {"kind": "subtitle", "speaker": cue.speaker}
        audio.markers.append(marker)
    timeline.tracks.append(video)
    timeline.tracks.append(audio)
    if "burn" in plan.subtitles:
        burned = otio.schema.Track(name="picture with burned subtitles", kind=otio.schema.TrackKind.Video)
        burned.append(
            otio.schema.Clip(
                name="film",
                media_reference=otio.schema.ExternalReference(
                    target_url=url(film), available_range=otio.opentime.TimeRange(frames(0), frames(plan.frames))
                ),
                source_range=otio.opentime.TimeRange(frames(0), frames(plan.frames)),
            )
        )
        burned.enabled = False  # the same picture as the shots above, with the subtitles drawn in
        timeline.tracks.append(burned)
    return timeline


def write_otio(
    plan: Plan, shot_files: dict, film: Path, out: Path, subtitles: dict[str, str], media: Path, final_media: Path
) -> None:
    """The timeline into ``out`` and its shot files into ``media`` (both staged: they become ``FILM.otio``
    and ``final_media``, ``FILM.media/``, together when the set is published); every path in the timeline
    is relative to its folder and names ``final_media``."""
    copies = export_media(plan, shot_files, media, final_media)
    timeline = build_timeline(plan, shot_files, film, subtitles, copies, out.parent)
    import opentimelineio as otio

    atomic_write_text(out, otio.adapters.write_to_string(timeline, "otio_json"))
