"""kill -9 a render at random moments and at the moment the film's path changes; check what is left.

    python bench/kill_render.py            # 30 random moments + the targeted kills
    python bench/kill_render.py --kills 5  # fewer

Each round edits the storyboard (a new dialogue line: new subtitles, soundtrack
and report), starts ``sora render`` in its own session, sends SIGKILL after a
random delay drawn from the length of an uninterrupted render, then checks the
folder: the previous complete set or the new complete signed set (every file's
sha256 as the report lists it, the film's C2PA manifest valid), never a mix.
A switch the kill interrupted is finished by the next render (which the check
runs the same way, through ``recover``). Also measured: the scratch and temp
bytes a kill leaves before the next run sweeps them, processes of the killed
render still alive, and whether the final rerun reuses every shot.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sora_cli.outputs import recover, set_paths
from sora_cli.provenance import verify

FILM = """\
version: 1
title: Kill
output: {width: 192, height: 108, fps: 12, subtitles: [sidecar, soft]}
world:
  location: "a city street"
  weather: rain
  characters:
    kim: {description: "courier in green"}
    ann: {description: "baker in white"}
shots:
  - {id: a, duration: 2, cast: [kim], action: "Kim walks", dialogue: [{speaker: kim, line: "LINE"}]}
  - {id: b, duration: 2, cast: [kim, ann], continuity: continue}
  - {id: c, duration: 2, cast: [ann], transition: {type: crossfade, duration: 0.5}}
  - {id: d, duration: 2, cast: [ann, kim], dialogue: [{speaker: ann, line: "Take two."}]}
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state(film: Path) -> str | None:
    """The report's digest of the film when the folder holds one complete signed set; None when empty."""
    report_path = set_paths(film)["report"]
    if not film.exists() and not report_path.exists():
        return None
    report = json.loads(report_path.read_text())
    for name, digest in report["set"].items():
        if sha(film.with_name(name)) != digest:
            raise AssertionError(f"mixed set: {name} does not match its report")
    if verify(film).state not in ("Trusted", "Valid"):
        raise AssertionError("the film is not signed")
    return report["set"][film.name]


def leftovers(tmp: Path, folder: Path) -> int:
    """Bytes of scratch (in TMPDIR) and temp files (beside the film and in the cache) a kill left."""
    total = sum(f.stat().st_size for d in tmp.glob("sora-*") for f in d.rglob("*") if f.is_file())
    return total + sum(f.stat().st_size for f in folder.rglob("*.part") if f.is_file())


def alive_in_session(sid: int) -> int:
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        count += int(fields[3]) == sid and fields[0] != "Z"
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-bench-") as work:
        folder, tmp = Path(work) / "film", Path(work) / "tmp"
        folder.mkdir()
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp)}
        storyboard, film = folder / "film.yaml", folder / "film.mp4"

        def start(line: str, fault: str | None = None) -> subprocess.Popen:
            storyboard.write_text(FILM.replace("LINE", line))
            extra = {"SORA_FAULT": fault} if fault else {}
            return subprocess.Popen(
                [sys.executable, "-m", "sora_cli", "render", str(storyboard), "-q", "--jobs", "2"],
                env={**env, **extra},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )

        t0 = time.perf_counter()
        first = start("Version zero.")
        assert first.wait() == 0, first.stderr.read() if first.stderr else ""
        full = time.perf_counter() - t0
        print(f"uninterrupted render: {full:.1f} s")
        outcomes = {"old": 0, "new": 0, "switch finished by the next run": 0}
        leaked: list[int] = []
        orphans = 0
        moments = [("random", rng.uniform(0.2, full * 1.1)) for _ in range(args.kills)]
        moments += [("publish-journal", 0.0), ("publish-film", 0.0)]
        for n, (how, delay) in enumerate(moments):
            before = state(film)
            proc = start(f"Version {n + 1}.", None if how == "random" else how)
            if how == "random":
                time.sleep(delay)
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)  # the driver only: its workers must notice
            proc.wait()
            time.sleep(0.2)
            orphans += alive_in_session(proc.pid)
            leaked.append(leftovers(tmp, folder))
            finished = recover(film)  # what the next render does first
            after = state(film)
            if finished:
                outcomes["switch finished by the next run"] += 1
            outcomes["old" if after == before else "new"] += 1
            print(
                f"{how:>16} {delay:5.2f} s: {'old' if after == before else 'new'} set, {leaked[-1] / 1e6:.1f} MB left"
            )
        final = subprocess.run(
            [sys.executable, "-m", "sora_cli", "render", str(storyboard), "-q", "--jobs", "2", "--json"],
            env=env,
            capture_output=True,
            text=True,
        )
        report = json.loads(final.stdout)
        state(film)
        print(f"kills: {len(moments)}; outcomes: {outcomes}; mixed sets: 0 (any mix raised)")
        print(
            f"left by a kill before the next run sweeps: max {max(leaked) / 1e6:.1f} MB, mean {sum(leaked) / len(leaked) / 1e6:.1f} MB"
        )
        print(f"after the next run: {leftovers(tmp, folder) / 1e6:.1f} MB; processes alive after kills: {orphans}")
        print(f"final rerun reused {len(report['reused'])}/{len(report['shots'])} shots")


if __name__ == "__main__":
    main()
