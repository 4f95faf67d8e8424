"""Shared helpers for the benchmarks: baselines are always measured in the same run.

The baseline of every render ratio is the *honest floor*: the film sora just made,
decoded back to raw frames, then encoded again, timed, with exactly sora's
:class:`VideoSettings` and its own :class:`FrameEncoder` (the same pixel format,
colour conversion, threads, preset, CRF and keyframes). A synthetic baseline
(the old noisy gradient) costs x264 about three times what the animatic's
flat-shaded frames cost, which made sora look faster than it is.
"""

from __future__ import annotations

import compileall
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import sora_cli
from sora_cli.render.encode import FrameEncoder, VideoSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "storyboards"

# the sora under test timed as installed, its modules compiled to bytecode (as `make` and a wheel's install
# leave them): where PYTHONDONTWRITEBYTECODE is set, every `sora` a bench starts would compile them again
compileall.compile_dir(Path(sora_cli.__file__).parent, quiet=1)


@dataclass(frozen=True)
class Floor:
    """The honest floor of one film: its own frames re-encoded with its own settings."""

    frames: int
    decode_seconds: float  # not part of the floor: decoding the film to raw frames beforehand
    encode_seconds: float  # the floor
    cpu_seconds: float = 0.0  # CPU (user + system, this process and ffmpeg) the encode took: steadier under load

    def line(self) -> str:
        return (
            f"honest floor: {self.frames} frames of the film itself re-encoded with sora's settings: "
            f"{self.encode_seconds:.2f} s ({self.frames / self.encode_seconds:.0f} fps)"
        )


def descendants(root: int) -> list[int]:
    """``root`` and every process under it right now (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and every child process it has waited for (and theirs)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def decode_to_raw(film: Path, raw: Path, channels: int = 4) -> tuple[int, int, int, int]:
    """Decode ``film``'s picture into ``raw`` (RGBA or RGB bytes, frame after frame); frames, width, height, fps."""
    import av

    fmt = {3: "rgb24", 4: "rgba"}[channels]
    frames = 0
    with av.open(str(film)) as container, open(raw, "wb") as fh:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        fps = round(float(stream.average_rate))
        for frame in container.decode(stream):
            fh.write(frame.to_ndarray(format=fmt).tobytes())
            frames += 1
    return frames, width, height, fps


def honest_floor(
    film: Path, video: VideoSettings | None = None, keyframes: list[int] | None = None, channels: int = 4
) -> Floor:
    """Seconds to encode ``film``'s own frames with sora's settings (``video``: the film's own size and fps).

    The frames are decoded into a raw file first (untimed); the timed part is
    exactly what a render's encoder does: raw frames written into
    :class:`FrameEncoder`'s pipe until the MP4 is finished.
    """
    with tempfile.TemporaryDirectory(prefix="sora-floor-") as tmp:
        raw = Path(tmp) / "frames.raw"
        started = time.perf_counter()
        frames, width, height, fps = decode_to_raw(film, raw, channels)
        decoding = time.perf_counter() - started
        video = video or VideoSettings(width, height, fps)
        assert (video.width, video.height) == (width, height), "the settings must match the film's frame size"
        data = np.memmap(raw, dtype=np.uint8, mode="r", shape=(frames, height, width, channels))
        cpu = cpu_seconds()
        started = time.perf_counter()
        encoder = FrameEncoder(Path(tmp) / "floor.mp4", video, keyframes or [0], channels)
        for i in range(frames):
            encoder.write(data[i])
        encoder.close()
        encoding = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        del data
    return Floor(frames, decoding, encoding, cpu)


def best_of(runs: int, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The fastest of ``runs`` calls (``fn`` returns seconds, or an object with ``encode_seconds``)."""
    results = [fn(*args, **kwargs) for _ in range(runs)]
    return min(results, key=lambda r: r if isinstance(r, float) else r.encode_seconds)


def row(*cells: object) -> str:
    first, *rest = (str(c) for c in cells)
    return first.ljust(24) + "".join(c.rjust(14) for c in rest)
