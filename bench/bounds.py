"""The least time each render goal of issue 18 allows on this machine: the work no render can skip, part by part.

    python bench/bounds.py            # the 30 s 1280x720 bench film of bench/render.py
    python bench/bounds.py --runs 3   # best of N for every part (default 2)

A ratio goal can be met only if the work a render must do fits in it. In one
run, on the bench film, this measures the honest floor and, alone and in CPU
seconds, each part every default render must do:

* start: the interpreter and the libraries a render cannot do without (numpy,
  PyAV, skia, pydantic, PyYAML): nothing else can run before the storyboard is read;
* plan: reading, checking and planning the storyboard (its lines spoken);
* drawing: every frame of the film's shots (animatic, into no encoder);
* x264: exactly the drawn frames of each shot, and the transition's, encoded as the
  render encodes them (its FrameEncoder, settings and keyframes);
* sound: the soundtrack mixed, encoded to AAC and its true peak checked after encoding
  (the fix of the +1.9 dBTP film); after a line edit, from the mix blocks the edit left;
* checks: the delivery checks' picture, the film decoded and every frame measured
  (the checks must see what x264 made: the bench film decodes to luma 9..255, where
  the drawn frames convert to 16..235).

The least wall time a render can take is its start and plan (one core), then
every other part's CPU spread over all cores with no wait at all. That leaves
out all else: no stitching, muxing, signing, report or waiting. An edit draws and
encodes the edited shot (drawn from the edited storyboard) and encodes the
transition beside it again, measures those frames for the checks, and after a
line edit mixes and encodes the soundtrack again.

The edit goals are ratios to the full render, so each is judged against the full
render measured in the same run, and it is said how fast a full render may get
before the edit goal cannot hold (and what it would be beside a full render at its
own 1.3x goal: what the goals ask of the same machine together). The last line is
the figures as JSON.

The goals' unit is the floor's wall time, which other work on the cores stretches
far more than it moves the parts' CPU seconds: the CPU every other process of the
machine used while the floor was timed is read from ``/proc/stat``, and above 5% of
the cores the verdicts are withheld ("no verdict: the machine was busy"). Run it
on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import cpu_seconds, honest_floor
from bench.render import keyframes, sora_render, write_storyboard
from sora_cli import api
from sora_cli.qc.measure import Measured
from sora_cli.render.animatic.backend import AnimaticBackend
from sora_cli.render.backend import FilmSettings
from sora_cli.render.encode import FrameEncoder, VideoSettings
from sora_cli.sound.mix import mix_soundtrack

T = TypeVar("T")
EDITED = "s002"  # the shot bench/render.py edits (its camera, then its line)
LINE = ('line: "Hold the lantern up."', 'line: "Hold the lantern higher."')
PICTURE = ("framing: close_up, move: pan_right", "framing: medium, move: pan_right")
LIBRARIES = "import numpy, av, skia, pydantic, yaml"
GOALS = {"full": 1.3, "picture": 0.20, "line": 0.25}
OTHERS = 0.05  # share of the cores other processes may use during the floor before its wall time is unfair


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


@dataclass(frozen=True)
class Shot:
    """One shot's frames drawn, then encoded as the render encodes them (CPU seconds, least of the runs)."""

    frames: int
    drawing: float  # the animatic drawing them, into no encoder
    x264: float  # exactly those frames through sora's FrameEncoder (its pipe and x264), the shot's own keyframes


