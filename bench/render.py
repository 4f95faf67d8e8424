"""Render speed, incremental re-render, stitching and cost growth, as ratios measured in one run.

    python bench/render.py            # 1-3, plus the 30 s vs 5 min growth at 720p
    python bench/render.py --quick    # skip the growth runs
    python bench/render.py --long     # the growth runs go to a 10-minute film (about 20x the frames)
    python bench/render.py --runs N   # best of N for every timing (default 3)

The baseline of every render ratio is the honest floor (bench/common.py): the
film sora made, decoded to raw frames and encoded again with exactly sora's
settings, in the same run.

1. full render of a 30 s 1280x720 24 fps film with sound / its honest floor (goal <= 1.3, stretch 1.1;
   bench/bounds.py measures the least each goal allows on this machine)
2. re-render after editing one shot's picture / the full render (goal <= 0.20);
   after editing one line of dialogue / the full render (goal <= 0.25)
3. stitching the same shot files with the same transitions: moviepy / sora (goal >= 5)
4. 30 s vs a longer film at 1280x720: time ratio / frame ratio (goal <= 1.05) and peak RSS ratio (goal <= 1.1)
5. the watch loop: from saving a one-shot edit to the new draft film (goal <= 1 s; bench/watch.py, 4 edits)
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

from bench.common import EXAMPLES, cpu_seconds, descendants, honest_floor
from sora_cli.render.encode import VideoSettings

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
    """``count`` shots: the bench film's six, repeated, so that a longer film has the same work in every frame
    (growth is judged per frame against the 30 s film; until issue 18's third round the longer films also cycled
    storm and snow and had twice the crossfades per minute, work the 30 s film they are divided by never had)."""
    out = []
    for i in range(count):
        j = i % 6  # its place in the six
        cont = "continue" if j % 3 == 1 else "cut"
        trans = "{type: crossfade, duration: 0.5}" if j % 3 == 0 and j else "{type: cut}"
        weather = ["fog", "rain"][j // 3]
        out.append(
            f"  - {{id: s{i:03d}, duration: {seconds}, continuity: {cont}, transition: {trans}, cast: [nora, ben], props: [lantern],"
            f' action: "Nora walks towards Ben", camera: {{framing: {["wide", "medium", "close_up"][j % 3]}, move: pan_right}},'
            f" set: {{weather: {weather}}}, sfx: [{{sound: splash, at: 1.0}}],"
            f' dialogue: [{{speaker: {["nora", "ben"][j % 2]}, line: "{LINES[j % 4]}", at: 0.5}}]}}'
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
    """Wall seconds of ``sora render`` and its report (with its CPU seconds, all processes, as ``bench_cpu``)."""
    cpu = cpu_seconds()
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--json", "-q", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    report = json.loads(out.stdout)
    report["bench_cpu"] = cpu_seconds() - cpu
    return wall, report


def stages(wall: float, report: dict) -> str:
    """Where a render's wall time went, from its report: the process starting (interpreter, imports, arguments),
    loading and planning (with any wait for the sound after the picture), the picture (the sound mixed beside
    it), then the transitions still to make, the assembly, signing and checks."""
    t = report["timings"]
    before = t["total_seconds"] - t["picture_seconds"] - t["assemble_seconds"]
    return (
        f"start-up {wall - t['total_seconds']:.2f} s, load and plan (and waiting for the sound) {before:.2f} s,"
        f" picture {t['picture_seconds']:.2f} s, transitions/assemble/sign/check {t['assemble_seconds']:.2f} s"
    )


def keyframes(report: dict) -> list[int]:
    """The frames where sora's shot files start (where its encoder forces an IDR)."""
    fps = report["output"]["fps"]
    return sorted({round(shot["start"] * fps) for shot in report["shots"]})


