"""One decoding of the delivered soundtrack measures it for the mix and for the delivery checks.

The mix's acceptance (loudness, exact true peak, the 100 ms over the delivery
limit) and the checks' measurement come out of one pass; the checks of a
render find their measurement without decoding the soundtrack again, and what
they find is what decoding it on their own gives, to the bit.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from sora_cli.dsp import kernels
from sora_cli.film import QC_CACHE
from sora_cli.qc import AUDIO, audio
from sora_cli.sound import hearing, loudness
from sora_cli.sound.hearing import BLOCK, HEARD, ExactPeaks, Heard, listen, stream_digest
from sora_cli.sound.loudness import SUB_BLOCK, LoudnessMeter
from sora_cli.sound.mix import measure_file, mix_soundtrack
from sora_cli.sound.synth import RATE
from tests.conftest import EXAMPLES, render
from tests.peaks import PeakScan
from tests.test_sound import plan_of
from tests.test_sound_cache import film_folder


def _write_aac(path: Path, samples: np.ndarray) -> None:
    """Stereo float samples at 48 kHz, as sora's soundtrack is encoded (AAC in MP4)."""
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=RATE, layout="stereo")
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[start : start + 1024].T), format="fltp", layout="stereo"
            )
            frame.sample_rate = RATE
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray().T for f in container.decode(audio=0)])


def _peak_scan(samples: np.ndarray, limit: float) -> tuple[float, dict[int, float]]:
    """The sparse, independent scan (it interpolates only where a sub-block could reach the limit or the peak)."""
    scan = PeakScan(limit)
    for start in range(0, len(samples), BLOCK):
        scan.add(samples[start : start + BLOCK])
    scan.finish()
    return scan.peak, scan.over


@pytest.fixture(scope="module")
def loud_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """17 s that overshoot everywhere (loud noise and a clipped tone), three meter blocks and a partial one."""
    rng = np.random.default_rng(7)
    n = int(17.05 * RATE)
    t = np.arange(n) / RATE
    tone = np.clip(1.4 * np.sin(2 * np.pi * 997 * t), -0.95, 0.95)
    samples = (0.3 * rng.standard_normal((n, 2)) + tone[:, None] * np.array([0.6, -0.4])).astype(np.float32)
    samples[int(4 * RATE) : int(6 * RATE)] *= 0.01  # a quiet stretch the sparse scan skips
    path = tmp_path_factory.mktemp("hearing") / "loud.m4a"
    _write_aac(path, samples)
    return path


@pytest.mark.parametrize("limit", [0.3, 0.9, 1.2])
def test_the_exact_true_peak_is_what_a_scan_of_the_whole_stream_finds(loud_file: Path, limit: float) -> None:
    """The meter's per-block peaks, their block edges corrected, give PeakScan's peak and sub-blocks over the limit
    to the bit, though the meter takes the signal as silent after each block it is fed."""
    listened = listen(loud_file, exact=True)
    peak, over = _peak_scan(_decoded(loud_file), limit)
    found = {int(k): float(listened.peaks[k]) for k in np.flatnonzero(listened.peaks > limit)}
    assert over and found == over
    assert float(listened.peaks.max()) == peak
    assert measure_file(loud_file, limit) == (listened.heard.integrated, peak, over)


