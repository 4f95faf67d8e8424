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


def audio_duration(path: str | Path) -> float:
    return len(decode_audio(str(path))) / MIX_RATE
