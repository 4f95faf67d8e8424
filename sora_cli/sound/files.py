"""Reading user audio files (recorded takes, music, effects, ambience beds).

Decoded with PyAV's bundled ffmpeg and resampled to the mix rate, so any
format ffmpeg reads works, and the decoded length is the real length.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

MIX_RATE = 48_000


class AudioFileError(Exception):
    """The file could not be decoded as audio."""


@functools.lru_cache(maxsize=64)
def decode_audio(path: str, rate: int = MIX_RATE, channels: int = 2) -> np.ndarray:
    """Decode ``path`` to float32 ``(samples, channels)`` at ``rate``."""
    import av

    layout = "mono" if channels == 1 else "stereo"
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioFileError("has no audio stream")
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
            parts: list[np.ndarray] = []
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1, channels))
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1, channels))
    except AudioFileError:
        raise
    except Exception as exc:  # PyAV raises many kinds; all mean "not audio we can read"
        raise AudioFileError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    data = np.concatenate(parts) if parts else np.zeros((0, channels), np.float32)
    data.setflags(write=False)
    return data


def load_take(path: str | Path) -> np.ndarray:
    """A recorded take: mono at the mix rate, with leading and trailing silence trimmed.

    The trimmed length is the line's length, so its cue starts when the voice does.
    """
    from sora_cli.sound.speech import trim_silence

    mono = decode_audio(str(path), MIX_RATE, 1)[:, 0]
    peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
    return trim_silence(mono, MIX_RATE, threshold=max(0.004, 0.02 * peak))


def audio_duration(path: str | Path) -> float:
    """A recorded take's spoken length (silence trimmed)."""
    return len(load_take(path)) / MIX_RATE


def write_wav(path: Path, samples: np.ndarray, rate: int = MIX_RATE) -> None:
    """16-bit PCM WAV, written atomically."""
    import wave

    from sora_cli.atomic import atomic_path

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    with atomic_path(Path(path)) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
