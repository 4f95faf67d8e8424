"""Encoding frames into a shot file: raw frames piped into the bundled ffmpeg.

Every shot is encoded with the same settings, so shot files can be stitched by
copying their packets. Settings that make this exact and repeatable:

* no B-frames: packets are in display order, so a shot can be cut after any frame;
* an IDR frame wherever a stitch may start copying (the first frame after the
  shot's entry transition), and closed GOPs;
* a fixed number of encoder threads: x264 is deterministic for a given thread
  count, so the bytes do not depend on the machine's cores;
* ``+bitexact``: no version or date strings that change between runs.

Colour: every film, whatever its size, is converted from RGB with the BT.709
matrix into limited range and tagged BT.709 (primaries, transfer, matrix) and
limited range, in the stream and in the H.264 VUI. HD requires it; smaller
frames follow the same explicit convention, so players never guess (BT.601 is
what they guess for SD). The tags are part of the codec's extradata, which
the stitcher checks is identical across shot files and re-encoded overlaps.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sora_cli.errors import SoraError
from sora_cli.ffmpeg import StderrTail, failure, ffmpeg_exe
from sora_cli.temp_names import shown_name

ENCODER_THREADS = 4
#: how much lower a shot's encoder runs than the rest of the render (``nice``): the soundtrack is one serial
#: chain of work beside the picture's many threads; with the encoders a little lower, the mix gets its share
#: of the cores early and is done before the last shot is, instead of the film waiting on it at the end
#: (the total work is the same; only the order changes, and never a byte)
SHOT_ENCODER_NICE = 4
#: the frames' colour description, set after conversion (the encoder takes the frames' tags over its options)
COLOUR_PARAMS = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"


@dataclass(frozen=True)
class VideoSettings:
    width: int
    height: int
    fps: int
    preset: str = "veryfast"
    crf: int = 20
    #: the colour convention; part of every shot's cache key, so changing it re-encodes cached shots
    colour: str = "bt709-tv"

    def codec_args(self) -> list[str]:
        return [
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
            "-profile:v", "high", "-bf", "0", "-g", str(self.fps * 4), "-keyint_min", "1",
            "-x264-params", f"threads={ENCODER_THREADS}:open-gop=0:scenecut=0",
            "-r", str(self.fps), "-video_track_timescale", str(self.fps * 1000),
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
        ]  # fmt: skip

    def rgb_conversion(self) -> list[str]:
        """The filter that turns RGB frames into the stream's Y'CbCr: BT.709 matrix, limited range."""
        return ["-vf", "scale=out_color_matrix=bt709:out_range=tv," + COLOUR_PARAMS]


class FrameEncoder:
    """Write frames to ``path`` as H.264 in MP4; call :meth:`close` to finish (or :meth:`abort`)."""

    def __init__(
        self,
        path: Path,
        settings: VideoSettings,
        keyframes: list[int],
        channels: int = 4,
        nice: int = 0,
        label: str | None = None,
    ):
        """``channels``: 4 (RGBA) or 3 (RGB) frames of ``(height, width, channels)``, converted to the stream's
        Y'CbCr; or 0: frames that already are it, the three planes of yuv420p stacked as ``(height * 3 / 2, width)``
        (what a shot file decodes to), encoded with no conversion. ``label``: what the file is, for
        messages (``shot s002``); by default the name it will have."""
        self.path = path
        self.label = label
        self.settings = settings
        self.channels = channels
        self.frames = 0
        self._stderr = StderrTail()  # (closed in close()/abort())
        pix_fmt = {0: "yuv420p", 3: "rgb24", 4: "rgba"}[channels]
        conversion = ["-vf", COLOUR_PARAMS] if channels == 0 else settings.rgb_conversion()
        force = (
            ["-force_key_frames", "expr:" + "+".join(f"eq(n,{k})" for k in sorted(set(keyframes)))] if keyframes else []
        )
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{settings.width}x{settings.height}",
            "-framerate", str(settings.fps), "-i", "pipe:0", "-an",
            *conversion, *settings.codec_args(), *force, "-f", "mp4", str(path),
        ]  # fmt: skip
        self._proc = self._stderr.popen(cmd)
        if nice > 0:
            with contextlib.suppress(OSError, AttributeError):  # (no setpriority: Windows; a gone process)
                os.setpriority(os.PRIO_PROCESS, self._proc.pid, os.getpriority(os.PRIO_PROCESS, 0) + nice)

    def write(self, frame: np.ndarray) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(memoryview(np.ascontiguousarray(frame)).cast("B"))
        except BrokenPipeError:
            self._fail("encoding frames")
        self.frames += 1

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        if self._proc.wait() != 0:
            self._fail("finishing a shot file")
        self._stderr.close()

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def _fail(self, what: str) -> None:
        try:  # a broken pipe comes as the encoder dies: what ended it is worth saying (a signal, say)
            died: int | None = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            died = None
        self._proc.kill()
        self._proc.wait()
        said = self._stderr.text()
        raise SoraError(failure(f"{what} ({self.label or shown_name(self.path)})", died, said, self.path))
