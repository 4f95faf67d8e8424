"""Render speed, incremental re-render, stitching and memory, as ratios measured in one run.

    python bench/render.py            # all four
    python bench/render.py --quick    # skip the 10-minute memory run

1. full render of a 30 s 1280x720 24 fps film with sound / bare x264 encode of as many frames (goal <= 1.5)
2. re-render after editing one shot of six / the full render (goal <= 0.3)
3. stitching the same shot files with the same transitions: moviepy / sora (goal >= 5)
4. peak RSS rendering a 10-minute film / a 1-minute one (goal within 20%)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, bare_x264_seconds

SIX_SHOTS = """\
version: 1
title: Bench
seed: 3
output: {{width: {w}, height: {h}, fps: {fps}, subtitles: sidecar}}
world:
  location: "old fishing harbour by the sea"
  time_of_day: dusk
  weather: fog
  characters:
    nora: {{description: "designer in a blue raincoat", reference: [assets/nora.png]}}
    ben: {{description: "fisherman in a yellow oilskin", voice: {{voice: en-gb-scotland}}}}
  props:
    lantern: {{description: "a battered storm lantern"}}
audio:
  music: {{file: assets/theme.wav, gain: -16, duck: true}}
shots:
{shots}
"""

LINES = [
    "We should go before the tide turns.",
    "The boat is ready when you are.",
    "Hold the lantern up.",
    "I can barely see the pier.",
]


def shots_text(count: int, seconds: float) -> str:
    out = []
    for i in range(count):
        cont = "continue" if i % 3 == 1 else "cut"
        trans = "{type: crossfade, duration: 0.5}" if i % 3 == 0 and i else "{type: cut}"
        weather = ["fog", "rain", "storm", "snow"][i // 3 % 4]
        out.append(
            f"  - {{id: s{i:03d}, duration: {seconds}, continuity: {cont}, transition: {trans}, cast: [nora, ben], props: [lantern],"
            f' action: "Nora walks towards Ben", camera: {{framing: {["wide", "medium", "close_up"][i % 3]}, move: pan_right}},'
            f" set: {{weather: {weather}}}, sfx: [{{sound: splash, at: 1.0}}],"
            f' dialogue: [{{speaker: {["nora", "ben"][i % 2]}, line: "{LINES[i % 4]}", at: 0.5}}]}}'
        )
    return "\n".join(out)


def write_storyboard(folder: Path, count: int, seconds: float, w: int, h: int, fps: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "assets").exists():
        shutil.copytree(EXAMPLES / "assets", folder / "assets")
    path = folder / "bench.yaml"
    path.write_text(SIX_SHOTS.format(w=w, h=h, fps=fps, shots=shots_text(count, seconds)))
    return path


def sora_render(path: Path, *args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--json", "-q", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, json.loads(out.stdout)


def full_and_incremental(work: Path) -> None:
    path = write_storyboard(work / "thirty", 6, 5.0, 1280, 720, 24)
    full, report = sora_render(path)
    frames = report["output"]["frames"]
    encode = bare_x264_seconds(frames, 1280, 720, 24)
    print(
        f"1. full render, {report['output']['duration']:.1f} s film, {frames} frames: {full:.2f} s;"
        f" bare x264 encode of {frames} frames: {encode:.2f} s; ratio {full / encode:.2f} (goal <= 1.5)"
    )
    text = path.read_text()
    path.write_text(text.replace("framing: close_up, move: pan_right", "framing: medium, move: pan_right", 1))
    picture, report2 = sora_render(path)
    print(
        f"2a. re-render after editing one shot of six (its camera: picture only): {picture:.2f} s,"
        f" rendered {report2['rendered']}; ratio {picture / full:.2f} (goal <= 0.3)"
    )
    path.write_text(path.read_text().replace('line: "Hold the lantern up."', 'line: "Hold the lantern higher."', 1))
    both, report3 = sora_render(path)
    print(
        f"2b. re-render after editing one shot of six (a line: its picture and the whole film's mix): {both:.2f} s,"
        f" rendered {report3['rendered']}; ratio {both / full:.2f} (goal <= 0.3)"
    )
    return path, report3


def stitching(work: Path, path: Path, report: dict) -> None:
    from sora_cli.assemble.mux import write_film
    from sora_cli.assemble.stitch import plan_segments, video_packets
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.encode import VideoSettings
    from sora_cli.storyboard import load_storyboard

    plan = make_plan(load_storyboard(path))
    cache = path.parent / ".sora-cache" / "shots"
    files = {s["id"]: cache / s["content_hash"][:2] / f"{s['content_hash']}.mp4" for s in report["shots"]}
    video = VideoSettings(plan.width, plan.height, plan.fps)
    tmp = work / "stitch"
    tmp.mkdir(exist_ok=True)
    started = time.perf_counter()
    segments = plan_segments(plan, files, video, tmp)
    write_film(tmp / "sora.mp4", video_packets(segments, plan.fps), files[plan.shots[0].id], None, plan.duration, None)
    ours = time.perf_counter() - started
    try:
        from moviepy import CompositeVideoClip, VideoFileClip, vfx
    except ImportError:
        print(f"3. stitching: sora {ours:.2f} s; moviepy not installed (pip install moviepy) so no ratio")
        return
    started = time.perf_counter()
    clips = []
    for shot in plan.shots:
        clip = VideoFileClip(str(files[shot.id])).with_start(shot.start)
        if shot.transition.type == "crossfade":
            clip = clip.with_effects([vfx.CrossFadeIn(shot.transition.duration)])
        clips.append(clip)
    CompositeVideoClip(clips).with_duration(plan.duration).write_videofile(
        str(tmp / "moviepy.mp4"), fps=plan.fps, codec="libx264", preset="veryfast", audio=False, logger=None
    )
    theirs = time.perf_counter() - started
    print(
        f"3. stitching {len(plan.shots)} shot files with their transitions: sora {ours:.2f} s, moviepy {theirs:.2f} s;"
        f" moviepy/sora {theirs / ours:.1f}x (goal >= 5)"
    )


def peak_rss(work: Path, minutes: float) -> int:
    count = int(minutes * 60 / 10)
    path = write_storyboard(work / f"rss{minutes}", count, 10.0, 320, 180, 12)
    probe = (
        "import resource, sys; from sora_cli.film import RenderRequest, render_film;"
        f"render_film(RenderRequest({str(path)!r}, jobs=2, use_cache=False));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    return max(int(out[0]), int(out[1]))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sora-bench-"))
    try:
        path, report = full_and_incremental(work)
        stitching(work, path, report)
        if "--quick" not in sys.argv:
            one, ten = peak_rss(work, 1), peak_rss(work, 10)
            print(
                f"4. peak RSS (largest process): 1-minute film {one / 1024:.0f} MiB, 10-minute film {ten / 1024:.0f} MiB;"
                f" ratio {ten / one:.2f} (goal within 20%)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
