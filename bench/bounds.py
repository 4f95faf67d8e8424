"""The least time each render goal of issue 18 allows on this machine: the work no render can skip, part by part.

    python bench/bounds.py            # the 30 s 1280x720 bench film of bench/render.py
    python bench/bounds.py --runs 3   # best of N for every part (default 2)

A ratio goal can be met only if the work a render must do fits in it. In one
run, on the bench film, this measures the honest floor and, alone and in CPU
seconds, each part a default render must do besides x264:

* start: the interpreter and the libraries a render cannot do without (numpy,
  PyAV, skia, pydantic, PyYAML): nothing else can run before the storyboard is read;
* plan: reading, checking and planning the storyboard (its lines spoken);
* drawing: every frame of the film's shots (animatic, into no encoder);
* sound: the soundtrack mixed, encoded to AAC and its true peak checked after encoding
  (the fix of the +1.9 dBTP film); after a line edit, from the mix blocks the edit left;
* checks: the delivery checks' picture, the film decoded and every frame measured
  (the checks must see what x264 made: the bench film decodes to luma 9..255, where
  the drawn frames convert to 16..235).

The least wall time a render can take is its start and plan (one core), then
every other part's CPU spread over all cores with no wait at all, and never less
than its x264 work's own wall time. That assumes nothing else: no stitching,
muxing, signing, report or waiting. An edit re-encodes the edited shot and the
transition beside it (measured: their own frames re-encoded with sora's
settings), draws and measures those frames, and after a line edit mixes again.

The edit goals are ratios to the full render, so they are printed twice: against
the full render measured here, and against a full render that met its own goal
(1.3x the floor), which is what the goals ask of the same machine together.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds, decode_to_raw, honest_floor
from bench.render import keyframes, sora_render, write_storyboard
from sora_cli import api
from sora_cli.qc.measure import Measured
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import FilmSettings
from sora_cli.render.encode import FrameEncoder, VideoSettings
from sora_cli.sound.mix import mix_soundtrack

EDITED = "s002"  # the shot bench/render.py edits (its camera, then its line)
LINE = ('line: "Hold the lantern up."', 'line: "Hold the lantern higher."')
LIBRARIES = "import numpy, av, skia, pydantic, yaml"
GOALS = {"full": 1.3, "picture": 0.20, "line": 0.25}


def start_cpu(runs: int) -> float:
    """CPU of a fresh interpreter importing the libraries a render cannot do without (least of ``runs``)."""
    best = float("inf")
    for _ in range(runs):
        before = cpu_seconds()
        subprocess.run([sys.executable, "-c", LIBRARIES], check=True)
        best = min(best, cpu_seconds() - before)
    return best


def plan_cpu(path: Path, runs: int) -> float:
    """CPU of loading, checking and planning ``path`` in a fresh process, the render's imports done beforehand
    (least of ``runs``): its lines are spoken, as in any render that starts afresh."""
    probe = (
        "import resource, sys; import sora_cli.film; from sora_cli import api;"
        "cpu = lambda: sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)"
        " for f in ('ru_utime', 'ru_stime'));"
        "c = cpu(); api.plan(sys.argv[1]); print(cpu() - c)"
    )
    return min(
        float(
            subprocess.run([sys.executable, "-c", probe, str(path)], check=True, capture_output=True, text=True).stdout
        )
        for _ in range(runs)
    )


def drawing_cpu(path: Path, runs: int) -> dict[str, float]:
    """CPU of drawing each shot's frames (the animatic, into no encoder), least of ``runs`` per shot."""
    plan = api.plan(path)
    best: dict[str, float] = {}
    for _ in range(runs):
        backend = AnimaticBackend()
        backend.open(FilmSettings.from_plan(plan))
        carry = None
        for shot in plan.shots:
            render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
            started = time.process_time()
            for _frame in render:
                pass
            best[shot.id] = min(best.get(shot.id, float("inf")), time.process_time() - started)
            carry = render.carry
        backend.close()
    return best


def sound_cpu(path: Path, work: Path, runs: int) -> tuple[float, float]:
    """CPU of the whole soundtrack (mix, AAC, its true-peak check) from nothing; then of the same after the line
    edit, from the mix blocks the unedited film left in a block cache (as a cached render has them)."""
    plan = api.plan(path)
    whole = after = float("inf")
    text = path.read_text()
    edited = path.with_name("line-edit.yaml")
    edited.write_text(text.replace(*LINE, 1))
    edited_plan = api.plan(edited)
    for run in range(runs):
        blocks = work / f"blocks{run}"
        before = cpu_seconds()
        mix_soundtrack(plan, work / f"whole{run}.m4a", cache_dir=blocks)
        whole = min(whole, cpu_seconds() - before)
        before = cpu_seconds()
        mix_soundtrack(edited_plan, work / f"after{run}.m4a", cache_dir=blocks)
        after = min(after, cpu_seconds() - before)
    return whole, after


def checks_cpu(film: Path, runs: int) -> tuple[float, float, int]:
    """CPU of decoding the film, and of decoding and measuring every frame as the checks do (least of ``runs``)."""
    import av

    decode = measure = float("inf")
    frames = 0
    for _ in range(runs):
        started = time.process_time()
        with av.open(str(film)) as container:
            frames = sum(1 for _ in container.decode(container.streams.video[0]))
        decode = min(decode, time.process_time() - started)
        started = time.process_time()
        measured = Measured(sink=lambda times, cells: None)
        with av.open(str(film)) as container:
            for frame in container.decode(container.streams.video[0]):
                measured.add(frame, 0.0, (16, 235), (16, 240))
        measure = min(measure, time.process_time() - started - decode)
    return decode, measure, frames


