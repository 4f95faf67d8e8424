"""Peak memory of a 720p render, per process and per stage, at several film lengths.

    python bench/memory.py                 # 0.5 and 2 minute films
    python bench/memory.py 0.5 2 10        # the lengths, in minutes
    python bench/memory.py --runs 2 0.5 2  # each length rendered N times (the figures: the lowest peak)

Renders the bench storyboard of ``bench/render.py`` (1280x720, 24 fps, 5 s shots)
with ``sora render --jobs 2 --no-cache`` and samples the resident memory of every
process of the render from /proc every 25 ms. Each sample is put under the stage
the render's driver last announced (``sora: picture``, ``sora: assemble``, ...)
and under the process's role: the driver, the sound worker (its first forked
child, started before the picture), the picture workers (its later forked
children), the signing child (``-P -c ... _sign_and_verify_job``) and ffmpeg.
It prints the peak of each role in each stage, the largest process's peak, and
the CPU seconds of the whole render (user + system, every process), so a change
can be compared with the old code on the same lengths in the same run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, descendants
from bench.render import write_storyboard

INTERVAL = 0.025


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Roles:
    """Names the processes of a render as they appear (see the module doc).

    A process the driver forks to run a program (ffmpeg) shows the driver's command line
    until it execs, so a fork is named a worker only once it has kept that command line
    for :data:`SETTLE` seconds; the forks settling at once are named in the order of their ids.
    """

    SETTLE = 0.3

    def __init__(self, root: int):
        self.root = root
        self.names: dict[int, str] = {root: "driver"}
        self.forks = 0
        self.command = ""  # the driver's command line (read once it has exec'd python)
        self.seen: dict[int, float] = {}

    def name(self, pid: int) -> str:
        if not self.command and "sora_cli" in (command := _cmdline(self.root)):
            self.command = command
        if pid not in self.names:
            cmd = _cmdline(pid)
            if not cmd:  # (gone, or between fork and exec: named when seen again)
                return "other"
            if "_sign_and_verify_job" in cmd:
                self.names[pid] = "signing child"
            elif "ffmpeg" in cmd.split(" ", 1)[0]:
                self.names[pid] = "ffmpeg"
            elif cmd == self.command and pid != self.root:
                now = time.perf_counter()
                self.seen.setdefault(pid, now)
                settled = sorted(p for p, t in self.seen.items() if now - t >= self.SETTLE and p not in self.names)
                for p in settled:
                    self.forks += 1
                    self.names[p] = "sound worker" if self.forks == 1 else "picture worker"
                if pid not in self.names:
                    return "fork (new)"
            else:
                self.names[pid] = Path(cmd.split(" ", 1)[0]).name or "other"
        return self.names[pid]


def render(minutes: float, work: Path) -> dict:
    """One uncached 720p render of a ``minutes`` film; its per-stage, per-role peaks (KiB) and CPU seconds."""
    count = max(1, round(minutes * 60 / 5))
    path = write_storyboard(work / f"m{minutes:g}", count, 5.0, 1280, 720, 24)
    # this tree's code, in the render and in its signing child (which leaves the working directory off sys.path)
    env = dict(os.environ, NO_COLOR="1", PYTHONWARNINGS="ignore", PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--jobs", "2", "--no-cache"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    stage = ["start"]
    errors: list[str] = []

    def follow() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            text = line.strip()
            if text.startswith("sora: ") and not text.startswith("sora:  "):  # (a stage; not a shot's line)
                stage[0] = text[len("sora: ") :]
            elif not text.startswith(("sora:", "wrote", "shots")):
                errors.append(text)

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    roles = Roles(proc.pid)
    peaks: dict[tuple[str, str], int] = defaultdict(int)
    entered: dict[tuple[str, str], int] = {}  # the first sample of each process in each stage
    largest = together = 0
    status = rusage = None
    while True:
        done, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if done:
            break
        total = 0
        for pid in descendants(proc.pid):
            kib = _rss_kib(pid)
            key = (stage[0], roles.name(pid))
            peaks[key] = max(peaks[key], kib)
            entered.setdefault(key, kib)
            largest = max(largest, kib)
            total += kib
        together = max(together, total)
        time.sleep(INTERVAL)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if proc.returncode not in (0, 3):
        raise SystemExit(f"the {minutes:g} min render failed ({proc.returncode}): {' '.join(errors[-3:])}")
    assert rusage is not None
    return {
        "wall": time.perf_counter() - started,
        "cpu": rusage.ru_utime + rusage.ru_stime,
        "peaks": dict(peaks),
        "entered": entered,
        "largest": largest,
        "together": together,
        "film_mb": (path.with_suffix(".mp4").stat().st_size / 1e6),
    }


def main() -> None:
    args = sys.argv[1:]
    runs = 1
    if "--runs" in args:
        at = args.index("--runs")
        runs = int(args[at + 1])
        del args[at : at + 2]
    lengths = [float(a) for a in args] or [0.5, 2.0]
    results = {}
    with tempfile.TemporaryDirectory(prefix="sora-memory-") as tmp:
        for minutes in lengths:
            results[minutes] = min((render(minutes, Path(tmp)) for _ in range(runs)), key=lambda r: r["largest"])
    stages = sorted({key for r in results.values() for key in r["peaks"]})
    print(f"{'stage / process: MiB on entry, peak':44}" + "".join(f"{m:>11g} min" for m in lengths))
    for key in stages:
        cells = "".join(
            f"{results[m]['entered'].get(key, 0) / 1024:>8.0f}{results[m]['peaks'].get(key, 0) / 1024:>7.0f}"
            for m in lengths
        )
        print(f"{key[0] + ' / ' + key[1]:44}{cells}")
    for label, field in (("largest process", "largest"), ("all processes at once", "together")):
        print(f"{label:44}" + "".join(f"{results[m][field] / 1024:>15.0f}" for m in lengths))
    print(f"{'film MB':44}" + "".join(f"{results[m]['film_mb']:>15.1f}" for m in lengths))
    print(f"{'CPU s (all processes)':44}" + "".join(f"{results[m]['cpu']:>15.1f}" for m in lengths))
    print(f"{'wall s':44}" + "".join(f"{results[m]['wall']:>15.1f}" for m in lengths))
    base = results[lengths[0]]
    for m in lengths[1:]:
        print(
            f"{m:g} min / {lengths[0]:g} min: largest process {results[m]['largest'] / base['largest']:.2f}x,"
            f" all at once {results[m]['together'] / base['together']:.2f}x (goal for the largest: <= 1.1x)"
        )


if __name__ == "__main__":
    main()