def drawn(path: Path, runs: int, only: str | None = None) -> dict[str, Shot]:
    """Each shot of ``path`` (``only``: that one, drawn after the shots its chain needs) drawn and then encoded.

    x264 is timed on the frames the render draws, shot by shot, not on the film decoded back: what the
    render's own encoders must do (the bench film's come to about the floor's CPU either way).
    """
    plan = api.plan(path)
    video = VideoSettings(plan.width, plan.height, plan.fps)
    best: dict[str, Shot] = {}
    for _ in range(runs):
        backend = AnimaticBackend()
        backend.open(FilmSettings.from_plan(plan))
        carry = None
        for shot in plan.shots:
            render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
            kept, drawing, at = [], 0.0, time.process_time()
            for frame in render:
                drawing += time.process_time() - at
                if only in (None, shot.id):
                    kept.append(np.array(frame))  # (untimed: kept for the encode)
                at = time.process_time()
            drawing += time.process_time() - at
            carry = render.carry
            if not kept:
                continue
            with tempfile.TemporaryDirectory(prefix="sora-bounds-") as tmp:
                t_in = shot.transition.frames
                encoder = FrameEncoder(Path(tmp) / "shot.mp4", video, [0] + ([t_in] if 0 < t_in < shot.frames else []))
                before = cpu_seconds()
                for frame in kept:
                    encoder.write(frame)
                encoder.close()
                x264 = cpu_seconds() - before
            old = best.get(shot.id)
            best[shot.id] = Shot(
                len(kept), min(drawing, old.drawing if old else drawing), min(x264, old.x264 if old else x264)
            )
            if shot.id == only:
                break
        backend.close()
    return best


def sound_cpu(path: Path, edited: Path, work: Path, runs: int) -> tuple[float, float]:
    """CPU of the whole soundtrack (mix, AAC, its true-peak check) from nothing; then of the same after the line
    edit (``edited``), from the mix blocks the unedited film left in a block cache (as a cached render has them)."""
    plan, edited_plan = api.plan(path), api.plan(edited)
    whole = after = float("inf")
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


def transition_x264(cache: Path, runs: int) -> tuple[float, int]:
    """CPU seconds of re-encoding the film's transition (the crossfade beside the edited shot, the bench film's
    only one) with sora's settings, and its frames: what an edit beside it encodes again (its honest floor)."""
    (transition,) = sorted((cache / "transitions").rglob("*.mp4"))
    best = min((honest_floor(transition) for _ in range(runs)), key=lambda f: f.cpu_seconds)
    return best.cpu_seconds, best.frames


def machine_cpu() -> float:
    """CPU seconds every process of the machine has used since boot (Linux ``/proc/stat``; steal included:
    another machine's work on these cores is other work too)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def with_others(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()``, and the CPU seconds other processes of the machine used meanwhile (all but this one and
    the children it waited for)."""
    machine, ours = machine_cpu(), cpu_seconds()
    result = fn()
    return result, max(0.0, (machine_cpu() - machine) - (cpu_seconds() - ours))


