"""A matrix of masters vs the same masters rendered separately, measured in one run (goal: ratio <= 0.5).

python bench/deliverables.py [--scale N]

Renders storyboards/campaign.yaml's deliverables (4 aspects x 2 languages + a cut-down) twice, each time
from an empty shot cache and with every in-process memo (speech, file digests, ...) cleared: once as
``--all-deliverables`` (one cache, one pool: shots and soundtracks equal in content and size are made once,
and the masters' work is scheduled together), and once master by master, each with a cache of its own (what
running ``sora render --deliverable NAME`` once per master costs). Same masters, same settings (``jobs``).
``--scale N`` divides every frame size by N for a quicker run.
"""

from __future__ import annotations

import argparse
import functools
import gc
import resource
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sora-bench-") as tmp:
        root = Path(tmp)
        storyboard = scaled(EXAMPLES / "campaign.yaml", args.scale, root)
        names = [d.name for d in load_storyboard(storyboard).deliverables]
        request = RenderRequest(storyboard=storyboard, jobs=args.jobs)

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

    print(row("master", "size", "qc", "separate s", "reused"))
    for e in manifest["deliverables"]:
        st = e["settings"]
        qc = "-" if e["qc"] is None else ("pass" if e["qc"]["passed"] else "FAIL")
        print(row(e["name"], f"{st['width']}x{st['height']}", qc, f"{separate[e['name']]:.1f}", len(e["reused_shots"])))
    shared = manifest["shared"]
    print(
        f"matrix: shared picture and sound {shared['seconds']:.1f} s ({shared['chains']} chains, "
        f"{shared['soundtracks']} soundtracks), then the masters {matrix - shared['seconds']:.1f} s"
    )
    total = sum(separate.values())
    print(f"matrix {matrix:.1f} s, separate renders {total:.1f} s, ratio {matrix / total:.2f} (goal <= 0.5)")
    print(
        f"CPU time: matrix {matrix_cpu:.1f} s, separate renders {separate_cpu:.1f} s, "
        f"ratio {matrix_cpu / separate_cpu:.2f}"
    )


if __name__ == "__main__":
    main()
