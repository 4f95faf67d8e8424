"""Animatic drawing speed at 1280x720 vs encoding the very frames it drew (goal: ratio >= 1).

The baseline is the honest floor: the drawn frames, kept in a raw file, encoded
with sora's own FrameEncoder and VideoSettings in the same run.

python bench/animatic_fps.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, row
from sora_cli import api
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import FilmSettings
from sora_cli.render.encode import FrameEncoder, VideoSettings


def draw_and_encode_seconds(name: str) -> tuple[int, float, float]:
    """Frames drawn, seconds drawing them, seconds encoding exactly those frames with sora's settings."""
    plan = api.plan(EXAMPLES / f"{name}.yaml")
    backend = AnimaticBackend()
    backend.open(FilmSettings.from_plan(plan, 1280, 720))
    frames, carry, drawing = 0, None, 0.0
    with tempfile.TemporaryDirectory(prefix="sora-fps-") as tmp:
        raw = Path(tmp) / "frames.raw"
        with open(raw, "wb") as fh:
            for shot in plan.shots:
                render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
                started = time.perf_counter()
                for frame in render:
                    drawing += time.perf_counter() - started
                    fh.write(frame.tobytes())  # untimed: kept for the encode
                    frames += 1
                    started = time.perf_counter()
                drawing += time.perf_counter() - started
                carry = render.carry
        data = np.memmap(raw, dtype=np.uint8, mode="r", shape=(frames, 720, 1280, 4))
        started = time.perf_counter()
        encoder = FrameEncoder(Path(tmp) / "floor.mp4", VideoSettings(1280, 720, plan.fps), [0])
        for i in range(frames):
            encoder.write(data[i])
        encoder.close()
        encoding = time.perf_counter() - started
        del data
    return frames, drawing, encoding


def main() -> None:
    print(row("storyboard", "frames", "draw fps", "x264 fps", "draw/x264"))
    ratios = []
    for name in ("polar", "product_ad", "harbour_night"):
        frames, drawing, encoding = draw_and_encode_seconds(name)
        ratios.append(encoding / drawing)
        print(row(name, frames, f"{frames / drawing:.0f}", f"{frames / encoding:.0f}", f"{encoding / drawing:.2f}"))
    print(f"\nworst ratio {min(ratios):.2f} (goal: drawing at least as fast as the encode, ratio >= 1)")


if __name__ == "__main__":
    main()