def full_and_incremental(work: Path, runs: int) -> tuple[Path, dict]:
    fulls, pictures, lines, floors, cpus, floor_cpus = [], [], [], [], [], []
    reports: dict[str, list[tuple[float, dict]]] = {"full": [], "picture": [], "line": []}
    for rep in range(runs):
        path = write_storyboard(work / f"thirty{rep}", 6, 5.0, 1280, 720, 24)
        full, report = sora_render(path)
        fulls.append(full)
        reports["full"].append((full, report))
        cpus.append(report["bench_cpu"])
        floor = honest_floor(Path(report["output"]["file"]), VideoSettings(1280, 720, 24), keyframes(report))
        floors.append(floor.encode_seconds)
        floor_cpus.append(floor.cpu_seconds)
        text = path.read_text()
        path.write_text(text.replace("framing: close_up, move: pan_right", "framing: medium, move: pan_right", 1))
        picture, report2 = sora_render(path)
        pictures.append(picture)
        reports["picture"].append((picture, report2))
        path.write_text(path.read_text().replace('line: "Hold the lantern up."', 'line: "Hold the lantern higher."', 1))
        line, report3 = sora_render(path)
        lines.append(line)
        reports["line"].append((line, report3))
    full, floor, picture, line = min(fulls), min(floors), min(pictures), min(lines)
    frames = report["output"]["frames"]
    print(
        f"(best of {runs}; full renders {', '.join(f'{t:.2f}' for t in fulls)} s; floors {', '.join(f'{t:.2f}' for t in floors)} s)"
    )
    print(
        f"1. full render, {report['output']['duration']:.1f} s film, {frames} frames: {full:.2f} s;"
        f" honest floor (its own frames re-encoded with its settings): {floor:.2f} s;"
        f" ratio {full / floor:.2f} (goal <= 1.3, stretch 1.1)"
    )
    print(
        f"1'. CPU (all processes, user + system): full render {min(cpus):.1f} s, floor {min(floor_cpus):.1f} s;"
        f" ratio {min(cpus) / min(floor_cpus):.2f} (what is not encoding costs this much on top, whatever the load)"
    )
    print(
        f"2a. re-render after editing one shot's picture (its camera): {picture:.2f} s,"
        f" rendered {report2['rendered']}; ratio to the full render {picture / full:.2f} (goal <= 0.20)"
    )
    print(
        f"2b. re-render after editing one line of dialogue (its shot's picture and the mix): {line:.2f} s,"
        f" rendered {report3['rendered']}; ratio to the full render {line / full:.2f} (goal <= 0.25)"
    )
    for name, runs_of in reports.items():
        print(
            f"   where the best {name} render's {min(runs_of, key=lambda r: r[0])[0]:.2f} s went: {stages(*min(runs_of, key=lambda r: r[0]))}"
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


def _tree_rss(root: int) -> tuple[int, int]:
    """Resident KiB of ``root`` and all its descendants right now, and of the largest of them (Linux /proc)."""
    rss = []
    for pid in descendants(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss.append(next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0))
    return sum(rss), max(rss, default=0)


def measured_render(work: Path, minutes: float) -> tuple[float, int, int, int]:
    """Seconds, frames, peak RSS of the largest process and of all processes at once (KiB), uncached, 720p.

    Memory is sampled from /proc every 50 ms, not read from ``getrusage``: a child's
    ``ru_maxrss`` starts at its parent's, and this bench's own process has mapped the
    floor's raw frames (2.5 GB) by the time it starts the growth runs.
    """
    count = max(1, round(minutes * 60 / 5))
    path = write_storyboard(work / f"grow{minutes}", count, 5.0, 1280, 720, 24)
    probe = (
        "import time; from sora_cli.film import RenderRequest, render_film;"
        f"t = time.perf_counter(); r = render_film(RenderRequest({str(path)!r}, jobs=2, use_cache=False));"
        "print(time.perf_counter() - t, r['output']['frames'])"
    )
    proc = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, text=True)
    together = largest = 0
    while proc.poll() is None:
        total, one = _tree_rss(proc.pid)
        together, largest = max(together, total), max(largest, one)
        time.sleep(0.05)
    out = proc.communicate()[0].split()
    if proc.returncode:
        raise SystemExit(f"the {minutes:g} min render failed")
    return float(out[0]), int(out[1]), largest, together


def growth(work: Path, minutes: float, runs: int) -> None:
    short = min((measured_render(work, 0.5) for _ in range(runs)), key=lambda r: r[0])
    long = min((measured_render(work, minutes) for _ in range(max(1, runs - 1))), key=lambda r: r[0])
    frames = long[1] / short[1]
    print(
        f"4. 1280x720: 30 s film {short[0]:.2f} s, peak {short[2] / 1024:.0f} MiB; {minutes:g} min film {long[0]:.2f} s,"
        f" peak {long[2] / 1024:.0f} MiB; {frames:.1f}x the frames took {long[0] / short[0]:.2f}x the time"
        f" ({long[0] / short[0] / frames:.2f} per frame, goal <= 1.05) and {long[2] / short[2]:.2f}x the memory"
        " of the largest process (goal <= 1.1)"
    )
    print(
        f"4'. all processes at once (sampled every 50 ms): 30 s film {short[3] / 1024:.0f} MiB,"
        f" {minutes:g} min film {long[3] / 1024:.0f} MiB, {long[3] / max(short[3], 1):.2f}x"
    )


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    work = Path(tempfile.mkdtemp(prefix="sora-bench-"))
    try:
        path, report = full_and_incremental(work, runs)
        stitching(work, path, report)
        from bench import watch  # (it builds its storyboard with this module's write_storyboard)

        print("5. the watch loop (`sora watch` on the same film, drawn as its 640x360 12 fps draft):")
        watch.measure(work / "watch", 4)
        if "--quick" not in sys.argv:
            growth(work, 10.0 if "--long" in sys.argv else 5.0, runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
