"""Animatic drawing speed at 1280x720 vs a bare x264 encode of as many frames (goal: ratio >= 1).

python bench/animatic_fps.py
"""

from __future__ import annotations

import sys
import time

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, bare_x264_seconds, row
from sora_cli import api
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import FilmSettings


def draw_seconds(name: str) -> tuple[int, float]:
    plan = api.plan(EXAMPLES / f"{name}.yaml")
    backend = AnimaticBackend()
    backend.open(FilmSettings.from_plan(plan, 1280, 720))
    frames, carry = 0, None
    started = time.perf_counter()
    for shot in plan.shots:
        render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
        for _ in render:
            frames += 1
        carry = render.carry
    return frames, time.perf_counter() - started


def main() -> None:
    print(row("storyboard", "frames", "draw fps", "x264 fps", "draw/x264"))
    ratios = []
    for name in ("polar", "product_ad", "harbour_night"):
        frames, drawing = draw_seconds(name)
        encoding = bare_x264_seconds(frames, 1280, 720, 24)
        ratios.append(encoding / drawing)
        print(row(name, frames, f"{frames / drawing:.0f}", f"{frames / encoding:.0f}", f"{encoding / drawing:.2f}"))
    print(f"\nworst ratio {min(ratios):.2f} (goal: drawing at least as fast as the encode, ratio >= 1)")


if __name__ == "__main__":
    main()
