"""What the delivery checks cost a render: a whole pass against the check cache, measured in the same run.

    python bench/qc_cost.py                 # the 30 s 1280x720 bench film of bench/render.py
    python bench/qc_cost.py STORYBOARD      # any storyboard (rendered into a scratch copy)

Renders the film once (cached), then times ``run_qc`` on it three ways: a
whole pass (no cache: every frame decoded, the sound decoded and metered), a
cold check cache (the same, plus storing the measures) and a warm one (what a
re-render whose shots and sound did not change pays). Then the last shot's
camera is edited and the new film checked through the same cache (only that
shot's spans are decoded) and by a whole pass. Prints CPU and wall seconds and
the ratios to the whole pass; the reports must be identical. (In a render the
shots are also measured while other shots are still drawn: see qc/ahead.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds
from bench.render import write_storyboard


def timed(work):  # type: ignore[no-untyped-def]
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = work()
    return result, cpu_seconds() - cpu, time.perf_counter() - wall


def main() -> None:
    from sora_cli import api
    from sora_cli.plan.resolve import make_plan
    from sora_cli.qc import profile_for, run_qc
    from sora_cli.sound.hearing import HEARD
    from sora_cli.storyboard import load_storyboard

    with tempfile.TemporaryDirectory(prefix="sora-qc-bench-") as tmp:
        folder = Path(tmp)
        if len(sys.argv) > 1:
            source = Path(sys.argv[1]).resolve()
            shutil.copytree(source.parent, folder / "film", ignore=shutil.ignore_patterns(".sora-cache", "*.mp4"))
            storyboard = folder / "film" / source.name
        else:
            storyboard = write_storyboard(folder / "film", 6, 5.0, 1280, 720, 24)
        report = api.render(api.RenderRequest(storyboard, jobs=2, qc=False))
        film = Path(report["output"]["file"])
        plan = make_plan(load_storyboard(storyboard), None)
        profile = profile_for(None, plan)
        cache = folder / "checks"
        rows = {}
        for name, where in (("whole pass", None), ("cold cache", cache), ("warm cache", cache)):
            HEARD.clear()  # (the process's own memo would hide the sound's cost)
            checked, cpu, wall = timed(lambda where=where: run_qc(film, profile, plan, cache=where))
            rows[name] = (cpu, wall, json.dumps(checked.to_json()))
        print(f"{film.name}: {plan.frames} frames at {plan.width}x{plan.height}, {plan.duration:.1f} s")
        base_cpu, base_wall, base_json = rows["whole pass"]
        for name, (cpu, wall, text) in rows.items():
            same = "same report" if text == base_json else "REPORT DIFFERS"
            print(
                f"  {name:11s} cpu {cpu:5.2f} s  wall {wall:5.2f} s  "
                f"(x{cpu / base_cpu:.2f} cpu, x{wall / base_wall:.2f} wall)  {same}"
            )
        text = storyboard.read_text()
        moves = list(re.finditer(r"move: (\w+)", text))
        if moves:  # one shot's camera edited: its spans are new, every other one is in the cache
            last = moves[-1]
            other = "pan_left" if last.group(1) != "pan_left" else "pan_right"
            storyboard.write_text(text[: last.start(1)] + other + text[last.end(1) :])
            film = Path(api.render(api.RenderRequest(storyboard, jobs=2, qc=False))["output"]["file"])
            plan = make_plan(load_storyboard(storyboard), None)
            HEARD.clear()
            edited, cpu, wall = timed(lambda: run_qc(film, profile, plan, cache=cache))
            HEARD.clear()
            whole, whole_cpu, whole_wall = timed(lambda: run_qc(film, profile, plan))
            same = "same report" if edited.to_json() == whole.to_json() else "REPORT DIFFERS"
            print(
                f"  after editing the last shot's camera: cpu {cpu:5.2f} s  wall {wall:5.2f} s, whole pass cpu "
                f"{whole_cpu:.2f} s wall {whole_wall:.2f} s (x{cpu / whole_cpu:.2f} cpu)  {same}"
            )


if __name__ == "__main__":
    main()