def test_block_edges_are_corrected_to_the_peak_of_the_whole_signal() -> None:
    """Blocks of any size (one shorter than the interpolator's reach): an inter-sample peak straddling each
    block edge, which the meter, taking the signal as silent after a block, misses there."""
    rng = np.random.default_rng(3)
    sizes = [BLOCK + 3 * 1024, BLOCK + 517, 1000, 20, BLOCK]
    samples = (0.02 * rng.standard_normal((sum(sizes), 2))).astype(np.float32)
    edges = np.cumsum(sizes)[:-1]
    for e in edges:
        samples[e - 1 : e + 1] = 0.7  # the interpolated signal peaks between the two samples, near 0.9
    meter, exact = LoudnessMeter(), ExactPeaks()
    start = 0
    for size in sizes:
        block = samples[start : start + size]
        exact.add(block, meter.add(block))
        start += size
    peaks = exact.per_sub_block()
    for limit in (0.05, 0.8):
        peak, over = _peak_scan(samples, limit)
        assert float(peaks.max()) == peak and {int(k): float(peaks[k]) for k in np.flatnonzero(peaks > limit)} == over
    # the meter's own per-100 ms peaks (the checks') miss the peak at the edges, and only there
    differ = np.flatnonzero(meter.peaks() != peaks)
    assert set(differ.tolist()) == {int(e - 1) // SUB_BLOCK for e in edges}
    assert (meter.peaks()[differ] < peaks[differ]).all() and peak > 0.85


def test_the_checks_find_what_the_mix_measured_and_it_is_what_they_would_measure(tmp_path: Path, monkeypatch) -> None:
    """The sound worker's two tasks, in its order: the mix, then the measure for the checks (nothing decoded)."""
    plan = plan_of((EXAMPLES / "polar.yaml").read_text())
    out = tmp_path / "soundtrack.m4a"
    HEARD.clear()
    mix_soundtrack(plan, out)
    digest = stream_digest(out, plan.duration)
    assert digest in HEARD

    decodes: list[Path] = []
    real = audio.listen

    def counted(path: Path, until: float | None = None, exact: bool = False) -> hearing.Listened:
        decodes.append(path)
        return real(path, until, exact)

    monkeypatch.setattr(audio, "listen", counted)
    cache = tmp_path / "qc"
    audio.heard_ahead(out, cache, plan.duration)
    assert decodes == [] and audio.heard_stored(out, cache, plan.duration)

    HEARD.clear()  # the same measure, decoded afresh by the checks themselves
    (entry,) = cache.rglob("*.npz")
    stored = Heard.load(entry)
    fresh = audio.heard(out, None, plan.duration)
    assert decodes == [out] and stored is not None
    for name in Heard.__dataclass_fields__:
        a, b = getattr(stored, name), getattr(fresh, name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b, name


def test_a_render_decodes_its_soundtrack_once(tmp_path: Path, monkeypatch) -> None:
    """The render's sound worker (a forked process) decodes the soundtrack to accept its mix; the checks decode
    it no second time. Every decoding of an audio stream is written down in a file, from either process."""
    log = tmp_path / "decodes.log"
    real = hearing.listen

    def logged(path: Path, until: float | None = None, exact: bool = False) -> hearing.Listened:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()} {'mix' if exact else 'checks'} {Path(path).name}\n")
        return real(path, until, exact)

    monkeypatch.setattr(hearing, "listen", logged)
    monkeypatch.setattr(audio, "listen", logged)
    monkeypatch.setattr("sora_cli.sound.mix.listen", logged)
    folder, sb = film_folder(tmp_path)
    render(sb, output=folder / "film.mp4", cache_dir=folder / "cache")
    kinds = [line.split()[1] for line in log.read_text().splitlines()]
    assert kinds == ["mix"], log.read_text()
    assert len(list((folder / "cache" / QC_CACHE / AUDIO).rglob("*.npz"))) == 1


def _upfirdn_peaks(x: np.ndarray, taps: np.ndarray, first: int, n: int) -> np.ndarray:
    """The interpolators' per-sample peaks as they were computed: scipy's upfirdn, then the largest |y| per sample."""
    up = np.abs(kernels.upfirdn(taps, np.asarray(x, np.float32), 4))
    return up[first : first + 4 * n].reshape(n, -1).max(axis=1)


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("length", [1, 7, 60, 5000, 40_000])
def test_the_interpolators_give_upfirdns_bits(channels: int, length: int) -> None:
    """Both true-peak interpolators (the limiter's and the measuring one), phase by phase with numpy, against
    scipy's compiled loop: equal to the bit, on signals loud and quiet, at chunk edges and shorter than the taps."""
    rng = np.random.default_rng(length * channels)
    x = rng.standard_normal((length, channels)).astype(np.float32) * np.float32(rng.choice([1e-4, 0.3, 3.0]))
    x[: length // 3] = 0  # (silence: products and sums of zeros)
    limiter = loudness._interpolators().limiter
    start = 4 * (loudness._DELAY - 1)
    assert np.array_equal(loudness._phase_peaks(x, limiter, start, length), _upfirdn_peaks(x, limiter, start, length))
    edge = np.zeros((loudness._MEASURE_REACH, channels), np.float32)
    wide = np.concatenate([edge, x, x[::-1], edge])
    n = len(wide) - 2 * loudness._MEASURE_REACH
    first = loudness._MEASURE_DELAY + 4 * loudness._MEASURE_REACH
    expected = _upfirdn_peaks(wide, loudness._interpolators().measure_taps, first, n)
    assert np.array_equal(loudness._interpolated_peak(wide), expected)


@pytest.mark.parametrize("den", [48_000, 44_100, 1000, 90_000, 24_000])
def test_the_first_pts_a_film_stops_at_is_the_one_the_per_packet_test_found(den: int) -> None:
    """``first_pts_at`` finds, once, the packet where ``float(pts * time_base) >= until`` first holds: the test a
    film's mux and the soundtrack's digests made per packet (the digest of a carried soundtrack must not move)."""
    from fractions import Fraction

    rng = np.random.default_rng(den)
    base = Fraction(1, den)
    untils = [float(x) for x in rng.uniform(0, 600, 300)]
    untils += [float(Fraction(p, den)) for p in rng.integers(1, 600 * den, 200)]  # exactly on a packet's time
    untils += [np.nextafter(u, 0.0) for u in untils[-50:]] + [np.nextafter(u, 1e9) for u in untils[-50:]]
    untils += [0.0, 29.5, 1e-12]
    for until in untils:
        pts = hearing.first_pts_at(until, base)
        assert float(pts * base) >= until and not float((pts - 1) * base) >= until, (until, den)
