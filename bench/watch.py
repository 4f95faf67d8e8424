"""Edit-to-preview latency of ``sora watch`` on the 30 s bench film, against a cold ``sora render --draft``.

    python bench/watch.py            # 8 picture edits and 4 line edits
    python bench/watch.py --edits 4

The bench storyboard (six 5 s shots, 1280x720 24 fps, drawn as a 640x360 12 fps draft)
is watched by ``sora watch --json`` in a subprocess. Each edit changes one shot that no
``continue`` shot follows (so exactly one shot is redrawn) and is saved the way an editor
saves (a temp file renamed over the storyboard); the latency runs from just before the
rename to the moment the new film is in place (its inode changes: the render publishes it
by rename). Line edits change one line of dialogue: that shot's lip-sync and the sound.

The baseline, measured in the same run: the same one-shot edit re-rendered by a fresh
``sora render --draft`` process (Python start-up included), what one did before the watch
loop existed. Goal: a picture edit in at most 1 s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from queue import Queue

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.render import write_storyboard

#: shots that no continue shot follows: editing one redraws only it
LONE_SHOTS = ["s002", "s005", "s001", "s004"]
TIMEOUT = 300


def save(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def edit_action(text: str, shot: str, n: int) -> str:
    """The shot's action (drawn as its caption) says another take: its picture changes, its sound does not."""
    head, tail = text.split(f"id: {shot},", 1)
    tail = re.sub(
        r'action: "Nora walks towards Ben[^"]*"', f'action: "Nora walks towards Ben, take {n}"', tail, count=1
    )
    return head + f"id: {shot}," + tail


def edit_line(text: str, shot: str, n: int) -> str:
    """The shot's line starts with another take number: its lip-sync and the sound around it change."""
    head, tail = text.split(f"id: {shot},", 1)
    tail = re.sub(r'line: "(?:Take \d+\. )?', f'line: "Take {n}. ', tail, count=1)
    return head + f"id: {shot}," + tail


def inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def wait_new(film: Path, old: int | None) -> float:
    deadline = time.monotonic() + TIMEOUT
    while inode(film) == old:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{film} did not change within {TIMEOUT} s")
        time.sleep(0.002)
    return time.perf_counter()


def cold_render(path: Path) -> tuple[float, float]:
    """One-shot edit, re-rendered by a fresh ``sora render --draft`` process: wall and processor seconds."""
    import resource

    save(path, edit_action(path.read_text(), "s003", 0))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--draft", "-q", "--no-qc"],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime


def watch_edits(path: Path, edits: int, lines: int) -> tuple[list[tuple[float, dict]], list[tuple[float, dict]]]:
    film = path.with_name(path.stem + ".draft.mp4")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sora_cli", "watch", str(path), "--json", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    updates: Queue = Queue()
    threading.Thread(target=lambda: [updates.put(json.loads(x)) for x in proc.stdout], daemon=True).start()
    try:
        first = updates.get(timeout=TIMEOUT)
        assert first["ok"], first
        picture: list[tuple[float, dict]] = []
        spoken: list[tuple[float, dict]] = []
        for n in range(edits + lines):
            shot = LONE_SHOTS[n % len(LONE_SHOTS)]
            text = path.read_text()
            text = edit_action(text, shot, n + 1) if n < edits else edit_line(text, shot, n + 1)
            old = inode(film)
            time.sleep(0.3)  # the previous update's events are settled
            started = time.perf_counter()
            save(path, text)
            latency = wait_new(film, old) - started
            update = updates.get(timeout=TIMEOUT)
            assert update["ok"], update
            (picture if n < edits else spoken).append((latency, update))
        return picture, spoken
    finally:
        proc.send_signal(2)
        proc.wait(timeout=60)


def summary(name: str, runs: list[tuple[float, dict]]) -> str:
    times = [t for t, _ in runs]
    redrawn = sorted({s for _, u in runs for s in u["rendered"]})
    sound = sorted({u["sound"] for _, u in runs})
    return (
        f"{name}: best {min(times):.2f} s, median {statistics.median(times):.2f} s, worst {max(times):.2f} s"
        f" over {len(times)} edits (shots redrawn per edit: {sorted({len(u['rendered']) for _, u in runs})},"
        f" of {redrawn}; sound {'/'.join(sound)}); the update itself: median"
        f" {statistics.median(u['seconds'] for _, u in runs):.2f} s, processor time"
        f" {statistics.median(u['cpu_seconds'] for _, u in runs):.2f} s (less load-dependent)"
    )


def measure(work: Path, edits: int) -> None:
    """Print the watch loop's latencies for ``edits`` picture edits (and half as many line edits), and the baseline."""
    path = write_storyboard(work / "thirty", 6, 5.0, 1280, 720, 24)
    subprocess.run(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--draft", "-q", "--no-qc"], check=True
    )  # the cache holds the film's draft, as after any earlier render
    cold, cold_cpu = cold_render(path)
    picture, spoken = watch_edits(path, edits, max(1, edits // 2))
    best = min(t for t, _ in picture)
    print(
        f"baseline: one-shot edit re-rendered by a fresh `sora render --draft`: {cold:.2f} s"
        f" ({cold_cpu:.2f} s of processor time)"
    )
    print(summary("watch, one shot's picture edited", picture) + " (goal: <= 1 s)")
    print(summary("watch, one line of dialogue edited", spoken))
    print(
        f"ratio, picture edit / cold re-render (medians): wall {statistics.median(t for t, _ in picture) / cold:.2f},"
        f" processor time {statistics.median(u['cpu_seconds'] for _, u in picture) / cold_cpu:.2f}"
    )
    print(f"best picture edit {best:.2f} s: {'within' if best <= 1.0 else 'over'} the 1 s goal")


def main() -> None:
    edits = int(sys.argv[sys.argv.index("--edits") + 1]) if "--edits" in sys.argv else 8
    work = Path(tempfile.mkdtemp(prefix="sora-bench-watch-"))
    try:
        print(
            f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} cores"
        )
        measure(work, edits)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