def edit_floor(report: dict, cache: Path, runs: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of re-encoding, with sora's settings, exactly what a one-shot edit of the edited shot
    encodes: that shot file's own frames and the transition's beside it (decoded to raw beforehand, untimed)."""
    shots = {s["id"]: s for s in report["shots"]}
    shot_file = cache / "shots" / shots[EDITED]["content_hash"][:2] / f"{shots[EDITED]['content_hash']}.mp4"
    transitions = sorted((cache / "transitions").rglob("*.mp4"))
    files = [shot_file, *transitions[:1]]  # the bench film has one transition: the crossfade beside the edited shot
    wall = cpu = float("inf")
    frames = 0
    with tempfile.TemporaryDirectory(prefix="sora-bounds-") as tmp:
        raws = []
        for i, f in enumerate(files):
            raw = Path(tmp) / f"{i}.raw"
            n, w, h, fps = decode_to_raw(f, raw)
            raws.append((raw, n, w, h, fps))
        for _ in range(runs):
            before, started, frames = cpu_seconds(), time.perf_counter(), 0
            for raw, n, w, h, fps in raws:
                data = np.memmap(raw, dtype=np.uint8, mode="r", shape=(n, h, w, 4))
                encoder = FrameEncoder(Path(tmp) / "edit.mp4", VideoSettings(w, h, fps), [0])
                for k in range(n):
                    encoder.write(data[k])
                encoder.close()
                frames += n
                del data
            wall, cpu = min(wall, time.perf_counter() - started), min(cpu, cpu_seconds() - before)
    return wall, cpu, frames


def least(serial: float, parallel_cpu: float, x264_wall: float, cores: int) -> float:
    """The least wall time: the serial part, then the rest on every core, never faster than x264 alone."""
    return serial + max(parallel_cpu / cores, x264_wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="best of N for every part (default 2)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="sora-bounds-bench-") as tmp:
        work = Path(tmp)
        path = write_storyboard(work / "film", 6, 5.0, 1280, 720, 24)
        fulls = [sora_render(path, "--no-cache") for _ in range(args.runs)]
        full_wall, report = min(fulls, key=lambda r: r[0])
        sora_render(path)  # (fills the cache: the shot file and transition an edit re-encodes)
        film = Path(report["output"]["file"])
        floor = min(
            (honest_floor(film, VideoSettings(1280, 720, 24), keyframes(report)) for _ in range(args.runs)),
            key=lambda f: f.encode_seconds,
        )
        start, plan = start_cpu(args.runs + 1), plan_cpu(path, args.runs)
        drawing = drawing_cpu(path, args.runs)
        sound, after_line = sound_cpu(path, work, args.runs)
        decode, measure, frames = checks_cpu(film, args.runs)
        edit_wall, edit_cpu, edit_frames = edit_floor(report, path.parent / ".sora-cache", args.runs)

    serial = start + plan
    drawn = sum(drawing.values())
    checks = decode + measure
    per_frame_checks = checks / frames
    print(f"machine: {cores} cores; the bench film: {frames} frames, 1280x720, 24 fps (best of {args.runs})")
    print(
        f"honest floor: {floor.encode_seconds:.2f} s wall, {floor.cpu_seconds:.2f} s CPU;"
        f" full render measured here: {full_wall:.2f} s ({full_wall / floor.encode_seconds:.2f}x)"
    )
    print("CPU seconds of each part, alone:")
    print(f"  start (interpreter, {LIBRARIES[7:]}): {start:.2f}")
    print(f"  plan (load, check, plan, speak): {plan:.2f}")
    print(f"  drawing, every shot: {drawn:.2f} ({1000 * drawn / frames:.2f} ms a film frame)")
    print(
        f"  sound (mix, AAC, true-peak check): {sound:.2f}; after the line edit, from the mix blocks left: {after_line:.2f}"
    )
    print(f"  checks: decoding the film {decode:.2f}, measuring its frames {measure:.2f}")
    print(f"  an edit's x264: {edit_frames} frames re-encoded in {edit_wall:.2f} s wall, {edit_cpu:.2f} s CPU")

    full = least(serial, floor.cpu_seconds + drawn + sound + checks, floor.encode_seconds, cores)
    shot_drawing = drawing[EDITED]
    picture = least(serial, edit_cpu + shot_drawing + per_frame_checks * edit_frames, edit_wall, cores)
    line = least(serial, edit_cpu + shot_drawing + per_frame_checks * edit_frames + after_line, edit_wall, cores)
    at_goal = GOALS["full"] * floor.encode_seconds
    print(
        f"1. full render: at least {full:.2f} s = {full / floor.encode_seconds:.2f}x the floor"
        f" (goal <= {GOALS['full']}; {'reachable' if full / floor.encode_seconds <= GOALS['full'] else 'OUT OF REACH'})"
    )
    for name, least_s in (("picture", picture), ("line", line)):
        goal = GOALS[name]
        print(
            f"2{'a' if name == 'picture' else 'b'}. {name} edit: at least {least_s:.2f} s ="
            f" {least_s / full_wall:.2f} of the full render measured here,"
            f" {least_s / at_goal:.2f} of a full render at its goal ({at_goal:.2f} s) (goal <= {goal};"
            f" {'reachable' if least_s / at_goal <= goal else 'OUT OF REACH together with goal 1'})"
        )
    print(json.dumps({"cores": cores, "floor": floor.encode_seconds, "full": full, "picture": picture, "line": line}))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
