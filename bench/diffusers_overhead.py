"""The diffusers backend's per-shot overhead over calling the pipeline directly (goal <= 5%).

    python bench/diffusers_overhead.py [MODEL_DIR] [--device cuda] [--offload none|model|sequential|auto]

Without MODEL_DIR a tiny random LTX-condition pipeline is built (sora_cli.testing)
at a size where the pipeline call dominates. Both sides make the same calls with
the same arguments; the backend adds prompt/conditioning preparation, frame
conversion and resampling to the film's size. Also prints how many times the
pipeline was loaded for a multi-shot render (it must be once).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STORYBOARD = """\
version: 1
title: Overhead
output: {{width: 320, height: 192, fps: 24, subtitles: none}}
backend: {{name: diffusers, model: {model}, options: {{width: {size}, height: {size}, steps: {steps}, frames_per_chunk: 25, max_sequence_length: 16, device: {device}{offload}}}}}
world: {{location: "a city street", characters: {{kim: {{description: "courier in green"}}}}}}
shots:
{shots}
"""


def main() -> None:
    import diffusers

    from sora_cli.film import RenderRequest, render_film
    from sora_cli.plan.resolve import make_plan
    from sora_cli.render.backend import FilmSettings
    from sora_cli.render.diffusion import DiffusersBackend
    from sora_cli.storyboard import parse_storyboard
    from sora_cli.testing import make_tiny_pipeline

    device = "cuda" if "--device" in sys.argv and sys.argv[sys.argv.index("--device") + 1] == "cuda" else "cpu"
    offload = sys.argv[sys.argv.index("--offload") + 1] if "--offload" in sys.argv else None
    args = [
        a
        for a in sys.argv[1:]
        if not a.startswith("--") and a not in ("cuda", "cpu", "none", "model", "sequential", "auto")
    ]
    work = Path(tempfile.mkdtemp(prefix="sora-bench-diffusers-"))
    model = Path(args[0]) if args else make_tiny_pipeline(work / "model", "ltx-condition")
    size, steps = (64, 8) if not args else (480, 30)
    shots = "\n".join(
        f"  - {{id: s{i}, duration: 2, cast: [kim], continuity: {'continue' if i % 2 else 'cut'}}}" for i in range(6)
    )
    text = STORYBOARD.format(
        model=model,
        size=size,
        steps=steps,
        device=device,
        shots=shots,
        offload=f", offload: {offload}" if offload else "",
    )
    path = work / "film.yaml"
    path.write_text(text)
    plan = make_plan(parse_storyboard(text, str(path), work))

    calls: list[dict] = []
    loads = [0]
    cls = type(diffusers.DiffusionPipeline.from_pretrained(model))
    original_call, original_load = cls.__call__, cls.from_pretrained.__func__

    def spy_call(self, **kwargs):
        calls.append(dict(kwargs))
        return original_call(self, **kwargs)

    def spy_load(klass, *a, **k):
        loads[0] += 1
        return original_load(klass, *a, **k)

    cls.__call__ = spy_call
    cls.from_pretrained = classmethod(spy_load)

    backend = DiffusersBackend()
    backend.open(FilmSettings.from_plan(plan))
    carry, started = None, time.perf_counter()
    for shot in plan.shots:
        render = backend.render_shot(shot, carry if shot.continuity == "continue" else None)
        for _ in render:
            pass
        carry = render.carry
    through_backend = time.perf_counter() - started
    recorded = list(calls)
    cls.__call__ = original_call
    started = time.perf_counter()
    for kwargs in recorded:  # the same calls, straight to the pipeline
        kwargs = dict(kwargs)
        kwargs["generator"] = type(kwargs["generator"])(device="cpu").manual_seed(0)
        backend.pipe(**kwargs)
    direct = time.perf_counter() - started
    print(
        f"{len(plan.shots)} shots, {len(recorded)} pipeline calls: backend {through_backend:.2f} s, pipeline alone {direct:.2f} s;"
        f" overhead {(through_backend / direct - 1) * 100:.1f}% (goal <= 5%)"
    )
    cls.__call__ = spy_call
    loads[0] = 0
    render_film(RenderRequest(path, jobs=1, use_cache=False))
    print(f"pipeline loads during a {len(plan.shots)}-shot render: {loads[0]} (must be 1)")


if __name__ == "__main__":
    main()
