"""The sound cache stores its blocks compressed and losslessly: the film is the same bytes cold and warm."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from sora_cli import digests, packed_samples
from sora_cli.provenance import media_digest
from sora_cli.sound.mix import BLOCK, BLOCK_SUFFIX, HEADROOM_SUFFIX
from sora_cli.sound.synth import RATE
from tests.conftest import render

FILM = """\
version: 1
title: Sound cache
output: {width: 96, height: 64, fps: 6}
world:
  location: "old fishing harbour by the sea"
  weather: rain
  characters:
    kim: {description: "courier in green"}
audio:
  music: {file: assets/theme.wav, gain: -16, duck: true}
shots:
  - {id: a, duration: 5, cast: [kim], dialogue: [{speaker: kim, line: "The tide is turning.", at: 0.5}]}
  - {id: b, duration: 5, cast: [kim], sfx: [{sound: splash, at: 1.0}]}
"""


@pytest.mark.parametrize(
    "samples",
    [
        np.random.default_rng(1).normal(0, 0.1, (1000, 2)).astype(np.float32),
        np.array([[0.0, -0.0], [np.inf, -np.inf], [np.nan, 1e-45], [3.4e38, -1e-30]], np.float32),
        np.linspace(0, 1, 777, dtype=np.float32),
    ],
)
def test_sample_blocks_come_back_bit_for_bit(samples: np.ndarray) -> None:
    back = packed_samples.unpack_samples(packed_samples.pack_samples(samples))
    assert back.dtype == np.float32 and back.shape == (len(samples), 1 if samples.ndim == 1 else samples.shape[1])
    assert back.tobytes() == np.ascontiguousarray(samples).tobytes()


def test_noise_planes_are_stored_as_they_are_and_older_blocks_still_read() -> None:
    """A mix's low byte planes are noise: stored as they are, the block is no bigger than deflating every plane."""
    import zlib

    rng = np.random.default_rng(2)
    noise = (rng.standard_normal((48_000, 2)) * 0.05).astype(np.float32)
    planes = np.ascontiguousarray(noise, dtype="<f4").view(np.uint8).reshape(-1, 4).T.tobytes()
    whole = packed_samples.WHOLE_MAGIC + np.array([48_000, 2], "<u4").tobytes() + zlib.compress(planes, 1)
    packed = packed_samples.pack_samples(noise)
    assert len(packed) <= len(whole) + 32 and len(packed) < noise.nbytes
    assert packed_samples.unpack_samples(packed).tobytes() == noise.tobytes()
    assert packed_samples.unpack_samples(whole).tobytes() == noise.tobytes()  # what older versions stored


def test_a_damaged_sample_block_is_a_miss_not_an_error(tmp_path: Path, capsys) -> None:
    path = tmp_path / f"x{BLOCK_SUFFIX}"
    packed_samples.store_samples(path, np.ones((100, 2), np.float32))
    assert packed_samples.load_samples(path) is not None
    path.write_bytes(path.read_bytes()[:-5])
    digests.seal(path)  # a record that matches the damaged file: the unpacking still catches it
    assert packed_samples.load_samples(path) is None and not path.exists()
    assert "cannot be read" in capsys.readouterr().err


