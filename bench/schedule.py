"""Planning and scheduling stay linear: 2,000 and 10,000 shots, with the old quadratic pass as the baseline.

    python bench/schedule.py                 # 2,000 and 10,000 shots
    python bench/schedule.py --shots 500 4000

For each size: seconds to plan (parse + make_plan), seconds for ``render_shots``
to schedule a first render (keys, chains, the to-do pass; drawing replaced by a
stub that returns at once), and, for the same chains, the seconds of the pass sora used before
(``chain not in todo``: a list search comparing chains shot by shot), measured
in the same run. The old pass is skipped above 4,000 shots (minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import row
from sora_cli.plan.resolve import make_plan
from sora_cli.progress import NullProgress
from sora_cli.render import shots
from sora_cli.render.backend import FilmSettings
from sora_cli.render.cache import ShotCache
from sora_cli.render.encode import VideoSettings
from sora_cli.storyboard import parse_storyboard

HEAD = """\
version: 1
title: Long
output: {width: 192, height: 108, fps: 12}
world:
  location: "a city street"
  characters:
    kim: {description: "courier in green"}
    ann: {description: "baker in white"}
audio: {ambience: none}
shots:
"""


class Empty(ShotCache):
    """Nothing in the cache (the first render: every chain is to do, the old pass's worst case)."""

    def has(self, key: str) -> bool:
        return False


def drawn_instantly(jobs, backend, cache, video, progress, carry=None):
    """Stands in for drawing a chain, so that only the scheduling around it is timed."""
    return [shots.ShotFile(j.shot.id, j.key, cache.video(j.key), j.shot.frames, False) for j in jobs]


def storyboard(n: int) -> str:
    rows = [
        f"  - {{id: s{i}, duration: 0.5, cast: [{'kim' if i % 2 else 'ann'}]"
        + (", continuity: continue}" if i % 4 else "}")
        for i in range(n)
    ]
    return HEAD + "\n".join(rows) + "\n"


def old_pass(work: list[list[shots.ShotJob]], todo: list[list[shots.ShotJob]]) -> int:
    """The selection as it was: ``chain not in todo`` for every shot."""
    count = 0
    for chain in work:
        for _job in chain:
            if chain not in todo:
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, nargs="*", default=[2000, 10000])
    args = parser.parse_args()
    print(row("shots", "plan s", "schedule s", "old pass s", "old/new"))
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.shots:
            t0 = time.perf_counter()
            plan = make_plan(parse_storyboard(storyboard(n), "long.yaml", Path(tmp)))
            planned = time.perf_counter() - t0
            video = VideoSettings(plan.width, plan.height, plan.fps)
            shots.render_chain = drawn_instantly
            t0 = time.perf_counter()
            files = shots.render_shots(
                plan, "animatic", FilmSettings.from_plan(plan), video, Empty(Path(tmp)), set(), 1, NullProgress()
            )
            scheduled = time.perf_counter() - t0
            assert len(files) == n
            old = "-"
            ratio = "-"
            if n <= 4000:
                work = shots.plan_jobs(plan, {"name": "animatic"}, False, video, set())
                todo = list(work)  # every chain to do, as on a first render
                t0 = time.perf_counter()
                old_pass(work, todo)
                old_seconds = time.perf_counter() - t0
                old, ratio = f"{old_seconds:.2f}", f"{old_seconds / scheduled:.1f}x"
            print(row(n, f"{planned:.2f}", f"{scheduled:.2f}", old, ratio))


if __name__ == "__main__":
    main()
