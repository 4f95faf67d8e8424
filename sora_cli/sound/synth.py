"""Small synthesis building blocks shared by effects and ambience (48 kHz, float32)."""

from __future__ import annotations

import functools

import numpy as np

RATE = 48_000


def seconds(n: float) -> int:
    return round(n * RATE)


def shaped_noise(rng: np.random.Generator, n: int, lo: float, hi: float, tilt: float = 0.0) -> np.ndarray:
    """White noise band-limited to [lo, hi] Hz (FFT mask), with a spectral tilt in dB/octave."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    out = np.fft.irfft(spectrum * _band_mask(n, lo, hi, tilt), n)
    peak = np.max(np.abs(out)) or 1.0
    return (out / peak).astype(np.float32)


@functools.lru_cache(maxsize=16)  # a few hundred KB each: the ambience uses a handful
def _band_mask(n: int, lo: float, hi: float, tilt: float) -> np.ndarray:
    """The spectral mask of :func:`shaped_noise`, made once per shape (ambience asks for thousands of grains)."""
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    band = ((freqs >= lo) & (freqs <= hi)).astype(float)
    edge = np.clip((freqs - lo) / max(lo * 0.3, 1.0), 0, 1) * np.clip((hi - freqs) / max(hi * 0.2, 1.0), 0, 1)
    mask = np.minimum(band, edge) if lo > 0 else band * np.clip((hi - freqs) / max(hi * 0.2, 1.0), 0, 1)
    if tilt:
        mask = mask * (np.maximum(freqs, 20.0) / 1000.0) ** (tilt / 6.02)
    mask.setflags(write=False)
    return mask


def band_noise(rng: np.random.Generator, n: int, lo: float, hi: float, tilt: float = 0.0) -> np.ndarray:
    """Gaussian noise with :func:`shaped_noise`'s spectrum (peak 1, float32), drawn in the frequency domain.

    White noise's spectrum is itself Gaussian, so drawing only the bins the
    mask keeps and making one float32 inverse FFT gives the same kind of
    sound as :func:`shaped_noise` (two float64 FFTs over every bin) for a fifth
    of the cost: the ambience is made of thousands of such grains.
    """
    first, mask = _band_span(n, lo, hi, tilt)
    spectrum = np.zeros(n // 2 + 1, np.complex64)
    if len(mask):
        spectrum[first : first + len(mask)] = rng.standard_normal((len(mask), 2), np.float32).view(np.complex64)[:, 0]
        spectrum[first : first + len(mask)] *= mask
    out = np.fft.irfft(spectrum, n)
    peak = np.float32(np.max(np.abs(out)) or 1.0)
    return out / peak


@functools.lru_cache(maxsize=16)
def _band_span(n: int, lo: float, hi: float, tilt: float) -> tuple[int, np.ndarray]:
    """The first bin the mask keeps and the mask (float32) from there to the last it keeps."""
    mask = _band_mask(n, lo, hi, tilt)
    kept = np.flatnonzero(mask)
    if len(kept) == 0:
        return 0, np.zeros(0, np.float32)
    span = mask[kept[0] : kept[-1] + 1].astype(np.float32)
    span.setflags(write=False)
    return int(kept[0]), span


def sine(n: int, freq: float, start: int = 0, phase: float = 0.0) -> np.ndarray:
    """``sin(2 pi freq t + phase)`` for samples ``start .. start + n`` of the film (float32).

    The film-time offset is reduced modulo a cycle in float64, so the float32
    sine stays exact to a small fraction of a cycle however far into the film.
    """
    offset = (2 * np.pi * freq * (start / RATE) + phase) % (2 * np.pi)
    step = np.float32(2 * np.pi * freq / RATE)
    return np.sin(np.arange(n, dtype=np.float32) * step + np.float32(offset))


def envelope(n: int, attack: float, release: float, hold: float = 0.0) -> np.ndarray:
    """Linear attack, hold, exponential release (times in seconds)."""
    t = np.arange(n) / RATE
    env = np.where(t < attack, t / max(attack, 1e-6), 1.0)
    decay = np.exp(-np.maximum(t - attack - hold, 0.0) / max(release, 1e-6))
    return (env * decay).astype(np.float32)


def tone(n: int, freq: float | np.ndarray, phase: float = 0.0) -> np.ndarray:
    f = np.broadcast_to(np.asarray(freq, dtype=float), (n,))
    return np.sin(2 * np.pi * np.cumsum(f) / RATE + phase).astype(np.float32)


def place(out: np.ndarray, sound: np.ndarray, at: float, gain: float = 1.0) -> None:
    """Add ``sound`` into ``out`` starting at ``at`` seconds (clipped to ``out``)."""
    start = seconds(at)
    if start < 0:
        sound, start = sound[-start:], 0
    if start >= len(out):
        return
    end = min(len(out), start + len(sound))
    out[start:end] += gain * sound[: end - start]


def normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x * (peak / m)).astype(np.float32) if m > 0 else x.astype(np.float32)


def fade_edges(x: np.ndarray, length: float = 0.005) -> np.ndarray:
    """Short fades in and out, so a sound never starts or stops with a click."""
    n = min(seconds(length), len(x) // 2)
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return x
