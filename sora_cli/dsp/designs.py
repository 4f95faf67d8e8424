"""The filters the sound path uses, as scipy designs them, kept in files.

Designing a filter needs ``scipy.signal`` (and pyloudnorm, which imports it):
0.7-1 s of import for a few hundred numbers that never change. So the designs
every render uses (the K-weighting at the mix rate, the two true-peak
interpolators, speech's 22050 -> 48000 Hz resampler) are kept in ``designs/``
as raw little-endian float64, exactly the bits scipy makes: the tests design
each again and compare (``python -m sora_cli.dsp.designs`` writes them). A
design not kept there is made by scipy on first use, as before.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).with_name("designs")
#: (numtaps, cutoff relative to Nyquist, Kaiser beta) of the low-pass designs kept in files
KEPT_FIRWIN = [(48, 0.25, 7.0), (81, 0.25, 5.0), (6401, 1.0 / 320, 5.0)]
KEPT_K_WEIGHTING = [48000]


def firwin(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta))`` (a fresh array: callers scale it in place)."""
    return _firwin(numtaps, cutoff, beta).copy()


@functools.cache
def _firwin(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    kept = _read(_firwin_name(numtaps, cutoff, beta))
    return kept if kept is not None else design_firwin(numtaps, cutoff, beta)


def k_weighting(rate: int) -> np.ndarray:
    """BS.1770's K-weighting as pyloudnorm makes it: one cascade of biquads (second-order sections), gain folded in."""
    return _k_weighting(rate).copy()


@functools.cache
def _k_weighting(rate: int) -> np.ndarray:
    kept = _read(f"k_weighting_{rate}")
    return kept.reshape(-1, 6) if kept is not None else design_k_weighting(rate)


def design_firwin(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    from scipy.signal import firwin as scipy_firwin

    return np.asarray(scipy_firwin(numtaps, cutoff, window=("kaiser", beta)), np.float64)


def design_k_weighting(rate: int) -> np.ndarray:
    import pyloudnorm
    from scipy.signal import tf2sos

    stages = list(pyloudnorm.Meter(rate)._filters.values())
    sos = np.concatenate([tf2sos(f.b, f.a) for f in stages])
    sos[0, :3] *= float(np.prod([f.passband_gain for f in stages]))
    return np.asarray(sos, np.float64)


def kept() -> dict[str, np.ndarray]:
    """Every design this module keeps in a file, designed now by scipy, by file name."""
    out = {_firwin_name(*spec): design_firwin(*spec) for spec in KEPT_FIRWIN}
    out.update({f"k_weighting_{rate}": design_k_weighting(rate) for rate in KEPT_K_WEIGHTING})
    return out


def _firwin_name(numtaps: int, cutoff: float, beta: float) -> str:
    return f"firwin_{numtaps}_{cutoff.hex()}_{beta.hex()}"


def _read(name: str) -> np.ndarray | None:
    path = FOLDER / f"{name}.f8"
    if not path.is_file():
        return None
    out = np.frombuffer(path.read_bytes(), "<f8").astype(np.float64)
    out.flags.writeable = False
    return out


if __name__ == "__main__":  # python -m sora_cli.dsp.designs: write the kept designs again
    FOLDER.mkdir(exist_ok=True)
    for name, taps in kept().items():
        (FOLDER / f"{name}.f8").write_bytes(np.ascontiguousarray(taps, "<f8").tobytes())
        print(f"{name}.f8: {taps.size} values", file=sys.stderr)
