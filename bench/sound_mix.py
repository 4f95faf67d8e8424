"""What the soundtrack's mix costs against its floor: one AAC encode of the same soundtrack.

    python bench/sound_mix.py

For every example storyboard and the 30 s bench film (the sound is the same at every
picture size), in this process: the CPU seconds (this process and ffmpeg) of
``mix_soundtrack`` (fresh, no cache), then of the render's measure of the soundtrack
for its delivery checks, which the sound worker runs next (``heard_ahead``: nothing to
decode when the mix's own measure is kept), how many AAC encodes it made, and its floor: the
delivered soundtrack decoded and encoded again with sora's AAC settings, which no mix
can avoid. Then the bench film once more with one line of dialogue edited, its blocks
from the cache of the first mix (the edit-to-preview loop). A first, unmeasured mix
pays for imports and first-use costs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import EXAMPLES, cpu_seconds, row
from bench.render import write_storyboard
from sora_cli.audio_files import decode_audio
from sora_cli.plan.resolve import make_plan
from sora_cli.qc.audio import heard_ahead
from sora_cli.sound import mix
from sora_cli.storyboard import load_storyboard, parse_storyboard

EDIT = ("Hold the lantern up.", "Hold the lantern higher.")


def _counted() -> list[int]:
    encodes: list[int] = []
    encode = mix._encode_aac

    def counted(blocks, out_path):  # type: ignore[no-untyped-def]
        encodes.append(1)
        encode(blocks, out_path)

    mix._encode_aac = counted  # type: ignore[assignment]
    return encodes


def measure(plan, out: Path, encodes: list[int], cache: Path | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    encodes.clear()
    started = cpu_seconds()
    report = mix.mix_soundtrack(plan, out, cache_dir=cache)
    spent = cpu_seconds() - started
    started = cpu_seconds()
    heard_ahead(out, out.with_suffix(".qc"), plan.duration)
    checks = cpu_seconds() - started
    tries = len(encodes)
    pcm = decode_audio(out, mix.RATE, 2)
    started = cpu_seconds()
    mix._encode_aac(iter([pcm]), out.with_suffix(".floor.m4a"))
    floor = cpu_seconds() - started
    return [f"{spent:.2f}", f"{checks:.2f}", f"{floor:.2f}", f"{spent / floor:.2f}x", str(tries), f"{report.loudness:.2f}"]


def main() -> None:
    encodes = _counted()
    with tempfile.TemporaryDirectory(prefix="sora-bench-mix-") as tmp:
        folder = Path(tmp)
        bench = write_storyboard(folder / "bench", 6, 5.0, 1280, 720, 24)
        mix.mix_soundtrack(make_plan(load_storyboard(EXAMPLES / "polar.yaml")), folder / "warm.m4a")
        print(row("film", "mix cpu s", "checks cpu s", "floor cpu s", "ratio", "encodes", "LUFS"))
        for path in [bench, *sorted(EXAMPLES.glob("*.yaml"))]:
            plan = make_plan(load_storyboard(path))
            cache = folder / "cache" if path == bench else None
            print(row(path.stem, *measure(plan, folder / f"{path.stem}.m4a", encodes, cache)))
        edited = bench.read_text().replace(*EDIT)
        plan = make_plan(parse_storyboard(edited, str(bench), bench.parent))
        print(row("bench, one line edited", *measure(plan, folder / "edited.m4a", encodes, folder / "cache")))


if __name__ == "__main__":
    main()
