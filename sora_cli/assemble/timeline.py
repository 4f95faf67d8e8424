"""The film as an OpenTimelineIO timeline (``--otio``), for editors to open and finish.

A video track of the shot files (one clip per shot, pointing at its file in the
shot cache), with the crossfades and fades between them; an audio track with
the mixed soundtrack (the film's own audio); subtitle cues as markers, with the
sidecar files named in the metadata.

OTIO transitions take no time on their track: they borrow media from the clips
either side. So a transition of T frames is centred on the cut, and each clip
is trimmed by its half of the overlap; the track then lasts exactly as long as
the film.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from sora_cli.assemble.subtitles import cues
from sora_cli.atomic import atomic_write_text
from sora_cli.plan.model import Plan


def build_timeline(plan: Plan, shot_files: dict, film: Path, subtitles: dict[str, str]) -> otio.schema.Timeline:
    fps = plan.fps

    def frames(n: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(n, fps)

    timeline = otio.schema.Timeline(name=plan.title, global_start_time=frames(0))
    timeline.metadata["sora"] = {
        "storyboard_sha256": plan.storyboard_hash,
        "seed": plan.seed,
        "film": str(film),
        "subtitles": subtitles,
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
        path = Path(shot_files[shot.id].path).resolve()
        clip = otio.schema.Clip(
            name=shot.id,
            media_reference=otio.schema.ExternalReference(
                target_url=path.as_uri(), available_range=otio.opentime.TimeRange(frames(0), frames(shot.frames))
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
                target_url=film.resolve().as_uri(),
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
    return timeline


def write_otio(plan: Plan, shot_files: dict, film: Path, out: Path, subtitles: dict[str, str]) -> None:
    atomic_write_text(
        out, otio.adapters.write_to_string(build_timeline(plan, shot_files, film, subtitles), "otio_json")
    )
