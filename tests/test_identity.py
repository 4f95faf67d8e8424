"""Byte-identity guard: every example storyboard's draft renders to the decoded frames and samples stored.

Moving code between modules (issue 12) must not change a single pixel or sample. This test renders
each storyboard in ``storyboards/`` as a user would (``sora render FILE --draft``), decodes the film
with PyAV and compares digests of every second of decoded picture (the raw YUV planes) and sound (the
decoded float samples), and the sidecar subtitles, with ``tests/snapshots/identity.json``. The C2PA
manifest is outside what is compared: it is not part of the decoded streams.

A change meant to alter the output regenerates the digests with ``UPDATE_SNAPSHOTS=1`` and says so in
its commit; the fixture also records each storyboard's own digest, so an edited storyboard is named
as the reason rather than reported as a changed render.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

import av
import pytest

from tests.conftest import EXAMPLES, run_cli

FIXTURE = Path(__file__).parent / "snapshots" / "identity.json"
NAMES = sorted(p.stem for p in EXAMPLES.glob("*.yaml"))


def _digest(chunks: list[bytes]) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c)
    return h.hexdigest()[:32]


def decoded_digests(film: Path) -> dict:
    """Digests of a film's decoded picture and sound, one per second of each (so a mismatch says where)."""
    with av.open(str(film)) as container:
        video = container.streams.video[0]
        fps = round(float(video.average_rate))
        frames: list[bytes] = []
        for frame in container.decode(video=0):
            frames.append(frame.format.name.encode() + frame.to_ndarray().tobytes())
        size = [video.codec_context.width, video.codec_context.height]
    with av.open(str(film)) as container:
        audio = container.streams.audio[0].codec_context
        step = audio.sample_rate * audio.channels * 4  # one second of float32 samples, all channels
        pcm = b"".join(frame.to_ndarray().astype("<f4").tobytes() for frame in container.decode(audio=0))
    return {
        "size": size,
        "fps": fps,
        "frames": len(frames),
        "video": [_digest(frames[i : i + fps]) for i in range(0, len(frames), fps)],
        "audio_bytes": len(pcm),
        "audio": [_digest([pcm[i : i + step]]) for i in range(0, len(pcm), step)],
    }


def render_digests(name: str, folder: Path) -> dict:
    """Render ``name`` as ``sora render --draft`` does and digest what a viewer would see and hear."""
    out = folder / "out" / f"{name}.mp4"
    result = run_cli(
        "render", str(folder / f"{name}.yaml"), "--draft", "--no-qc", "--quiet", "--jobs", "1",
        "-o", str(out), "--cache-dir", str(folder / "cache"),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    facts = {"storyboard": hashlib.sha256((EXAMPLES / f"{name}.yaml").read_bytes()).hexdigest()[:32]}
    facts.update(decoded_digests(out))
    for ext in ("srt", "vtt"):
        sidecar = out.with_suffix(f".{ext}")
        facts[ext] = hashlib.sha256(sidecar.read_bytes()).hexdigest()[:32] if sidecar.exists() else None
    return facts


def _store(name: str, facts: dict) -> dict:
    """Rewrite this storyboard's entry only, under a lock (xdist runs the cases in separate processes)."""
    FIXTURE.parent.mkdir(exist_ok=True)
    folder = os.open(FIXTURE.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        stored = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else {}
        stored[name] = facts
        FIXTURE.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    finally:
        os.close(folder)
    return stored


def _first_difference(got: list[str], want: list[str]) -> int:
    return next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))


@pytest.mark.parametrize("name", NAMES)
def test_draft_render_is_identical(name: str, storyboard_dir: Path):
    got = render_digests(name, storyboard_dir)
    stored = json.loads(FIXTURE.read_text(encoding="utf-8")) if FIXTURE.exists() else {}
    if os.environ.get("UPDATE_SNAPSHOTS") or name not in stored:
        stored = _store(name, got)
    want = stored[name]
    assert got["storyboard"] == want["storyboard"], (
        f"storyboards/{name}.yaml changed since its digests were stored: if its new render is intended, "
        "regenerate tests/snapshots/identity.json with UPDATE_SNAPSHOTS=1"
    )
    for key in ("size", "fps", "frames", "audio_bytes", "srt", "vtt"):
        assert got[key] == want[key], f"{name}: {key} is {got[key]!r}, was {want[key]!r}"
    for key, unit in (("video", "frames"), ("audio", "samples")):
        i = _first_difference(got[key], want[key])
        assert got[key] == want[key], f"{name}: decoded {key} differs from second {i} of the film on (its {unit} there)"
