"""Container checks: A/V durations, moov before mdat, codec profile and level, colour description, C2PA."""

from __future__ import annotations

from pathlib import Path

import av

from sora_cli.bmff import top_level_boxes
from sora_cli.profiles import Profile
from sora_cli.provenance import verify
from sora_cli.qc.result import Check

#: ISO/IEC 23091-2 code points: 1 = BT.709 (primaries, transfer, matrix); 1 = limited ("MPEG") range
BT709 = 1
LIMITED = 1
UNSPECIFIED = 2


def box_kinds(path: Path) -> list[str]:
    """The types of the file's top-level ISO BMFF boxes, in order."""
    with open(path, "rb") as fh:
        return [box.kind.decode("latin-1") for box in top_level_boxes(fh)]


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float:
    """The end time of a stream's last packet (what a player reaches), in seconds."""
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return end


def container_checks(path: Path, profile: Profile, c2pa_state: str | None = None) -> list[Check]:
    """``c2pa_state``: the film's C2PA verification state, already read from this file (see ``run_qc``)."""
    spec = profile.container
    checks: list[Check] = []
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        video_end = _duration(container, video) if video is not None else 0.0
    if audio is not None:
        with av.open(str(path)) as container:
            audio_end = _duration(container, container.streams.audio[0])
        diff = abs(video_end - audio_end)
        checks.append(
            Check("container.av_duration", diff <= spec.av_duration_diff, diff, spec.av_duration_diff, unit="s")
        )
    boxes = box_kinds(path)
    if "moov" in boxes and "mdat" in boxes:
        moov_first = boxes.index("moov") < boxes.index("mdat")
        checks.append(Check("container.moov_first", moov_first, " ".join(boxes[:6]), "moov before mdat"))
    if video is not None:
        with av.open(str(path)) as container:
            ctx = container.streams.video[0].codec_context
            name, profile_name = ctx.name, ctx.profile or ""
            extradata = bytes(ctx.extradata or b"")
            tags = (ctx.color_primaries, ctx.color_trc, ctx.colorspace, ctx.color_range)
            height = ctx.height
        level = extradata[3] / 10 if name == "h264" and len(extradata) > 3 and extradata[0] == 1 else None
        ok = name in spec.codecs
        if name == "h264":
            ok = ok and profile_name in spec.h264_profiles and (level is None or level <= spec.max_level)
        value = f"{name} {profile_name}" + (f" level {level:g}" if level is not None else "")
        limit = f"{'/'.join(spec.codecs)} {'/'.join(spec.h264_profiles)} level <= {spec.max_level:g}"
        checks.append(Check("container.codec", ok, value, limit))
        primaries, trc, matrix, colour_range = tags
        tagged = UNSPECIFIED not in (primaries, trc, matrix) and 0 not in (primaries, trc, matrix) and colour_range != 0
        right = (primaries, trc, matrix, colour_range) == (BT709, BT709, BT709, LIMITED) if height >= 720 else tagged
        checks.append(
            Check(
                "container.colour",
                right or not spec.colour,
                f"primaries={primaries} transfer={trc} matrix={matrix} range={colour_range}",
                "BT.709 (1/1/1), limited range (1)" if height >= 720 else "tagged, limited range",
                note="" if spec.colour else "reported",
            )
        )
    checks.append(_c2pa(path, spec.c2pa, c2pa_state))
    return checks


def _c2pa(path: Path, required: bool, state: str | None = None) -> Check:
    try:
        state = state if state is not None else verify(path).state
    except Exception as exc:  # the reader's own failure is a finding, not a crash
        state = f"unreadable ({type(exc).__name__})"
    ok = state in ("Trusted", "Valid")
    return Check("container.c2pa", ok or not required, state, "present and valid" if required else "reported")