def least(serial: float, parallel_cpu: float, cores: int) -> float:
    """The least wall time: the serial part on one core, then the rest on every core with no wait."""
    return serial + parallel_cpu / cores


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs (1 or more)")
    return int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=_positive, default=2, help="least of N tries of every part (default 2)")
    args = parser.parse_args()
    # SIGTERM (a CI job's timeout) ends it like Ctrl-C, its temp folders removed (the floor's raw frames: 2.6 GB)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    if load > 0.5:  # the floor's wall time is the goals' unit: other work on the cores stretches it
        print(
            f"warning: load average {load:.2f} before the run; the figures are fair on an idle machine", file=sys.stderr
        )
    with tempfile.TemporaryDirectory(prefix="sora-bounds-bench-") as tmp:
        work = Path(tmp)
        path = write_storyboard(work / "film", 6, 5.0, 1280, 720, 24)
        fulls = [sora_render(path, "--no-cache") for _ in range(args.runs)]
        full_wall, report = min(fulls, key=lambda r: r[0])
        sora_render(path)  # (fills the cache: the transition an edit makes again)
        film = Path(report["output"]["file"])
        floor, others = min(
            (
                with_others(lambda: honest_floor(film, VideoSettings(1280, 720, 24), keyframes(report)))
                for _ in range(args.runs)
            ),
            key=lambda f: f[0].encode_seconds,
        )
        start, plan = start_cpu(args.runs + 1), plan_cpu(path, args.runs)
        shots = drawn(path, args.runs)
        text = path.read_text()
        edited = {name: path.with_name(f"{name}-edit.yaml") for name in ("picture", "line")}
        edits = {}
        for name, (old, new) in (("picture", PICTURE), ("line", LINE)):
            edited[name].write_text(text.replace(old, new, 1))
            edits[name] = drawn(edited[name], args.runs, EDITED)[EDITED]
        transition, transition_frames = transition_x264(path.parent / ".sora-cache", args.runs)
        sound, after_line = sound_cpu(path, edited["line"], work, args.runs)
        decode, measure, frames = checks_cpu(film, args.runs)

    serial = start + plan
    drawing = sum(s.drawing for s in shots.values())
    x264 = sum(s.x264 for s in shots.values()) + transition
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
    print(f"  drawing, every shot: {drawing:.2f} ({1000 * drawing / frames:.2f} ms a film frame)")
    print(
        f"  x264 of the drawn shots and the transition, as the render encodes them: {x264:.2f}"
        f" (the floor's re-encode of the decoded film: {floor.cpu_seconds:.2f})"
    )
    print(
        f"  sound (mix, AAC, true-peak check): {sound:.2f}; after the line edit, from the mix blocks left: {after_line:.2f}"
    )
    print(f"  checks: decoding the film {decode:.2f}, measuring its frames {measure:.2f}")
    for name, shot in edits.items():
        print(
            f"  the {name} edit's shot {EDITED}: drawing {shot.drawing:.2f}, x264 {shot.x264:.2f} ({shot.frames} frames);"
            f" the transition beside it, x264 {transition:.2f} ({transition_frames} frames)"
        )

    full = least(serial, x264 + drawing + sound + checks, cores)
    bounds = {"full": full}
    for name, shot in edits.items():
        edit_cpu = shot.x264 + transition + shot.drawing + per_frame_checks * (shot.frames + transition_frames)
        bounds[name] = least(serial, edit_cpu + (after_line if name == "line" else 0.0), cores)
    at_goal = GOALS["full"] * floor.encode_seconds
    # other work on the cores stretches the floor's wall time, the goals' unit, far more than the parts' CPU: a
    # floor that shared the machine flatters every bound, so then there is no verdict
    shared = others / (floor.encode_seconds * cores)
    busy = shared > OTHERS

    def verdict(met: bool, otherwise: str = "OUT OF REACH") -> str:
        return "no verdict: the machine was busy" if busy else "reachable" if met else otherwise

    if busy:
        print(
            f"warning: other processes used {100 * shared:.0f}% of the cores while the floor was timed;"
            " run again on an idle machine",
            file=sys.stderr,
        )
    print(
        f"1. full render: at least {full:.2f} s = {full / floor.encode_seconds:.2f}x the floor"
        f" (goal <= {GOALS['full']}: {verdict(full / floor.encode_seconds <= GOALS['full'])})"
    )
    for mark, name in (("2a", "picture"), ("2b", "line")):
        goal, bound = GOALS[name], bounds[name]
        print(
            f"{mark}. {name} edit: at least {bound:.2f} s = {bound / full_wall:.2f} of the full render measured here"
            f" (goal <= {goal}: {verdict(bound / full_wall <= goal)}); it can hold only while a full render takes"
            f" {bound / goal:.2f} s or more ({bound / goal / floor.encode_seconds:.2f}x the floor): beside a full render"
            f" at its goal ({at_goal:.2f} s) it would be {bound / at_goal:.2f}"
            f" ({verdict(bound / at_goal <= goal, 'the two goals cannot both hold')})"
        )
    print(
        json.dumps(
            {
                "cores": cores,
                "busy": busy,
                "others_share": round(shared, 3),
                "floor": floor.encode_seconds,
                "measured_full": full_wall,
                **bounds,
            }
        )
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
