"""The sound cache's size per minute of film, raw float32 (before) against packed (now), and what packing costs.

    python bench/sound_cache.py

Renders every example storyboard and the 30 s bench film (as drafts: the sound is the
same at every picture size) into a fresh cache, then for their mix blocks and limiter
headroom: the bytes stored, the bytes the same samples took as raw float32 (what the cache
held before), and the seconds to pack and unpack them all (measured here, in this run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, row
from bench.render import write_storyboard
from sora_cli.packed_samples import SAMPLES_LEVEL, pack_samples, unpack_samples
from sora_cli.sound.mix import BLOCK_SUFFIX, HEADROOM_LEVEL, HEADROOM_SUFFIX


def measure(path: Path) -> list[str]:
    report = subprocess.run(
        [sys.executable, "-m", "sora_cli", "render", str(path), "--draft", "-q", "--no-qc", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import json

    minutes = json.loads(report)["output"]["duration"] / 60
    blocks = path.parent / ".sora-cache" / "sound" / "blocks"
    cells = [path.name]
    for suffix, level in ((BLOCK_SUFFIX, SAMPLES_LEVEL), (HEADROOM_SUFFIX, HEADROOM_LEVEL)):
        files = sorted(blocks.glob(f"*{suffix}"))
        stored = sum(p.stat().st_size for p in files)
        samples = [unpack_samples(p.read_bytes()) for p in files]
        raw = sum(s.nbytes for s in samples)
        started = time.perf_counter()
        packed = [pack_samples(s, level) for s in samples]
        pack = time.perf_counter() - started
        started = time.perf_counter()
        for blob in packed:
            unpack_samples(blob)
        unpack = time.perf_counter() - started
        cells += [
            f"{raw / 1e6 / minutes:.1f}",
            f"{stored / 1e6 / minutes:.1f}",
            f"{pack / minutes:.2f}/{unpack / minutes:.2f}",
        ]
    return cells


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="sora-bench-sound-"))
    try:
        print(f"load: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print("per minute of film: MB raw (before), MB stored (now), seconds to pack/unpack")
        print(row("storyboard", "mix raw", "mix stored", "pack/unpack", "hdr raw", "hdr stored", "pack/unpack"))
        paths = []
        for example in sorted(EXAMPLES.glob("*.yaml")):
            folder = work / example.stem
            shutil.copytree(
                EXAMPLES,
                folder,
                ignore=shutil.ignore_patterns("*.mp4", ".sora-cache", "*.report.json", "*.srt", "*.vtt"),
            )
            paths.append(folder / example.name)
        paths.append(write_storyboard(work / "bench", 6, 5.0, 1280, 720, 24))
        for path in paths:
            print(row(*measure(path)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
