"""A matrix of masters vs the same masters rendered separately, measured in one run (goal: ratio <= 0.5).

python bench/deliverables.py [--scale N] [--jobs N] [--how cli|in-process|both]

Renders storyboards/campaign.yaml's deliverables (4 aspects x 2 languages + a cut-down) twice, each time
from an empty shot cache: once as ``--all-deliverables`` (one cache, one pool: shots and soundtracks equal in
content and size are made once, and the masters' work is scheduled together), and once master by master, each
with a cache of its own. Same masters, same settings (``jobs``). ``--scale N`` divides every frame size by N
for a quicker run.

Two ways of running both sides (``--how``, default both, one after the other):

* ``cli``: each side as the commands a user types, ``sora render FILE --all-deliverables`` once against
  ``sora render FILE --deliverable NAME`` once per master, each a fresh process (start-up and imports
  included, on both sides);
* ``in-process``: every render in this process, each with every in-process memo (speech, file digests, ...)
  cleared first: the separate renders without their process start-up, a lower bound for them.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, row
from sora_cli.film import RenderRequest
from sora_cli.masters import render_masters
from sora_cli.storyboard import load_storyboard
from sora_cli.storyboard.deliverables import output_of


def scaled(source: Path, scale: int, folder: Path) -> Path:
    """The storyboard with every frame size divided by ``scale`` (sizes a profile gave are written out)."""
    if scale == 1:
        return source
    sb = load_storyboard(source)
    data = yaml.safe_load(source.read_text(encoding="utf-8"))

    def even(v: int) -> int:
        return max(64, v // scale // 2 * 2)

    data["output"]["width"], data["output"]["height"] = even(sb.output.width), even(sb.output.height)
    for entry, d in zip(data["deliverables"], sb.deliverables, strict=True):
        out = output_of(sb, d)
        entry.update(width=even(out["width"]), height=even(out["height"]), profile="web")
    target = folder / source.name
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def cold() -> None:
    """Forget what this process memoised (synthesised speech, digests, voice lists): each run starts cold."""
    for obj in gc.get_objects():
        if isinstance(obj, functools._lru_cache_wrapper) and getattr(obj, "__module__", "").startswith("sora_cli"):
            obj.cache_clear()


def cpu_seconds() -> float:
    """CPU time of this process and of every child it waited for (pool workers, ffmpeg, espeak-ng): the
    work done, whatever else the machine is running."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def in_process(storyboard: Path, names: list[str], jobs: int, root: Path) -> tuple[dict, dict, float, float, float]:
    """(manifest, seconds per separate master, matrix s, matrix CPU s, separate CPU s), all renders here."""
    request = RenderRequest(storyboard=storyboard, jobs=jobs)
    cold()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    manifest = render_masters(
        RenderRequest(**{**request.__dict__, "cache_dir": root / "matrix-cache"}), names, root / "matrix"
    )
    matrix, matrix_cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    separate: dict[str, float] = {}
    separate_cpu = 0.0
    for name in names:
        cold()
        started, cpu_started = time.perf_counter(), cpu_seconds()
        render_masters(
            RenderRequest(**{**request.__dict__, "cache_dir": root / f"cache-{name}"}), [name], root / "separate"
        )
        separate[name] = time.perf_counter() - started
        separate_cpu += cpu_seconds() - cpu_started
    return manifest, separate, matrix, matrix_cpu, separate_cpu


def _sora(*args: str) -> tuple[float, float]:
    """Run ``sora ARGS`` as a fresh process; (wall s, CPU s of it and its children)."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-m", "sora_cli", *args, "-q"], check=True, env=env)
    return time.perf_counter() - started, cpu_seconds() - cpu_started


def as_commands(storyboard: Path, names: list[str], jobs: int, root: Path) -> tuple[dict, dict, float, float, float]:
    """The same as :func:`in_process`, each side run as the ``sora render`` commands a user types."""
    common = ["-j", str(jobs)]
    folder = root / "cli-matrix"
    matrix, matrix_cpu = _sora(
        "render", str(storyboard), "--all-deliverables", "-o", str(folder), "--cache-dir", str(root / "cli-cache"),
        *common,
    )  # fmt: skip
    manifest = json.loads((folder / "deliverables.json").read_text(encoding="utf-8"))
    separate: dict[str, float] = {}
    separate_cpu = 0.0
    for name in names:
        cache = str(root / f"cli-cache-{name}")
        seconds, cpu = _sora(
            "render", str(storyboard), "--deliverable", name, "-o", str(root / "cli-separate"), "--cache-dir", cache,
            *common,
        )  # fmt: skip
        separate[name] = seconds
        separate_cpu += cpu
    return manifest, separate, matrix, matrix_cpu, separate_cpu


def report(how: str, manifest: dict, separate: dict, matrix: float, matrix_cpu: float, separate_cpu: float) -> None:
    print(f"--- {how}")
    print(row("master", "size", "qc", "separate s", "reused"))
    for e in manifest["deliverables"]:
        st = e["settings"]
        qc = "-" if e["qc"] is None else ("pass" if e["qc"]["passed"] else "FAIL")
        print(row(e["name"], f"{st['width']}x{st['height']}", qc, f"{separate[e['name']]:.1f}", len(e["reused_shots"])))
    shared = manifest["shared"]
    print(
        f"matrix: shared picture and sound {shared['seconds']:.1f} s ({shared['chains']} chains, "
        f"{shared['soundtracks']} soundtracks), then the masters {manifest['total_seconds'] - shared['seconds']:.1f} s"
    )
    total = sum(separate.values())
    print(f"matrix {matrix:.1f} s, separate renders {total:.1f} s, ratio {matrix / total:.2f} (goal <= 0.5)")
    print(
        f"CPU time: matrix {matrix_cpu:.1f} s, separate renders {separate_cpu:.1f} s, "
        f"ratio {matrix_cpu / separate_cpu:.2f} (goal <= 0.5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--how", choices=("cli", "in-process", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sora-bench-") as tmp:
        root = Path(tmp)
        storyboard = scaled(EXAMPLES / "campaign.yaml", args.scale, root)
        names = [d.name for d in load_storyboard(storyboard).deliverables]
        if args.how in ("cli", "both"):
            report("as sora render commands", *as_commands(storyboard, names, args.jobs, root))
        if args.how in ("in-process", "both"):
            report("in this process", *in_process(storyboard, names, args.jobs, root))


if __name__ == "__main__":
    main()
