"""Stitch shot files into the film's video track without re-encoding them.

Each shot file was encoded without B-frames and with an IDR frame where its
entry transition ends, so its packets can be copied from any such keyframe and
cut after any frame. A film is then a sequence of segments:

* the *body* of each shot (the frames no transition touches): copied packets;
* the *overlap* of each crossfade or fade: the two shots' frames decoded,
  blended and encoded with the same settings (the only frames re-encoded).

The cost of stitching is close to the cost of copying the files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from sora_cli.atomic import atomic_path
from sora_cli.digests import seal, verified
from sora_cli.errors import SoraError
from sora_cli.plan.model import Plan
from sora_cli.render.encode import FrameEncoder, VideoSettings


@dataclass(frozen=True)
class Segment:
    """Frames ``[first, last)`` of ``path`` placed at film frame ``at``."""

    path: Path
    first: int
    last: int
    at: int


def decode_frames(path: Path, first: int, last: int, fmt: str = "rgb24") -> list[np.ndarray]:
    """Frames ``[first, last)`` of a shot file as RGB arrays (``fmt="yuv420p"``: as the stream's own planes).

    Decoding starts at the last keyframe at or before ``first`` (every shot file
    has one at least every four seconds, each an IDR frame, so the frames are the
    same as decoded from the start): the tail of a long shot costs a few frames, not the shot.
    """
    out: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # (the same frames, decoded on every core)
            rate = stream.average_rate or stream.guessed_rate
            if first > 0 and rate and stream.time_base:
                container.seek(int(first / (rate * stream.time_base)), stream=stream, backward=True)
            for frame in container.decode(stream):
                index = round(float(frame.pts * stream.time_base * rate))
                if index >= last:
                    break
                if index >= first:
                    if fmt == "rgb24":
                        out.append(frame.to_ndarray(format="rgb24", src_colorspace="ITU709"))  # as encode.py converts
                    else:
                        out.append(frame.to_ndarray(format=fmt))
    except (av.FFmpegError, IndexError) as exc:  # (a cached file damaged under a valid seal: not ours to mend)
        why = str(exc).splitlines()[0] if str(exc) else "it has no video stream"
        raise SoraError(f"shot file {path.name} does not decode ({why}); `sora cache --clear` and render again") from exc
    if len(out) != last - first:
        raise SoraError(f"shot file {path.name} has fewer frames than planned ({len(out)} of {last - first} in range)")
    return out


#: the colour a fade passes through, as limited-range BT.709 Y'CbCr (what RGB black and white convert to)
THROUGH = {"fade_black": (16.0, 128.0), "fade_white": (235.0, 128.0)}


def blend(kind: str, a: np.ndarray | None, b: np.ndarray, w: float) -> np.ndarray:
    """Frame ``w`` (0..1) of a transition from ``a`` (None: the film's start) to ``b``, both yuv420p planes.

    Blending the stream's own Y'CbCr (luma rows, then the two chroma planes) is
    the same linear mix as blending RGB, without converting every overlap frame
    to RGB and back: no rounding of two colour conversions, and half the samples.
    Each weighted sum is taken in float32 into one buffer (three passes over a frame, not eight); a mix of
    two values in 0..255 with weights summing to one cannot leave that range, so it is rounded, not clipped.
    """
    if kind == "crossfade" and a is not None:
        return _mix(a, 1 - w, b, w)
    luma, chroma = THROUGH.get(kind, THROUGH["fade_black"])
    through = np.full((len(b), 1), chroma, np.float32)
    through[: len(b) * 2 // 3] = luma
    if a is None:  # fade in at the start of the film
        return _mix(through, 1 - w, b, w)
    if w < 0.5:
        return _mix(a, 1 - 2 * w, through, 2 * w)
    return _mix(through, 2 - 2 * w, b, 2 * w - 1)


def _mix(a: np.ndarray, wa: float, b: np.ndarray, wb: float) -> np.ndarray:
    """``rint(a * wa + b * wb)`` in float32 (the weights as float32; one of the two may be a column, broadcast)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), np.float32)
    np.multiply(a, np.float32(wa), out=out)
    out += np.multiply(b, np.float32(wb), dtype=np.float32)
    return np.rint(out, out=out).astype(np.uint8)


