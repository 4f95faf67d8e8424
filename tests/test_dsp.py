"""sora_cli.dsp: scipy's filters without scipy.signal's import, bit for bit what scipy gives."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage, signal

from sora_cli.dsp import designs, kernels

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("name", sorted(designs.kept()))
def test_every_kept_design_is_the_bits_scipy_designs_now(name):
    path = designs.FOLDER / f"{name}.f8"
    assert path.is_file(), f"{name}: run python -m sora_cli.dsp.designs"
    stored = np.frombuffer(path.read_bytes(), "<f8")
    assert np.array_equal(stored, designs.kept()[name].ravel())


def test_designs_read_from_files_and_made_by_scipy_agree():
    for spec in designs.KEPT_FIRWIN:
        assert np.array_equal(designs.firwin(*spec), signal.firwin(spec[0], spec[1], window=("kaiser", spec[2])))
    assert np.array_equal(designs.k_weighting(48000), designs.design_k_weighting(48000))
    # a design not kept is made by scipy: a fresh array every call, which the caller may scale in place
    made = designs.firwin(31, 0.2, 4.0)
    assert np.array_equal(made, signal.firwin(31, 0.2, window=("kaiser", 4.0)))
    made *= 2
    assert np.array_equal(designs.firwin(31, 0.2, 4.0), signal.firwin(31, 0.2, window=("kaiser", 4.0)))
    assert np.array_equal(designs.k_weighting(44100), designs.design_k_weighting(44100))


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_sosfilt_is_scipys(channels):
    sos = designs.k_weighting(48000)
    x = RNG.standard_normal((4801, channels))
    zi = RNG.standard_normal((len(sos), 2, channels))
    ours, our_state = kernels.sosfilt(sos, x, zi)
    theirs, their_state = signal.sosfilt(sos, x, axis=0, zi=zi)
    assert np.array_equal(ours, theirs) and np.array_equal(our_state, their_state)
    assert ours.shape == x.shape and our_state.shape == zi.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1000, 2), (7, 1), (1,), (0, 2)])
def test_upfirdn_is_scipys(dtype, shape):
    h = (designs.firwin(48, 0.25, 7.0) * 4).astype(np.float32)
    x = RNG.standard_normal(shape).astype(dtype)
    ours = kernels.upfirdn(h, x, 4)
    theirs = signal.upfirdn(h, x, 4, axis=0)
    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    assert np.array_equal(kernels.upfirdn(h, x, 3, 2), signal.upfirdn(h, x, 3, 2, axis=0))


@pytest.mark.parametrize(
    ("up", "down", "dtype"),
    [(48000, 22050, np.float32), (48000, 22050, np.float64), (16000, 48000, np.float32), (3, 3, np.float32),
     (44100, 48000, np.float32), (48000, 24000, np.int16)],
)  # fmt: skip
def test_resample_poly_is_scipys(up, down, dtype):
    x = (RNG.standard_normal(5000) * 1000).astype(dtype)
    ours = kernels.resample_poly(x, up, down)
    theirs = signal.resample_poly(x, up, down)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape and np.array_equal(ours, theirs)


def test_resample_poly_with_given_taps_is_scipys():
    window = designs.firwin(81, 0.25, 5.0)
    x = RNG.standard_normal((3000, 2))
    ours = kernels.resample_poly(x, 4, 1, window=window)
    assert np.array_equal(ours, signal.resample_poly(x, 4, 1, axis=0, window=window))
    assert np.array_equal(window, designs.firwin(81, 0.25, 5.0)), "the caller's taps are not scaled in place"


@pytest.mark.parametrize("mode", ["nearest", "reflect"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_running_filters_are_scipys(mode, dtype):
    x = RNG.standard_normal(20000).astype(dtype)
    for size in (1, 2, 961, 25000):
        assert np.array_equal(kernels.minimum_filter1d(x, size, mode), ndimage.minimum_filter1d(x, size, mode=mode))
        assert np.array_equal(kernels.uniform_filter1d(x, size, mode), ndimage.uniform_filter1d(x, size, mode=mode))


def test_measuring_and_limiting_never_import_scipy_signal():
    """The point of the module: a mix and its measurement load only scipy's compiled loops; and scipy.signal,
    imported afterwards in the same process, still works on the modules already loaded."""
    probe = """
import sys
import numpy as np
from sora_cli.sound.loudness import LoudnessMeter, limiter_gain, peak_headroom
from sora_cli.speech.lines import resample_poly
x = np.random.default_rng(1).standard_normal((48000, 2)) * 0.1
meter = LoudnessMeter(); meter.add(x); meter.integrated()
meter = LoudnessMeter(track_peak=True); meter.add(x); meter.peaks()
limiter_gain(peak_headroom(x)); resample_poly(x[:, 0].astype(np.float32), 48000, 22050)
late = sorted(m for m in sys.modules if m.startswith(("scipy.signal", "scipy.ndimage", "pyloudnorm")))
assert late == ["scipy.ndimage._nd_image", "scipy.signal._sosfilt", "scipy.signal._upfirdn_apply"], late
from scipy.signal import sosfilt
from sora_cli.dsp.kernels import sosfilt as ours
sos = np.array([[1.0, 0.5, 0.0, 1.0, -0.5, 0.0]])
assert np.array_equal(sosfilt(sos, x, axis=0, zi=np.zeros((1, 2, 2)))[0], ours(sos, x, np.zeros((1, 2, 2)))[0])
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_a_scipy_laid_out_otherwise_is_imported_the_normal_way():
    """Where the compiled module cannot be loaded alone, scipy's own import gives the same module: slower, same bits."""
    probe = """
import sys
import numpy as np
from sora_cli.dsp import kernels
def refuse(name, module):
    raise FileNotFoundError(module)
kernels._load_alone = refuse
x = np.random.default_rng(2).standard_normal(1000)
y = kernels.minimum_filter1d(x, 9, "nearest")
assert "scipy.ndimage" in sys.modules, "imported the normal way"
from scipy.ndimage import minimum_filter1d
assert np.array_equal(y, minimum_filter1d(x, 9, mode="nearest"))
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
