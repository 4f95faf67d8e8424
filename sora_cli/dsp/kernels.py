"""scipy's compiled filter kernels, without scipy.signal's import.

``import scipy.signal`` costs 0.7-1 s on this project's machines (its array-API
decorators parse the docstring of every public function), and ``scipy.ndimage``
0.1-0.2 s more: more than the rest of a line edit's mix. What the sound path
runs is a handful of compiled loops (a biquad cascade, a polyphase FIR, running
minima and means), so this module loads those compiled modules straight
from scipy's package folder (3 ms) and calls them the way scipy's own wrappers
do, with the same arguments in the same order: the results are the same bits
(``tests/test_dsp.py`` compares every function with scipy's).

A compiled module is registered under its own name, so a later ``import
scipy.signal`` in the same process takes it from there instead of loading it a
second time. Where scipy's layout is not what this module expects, it imports
the module the normal way: slower, never different.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import math
import sys
import threading
from pathlib import Path
from types import ModuleType

import numpy as np

from sora_cli.dsp import designs

_LOCK = threading.Lock()  # a compiled module must be initialised once per process, whichever thread asks first


def compiled(module: str) -> ModuleType:
    """scipy's compiled ``module`` (``"signal._sosfilt"``), loaded without running its package's ``__init__``."""
    name = f"scipy.{module}"
    with _LOCK:
        if name in sys.modules:
            return sys.modules[name]
        try:
            return _load_alone(name, module)
        except Exception:
            sys.modules.pop(name, None)
            return importlib.import_module(name)


def _load_alone(name: str, module: str) -> ModuleType:
    import scipy

    *folders, leaf = module.split(".")
    folder = Path(scipy.__file__).parent.joinpath(*folders)
    path = next(p for p in (folder / (leaf + s) for s in importlib.machinery.EXTENSION_SUFFIXES) if p.is_file())
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` for float64 ``x`` of shape (samples, channels).

    ``zi`` is (sections, 2, channels); returns the filtered signal and the final state, shaped alike.
    """
    y = np.array(np.moveaxis(x, 0, -1), np.float64, order="C")  # (channels, samples), filtered in place
    state = np.ascontiguousarray(np.moveaxis(np.array(zi, np.float64), (0, 1), (-2, -1)))  # (channels, sections, 2)
    compiled("signal._sosfilt")._sosfilt(np.require(sos, np.float64, ["C", "W"]), y, state)
    return np.moveaxis(y, -1, 0), np.moveaxis(state, (-2, -1), (0, 1))


def upfirdn(h: np.ndarray, x: np.ndarray, up: int = 1, down: int = 1) -> np.ndarray:
    """``scipy.signal.upfirdn(h, x, up, down, axis=0)``: zero-stuff by ``up``, filter with ``h``, keep every ``down``-th."""
    apply = compiled("signal._upfirdn_apply")
    x = np.asarray(x)
    kind = np.result_type(h.dtype, x.dtype, np.float32)
    h = np.asarray(h, kind)
    # the taps by phase, each phase reversed: the layout the compiled loop reads
    padded = np.zeros(len(h) + (-len(h) % up), kind)
    padded[: len(h)] = h
    phases = np.ascontiguousarray(padded.reshape(-1, up).T[:, ::-1].ravel())
    shape = list(x.shape)
    shape[0] = apply._output_len(len(h), x.shape[0], up, down)
    out = np.zeros(shape, kind, order="C")
    apply._apply(np.asarray(x, kind), phases, out, up, down, 0, apply.mode_enum("constant"), 0)
    return out


def resample_poly(x: np.ndarray, up: int, down: int, window: np.ndarray | None = None) -> np.ndarray:
    """``scipy.signal.resample_poly(x, up, down, axis=0)``, its window given as taps or its default Kaiser design."""
    x = np.asarray(x)
    g = math.gcd(up, down)
    up, down = up // g, down // g
    if up == down == 1:
        return x.copy()
    n_in = len(x)
    n_out = n_in * up // down + bool(n_in * up % down)
    if window is not None:
        h = np.array(window)
        half = (len(h) - 1) // 2
    else:
        rate = max(up, down)
        half = 10 * rate
        h = designs.firwin(2 * half + 1, 1.0 / rate, 5.0)
        if x.dtype.kind in "fc":
            h = h.astype(x.dtype)
    h *= up
    # zero-pad the filter so that the output samples sit at its centre
    pre = down - half % down
    post = 0
    drop = (half + pre) // down
    output_len = compiled("signal._upfirdn_apply")._output_len
    while output_len(len(h) + pre + post, n_in, up, down) < n_out + drop:
        post += 1
    h = np.concatenate([np.zeros(pre, h.dtype), h, np.zeros(post, h.dtype)])
    return upfirdn(h, x, up, down)[drop : drop + n_out]


#: scipy.ndimage's codes for how a filter extends the array past its ends
_MODES = {"nearest": 0, "reflect": 2}


def minimum_filter1d(x: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """``scipy.ndimage.minimum_filter1d(x, size, mode=mode)`` of a 1-D array."""
    x = np.asarray(x)
    out = np.zeros(x.shape, x.dtype.name)
    compiled("ndimage._nd_image").min_or_max_filter1d(x, size, 0, out, _MODES[mode], 0.0, 0, 1)
    return out


def uniform_filter1d(x: np.ndarray, size: int, mode: str = "reflect") -> np.ndarray:
    """``scipy.ndimage.uniform_filter1d(x, size, mode=mode)`` of a 1-D real array."""
    x = np.asarray(x)
    out = np.zeros(x.shape, x.dtype.name)
    compiled("ndimage._nd_image").uniform_filter1d(x, size, 0, out, _MODES[mode], 0.0, 0)
    return out