def transition_key(kind: str, frames: int, before: str | None, after: str, video: VideoSettings) -> str:
    """A transition's content: the two shot files it blends and how (2: blended as Y'CbCr)."""
    text = repr(("transition", 2, kind, frames, before, after, video))
    return hashlib.sha256(text.encode()).hexdigest()


def body_range(plan: Plan, index: int) -> tuple[int, int] | None:
    """Frames ``[first, last)`` of shot ``index``'s file that the film copies (no transition touches them)."""
    shots = plan.shots
    t_in = shots[index].transition.frames
    t_out = shots[index + 1].transition.frames if index + 1 < len(shots) else 0
    return (t_in, shots[index].frames - t_out) if shots[index].frames - t_out > t_in else None


def make_transition(
    plan: Plan, index: int, files: dict[str, Path], video: VideoSettings, workdir: Path, keys: dict[str, str] | None
) -> Path:
    """The overlap that enters shot ``index`` (decoded, blended, encoded unless already there); its path.

    It needs only the shot's file and the one before it, so a render can make it
    as soon as those two exist, while other shots are still drawn.
    """
    shots = plan.shots
    shot, t_in = shots[index], shots[index].transition.frames
    before = shots[index - 1].id if index else None
    if keys is not None:
        key = transition_key(shot.transition.type, t_in, keys[before] if before else None, keys[shot.id], video)
        path = workdir / key[:2] / f"{key}.mp4"
    else:
        path = workdir / f"transition-{index:04d}.mp4"
    if not (verified(path) if keys is not None else path.is_file()):
        with atomic_path(path) as tmp:
            # the encoder starts first: ffmpeg loads and sets up on the other core while the frames decode
            encoder = FrameEncoder(tmp, video, [0], channels=0)
            try:
                head = decode_frames(files[shot.id], 0, t_in, "yuv420p")
                tail = (
                    decode_frames(files[before], shots[index - 1].frames - t_in, shots[index - 1].frames, "yuv420p")
                    if before
                    else [None] * t_in
                )
                for k in range(t_in):
                    encoder.write(blend(shot.transition.type, tail[k], head[k], (k + 0.5) / t_in))
                encoder.close()
            except BaseException:
                encoder.abort()
                raise
        if keys is not None:
            seal(path)
    return path


def plan_segments(
    plan: Plan, files: dict[str, Path], video: VideoSettings, workdir: Path, keys: dict[str, str] | None = None
) -> list[Segment]:
    """Encode the overlaps (those not made yet) and list every segment in film order.

    With ``keys`` (shot id -> shot content key) the overlaps are stored in
    ``workdir`` by content, so ``workdir`` can be a cache: an overlap whose two
    shots did not change is not decoded, blended or encoded again.
    """
    segments: list[Segment] = []
    for i, shot in enumerate(plan.shots):
        t_in = shot.transition.frames
        if t_in:
            segments.append(Segment(make_transition(plan, i, files, video, workdir, keys), 0, t_in, shot.start_frame))
        if body := body_range(plan, i):
            segments.append(Segment(files[shot.id], *body, shot.start_frame + t_in))
    return segments


def video_packets(segments: list[Segment], fps: int) -> Iterator[av.Packet]:
    """The film's video packets in order, retimed to film frames (1/fps time base)."""
    extradata: bytes | None = None
    for seg in segments:
        with av.open(str(seg.path)) as container:
            stream = container.streams.video[0]
            data = bytes(stream.codec_context.extradata or b"")
            if extradata is None:
                extradata = data
            elif data != extradata:
                raise SoraError(
                    f"{seg.path.name} was encoded with different settings and cannot be stitched by copying"
                )
            index = -1
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                index += 1
                if index < seg.first:
                    continue
                if index >= seg.last:
                    break
                if index == seg.first and not packet.is_keyframe:
                    raise SoraError(f"{seg.path.name}: frame {index} is not a keyframe; the shot cannot be cut there")
                frame = seg.at + index - seg.first
                packet.pts = packet.dts = frame
                packet.duration = 1
                packet.time_base = Fraction(1, fps)
                yield packet
