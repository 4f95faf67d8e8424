"""Where a full render's time goes: py-spy over every process, samples sorted into the stages of the render.

    python bench/profile.py                 # the 30 s 1280x720 bench film of bench/render.py, uncached
    python bench/profile.py STORYBOARD      # any storyboard (rendered uncached into a scratch copy)

py-spy samples the main thread of every Python process of the render (the
conductor, the picture workers, the sound worker) 100 times a second, idle or
not (helper threads are left out). Each sample is put
in the first category whose marker its stack holds, so a process's seconds add
up to its lifetime. The encoders are ffmpeg processes, invisible to py-spy: a
worker blocked feeding one shows as "encoding (feeding x264)", and their own
CPU is the render's CPU minus the Python processes' (printed last).
"""

from __future__ import annotations

import collections
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import descendants
from bench.render import write_storyboard

RATE = 100
#: (category, markers): the first category with a marker in a sample's stack takes the sample
CATEGORIES = [
    ("signing", ("provenance.py",)),
    ("qc", ("sora_cli/qc/",)),
    ("stitching", ("assemble/stitch.py",)),
    ("muxing", ("assemble/mux.py",)),
    ("assembly (other)", ("sora_cli/assemble/",)),
    ("speech", ("sora_cli/speech/",)),
    ("mix", ("sora_cli/sound/",)),
    ("encoding (feeding x264)", ("render/encode.py",)),
    ("drawing", ("render/animatic/", "sora_cli/textfit.py", "sora_cli/fonts.py")),
    ("shot cache", ("render/cache.py",)),
    ("planning", ("sora_cli/plan/", "sora_cli/storyboard/")),
    ("start-up (imports)", ("_find_and_load",)),
    ("waiting", ("wait (", "select (", "Condition.wait", "_recv", "poll (", "get (multiprocessing", "_wait_for_tstate_lock")),
]


def _cpu_and_kind(pid: int) -> tuple[float, str] | None:
    """CPU seconds so far and what the process is (x264, the AAC encoder, other ffmpeg, python)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    name = Path(args[0].decode(errors="replace")).name
    if "ffmpeg" in name:
        kind = "x264 (shot encoders)" if b"libx264" in args else "AAC encoder" if b"aac" in args else "ffmpeg (other)"
    elif "py-spy" in name:
        kind = "py-spy"
    else:
        kind = f"python {pid} ({' '.join(a.decode(errors='replace') for a in args[1:4])[:50]})"
    return cpu, kind


def watch_cpu(root: int, seen: dict[int, tuple[float, str]], stop: threading.Event) -> None:
    """Sample the CPU of every process under ``root`` until ``stop`` (a process's last sample is kept)."""
    while not stop.is_set():
        for pid in descendants(root):
            got = _cpu_and_kind(pid)
            if got is not None:
                seen[pid] = got
        stop.wait(0.05)


def categorise(stack: str) -> str:
    for name, markers in CATEGORIES:
        if any(marker in stack for marker in markers):
            return name
    return "other"


def profile(storyboard: Path) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed (pip install -e '.[bench]')")
    with tempfile.TemporaryDirectory(prefix="sora-profile-") as tmp:
        raw = Path(tmp) / "samples.txt"
        cmd = [sys.executable, "-m", "sora_cli", "render", str(storyboard), "--no-cache", "-q", "-o", str(Path(tmp) / "f.mp4")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        spying = subprocess.Popen(
            [spy, "record", "--subprocesses", "--idle", "--threads", "-r", str(RATE), "-f", "raw", "-o", str(raw), "--", *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: dict[int, tuple[float, str]] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_cpu, args=(spying.pid, seen, stop))
        watcher.start()
        _, errors = spying.communicate()
        stop.set()
        watcher.join()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if spying.returncode != 0:
            raise SystemExit(f"the render failed:\n{errors[-2000:]}")
        per_process: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        conductor = ""
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if "_run_module_as_main" not in stack:  # a helper thread (queue feeders, pool managers): not the timeline
                continue
            frames = stack.split(";")
            processes = [f for f in frames if f.startswith("process ")]
            role = "conductor" if len(processes) <= 1 else "worker " + processes[-1].split(":", 1)[0].split()[1]
            if len(processes) <= 1:
                conductor = processes[-1].split(":", 1)[0].split()[1] if processes else ""
            per_process[role][categorise(stack)] += int(count)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"render of {storyboard.name}: {wall:.2f} s wall (py-spy slows it a little), {cpu:.1f} s CPU in all processes")
    totals: collections.Counter[str] = collections.Counter()  # busy seconds by category, every process
    for role, counts in sorted(per_process.items()):
        seconds = sum(counts.values()) / RATE
        print(f"\n{role}: {seconds:.2f} s sampled")
        for name, n in counts.most_common():
            print(f"  {name:26s} {n / RATE:7.2f} s")
            if name != "waiting":
                totals[name] += n
    print("\nall processes, busy (not waiting; time in native code counts as busy):")
    for name, n in totals.most_common():
        print(f"  {name:26s} {n / RATE:7.2f} s")
    cpu_by_kind: collections.Counter[str] = collections.Counter()
    for used, kind in seen.values():
        if kind.startswith(f"python {conductor} "):
            kind = "python: conductor"
        elif kind.startswith("python"):
            kind = "python: " + next((r for r in per_process if r.endswith(" " + kind.split()[1])), kind)
        cpu_by_kind[kind] += used
    print("\nCPU seconds by process (sampled from /proc every 50 ms):")
    for kind, used in cpu_by_kind.most_common():
        print(f"  {kind:32s} {used:7.2f} s")

def main() -> None:
    if len(sys.argv) > 1:
        source = Path(sys.argv[1]).resolve()
        with tempfile.TemporaryDirectory(prefix="sora-profile-sb-") as tmp:
            copy = Path(tmp) / "sb"
            shutil.copytree(source.parent, copy, ignore=shutil.ignore_patterns("*.mp4", ".sora-cache"))
            profile(copy / source.name)
        return
    with tempfile.TemporaryDirectory(prefix="sora-profile-sb-") as tmp:
        profile(write_storyboard(Path(tmp) / "thirty", 6, 5.0, 1280, 720, 24))


if __name__ == "__main__":
    main()
