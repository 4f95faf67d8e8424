"""Shared helpers for the benchmarks: baselines are always measured in the same run."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from sora_cli.ffmpeg import ffmpeg_exe
from sora_cli.render.encode import VideoSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "storyboards"


def bare_x264_seconds(frames: int, width: int, height: int, fps: int) -> float:
    """Seconds for ffmpeg to encode ``frames`` raw RGBA frames with the settings sora uses."""
    video = VideoSettings(width, height, fps)
    rng = np.random.default_rng(0)
    # a moving gradient with a little noise: neither trivially compressible nor pure noise
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None].repeat(height, 0).repeat(4, 2)
    pool = [
        np.clip(np.roll(base, k * 7, axis=1) + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8) for k in range(8)
    ]
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgba",
        "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0", *video.codec_args(), "-f", "mp4", "/dev/null",
    ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(frames):
        proc.stdin.write(pool[i % len(pool)].tobytes())
    proc.stdin.close()
    proc.wait()
    return time.perf_counter() - started


def row(*cells: object) -> str:
    first, *rest = (str(c) for c in cells)
    return first.ljust(24) + "".join(c.rjust(14) for c in rest)