def film_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A folder holding :data:`FILM` and the example assets it uses."""
    folder = tmp_path / "film"
    folder.mkdir()
    shutil.copytree(Path(__file__).resolve().parents[1] / "storyboards" / "assets", folder / "assets")
    sb = folder / "film.yaml"
    sb.write_text(FILM)
    return folder, sb


def test_the_film_is_the_same_bytes_with_a_cold_a_warm_and_no_cache(tmp_path: Path) -> None:
    folder, sb = film_folder(tmp_path)
    cold = render(sb, output=folder / "cold.mp4", qc=False)
    blocks = folder / ".sora-cache" / "sound" / "blocks"
    mixes, headrooms = sorted(blocks.glob(f"*{BLOCK_SUFFIX}")), sorted(blocks.glob(f"*{HEADROOM_SUFFIX}"))
    assert len(mixes) == len(headrooms) == 2  # 10 s of film: two 8 s blocks
    raw_bytes = cold["output"]["duration"] * RATE * 4
    assert sum(p.stat().st_size for p in headrooms) < 0.1 * raw_bytes  # a smooth envelope deflates well
    assert sum(p.stat().st_size for p in mixes) < 0.95 * 2 * raw_bytes  # the mix less well, but smaller
    assert BLOCK == 8 * RATE
    written = {p: p.stat().st_ino for p in mixes + headrooms}
    # the soundtrack's own entry gone: the warm render mixes again from the compressed blocks
    for p in (folder / ".sora-cache" / "sound").glob("*.*"):
        p.unlink()
    warm = render(sb, output=folder / "warm.mp4", qc=False)
    assert warm["sound"]["reused"] is False and sorted(blocks.glob(f"*{BLOCK_SUFFIX}")) == mixes
    assert {p: p.stat().st_ino for p in written} == written  # read back, not made again
    render(sb, output=folder / "plain.mp4", qc=False, use_cache=False)
    expected = media_digest(folder / "cold.mp4")
    assert media_digest(folder / "warm.mp4") == expected
    assert media_digest(folder / "plain.mp4") == expected


def test_a_sealed_block_of_the_wrong_length_or_with_nan_is_mixed_again(tmp_path: Path) -> None:
    """A forged entry (right name, valid seal, wrong content shape) must not reach the film."""
    folder, sb = film_folder(tmp_path)
    render(sb, output=folder / "cold.mp4", qc=False)
    blocks = folder / ".sora-cache" / "sound" / "blocks"
    first, second = sorted(blocks.glob(f"*{BLOCK_SUFFIX}"))
    short = packed_samples.load_samples(first)[:-4800]
    packed_samples.store_samples(first, short)  # sealed anew: only its shape gives it away
    poisoned = packed_samples.load_samples(second).copy()
    poisoned[100] = np.nan
    packed_samples.store_samples(second, poisoned)
    for p in (folder / ".sora-cache" / "sound").glob("*.*"):  # the soundtrack itself is mixed again
        p.unlink()
    render(sb, output=folder / "warm.mp4", qc=False)
    assert media_digest(folder / "warm.mp4") == media_digest(folder / "cold.mp4")


def test_a_sound_block_that_cannot_be_written_names_its_file(tmp_path: Path) -> None:
    """Under ``ulimit -f`` a block's write fails (EFBIG, a ``write`` that names no file): the error names the
    block, as every other storage error names its file; it said ``cannot write: File too large``."""
    import subprocess
    import sys

    block = tmp_path / "blocks" / f"{'ab' * 32}{BLOCK_SUFFIX}"
    child = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from sora_cli.errors import internal_error\n"
        "from sora_cli.packed_samples import store_samples\n"
        "noise = np.random.default_rng(0).normal(0, 0.1, (48000, 2)).astype(np.float32)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: write gets EFBIG\n"
        "try:\n"
        "    store_samples(Path(sys.argv[1]), noise)\n"
        "except OSError as exc:\n"
        "    print(internal_error(exc))\n"
    )
    done = subprocess.run([sys.executable, "-c", child, str(block)], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [f"cannot write {block}: File too large"], done.stderr
    assert list(block.parent.iterdir()) == []  # neither the block nor its temp file is left


def test_the_mix_scratch_that_cannot_be_written_names_its_file(tmp_path: Path) -> None:
    """The raw mix's scratch file under ``ulimit -f`` (no cache: no block is stored first) is named too."""
    import re
    import subprocess
    import sys

    board = tmp_path / "film.yaml"
    board.write_text(
        "version: 1\ntitle: Scratch\nworld: {location: a harbour, weather: rain}\nshots:\n  - {id: a, duration: 4}\n"
    )
    child = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from sora_cli import api\n"
        "from sora_cli.errors import internal_error\n"
        "from sora_cli.sound.mix import mix_soundtrack\n"
        "plan = api.plan(Path(sys.argv[1]))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))  # under the raw mix (4 s: 1.5 MB)\n"
        "try:\n"
        "    mix_soundtrack(plan, Path(sys.argv[2]), cache_dir=None)\n"
        "except OSError as exc:\n"
        "    print(internal_error(exc))\n"
    )
    args = [sys.executable, "-c", child, str(board), str(tmp_path / "mix.m4a")]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    said = done.stdout.splitlines()
    assert len(said) == 1 and re.fullmatch(r"cannot write /\S+/sora-mix-\S+/raw\.f32: File too large", said[0]), (
        done.stdout,
        done.stderr,
    )
