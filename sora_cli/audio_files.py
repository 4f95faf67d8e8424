"""Reading user audio files (recorded takes, music, effects, ambience beds).

Decoded with PyAV's bundled ffmpeg and resampled to the mix rate, so any
format ffmpeg reads works, and the decoded length is the real length.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from sora_cli.atomic import atomic_path
from sora_cli.digests import path_version
from sora_cli.speech.engine import trim_silence

MIX_RATE = 48_000


class AudioFileError(Exception):
    """The file could not be decoded as audio."""


def decode_audio(path: str, rate: int = MIX_RATE, channels: int = 2) -> np.ndarray:
    """Decode ``path`` to float32 ``(samples, channels)`` at ``rate`` (memoised per file version).

    The memo is keyed by the file's version (:func:`~sora_cli.digests.file_version`) as well as its
    path: a long-lived process (``sora watch``) must hear a music file or a take that was saved anew.
    """
    version = path_version(path) or (-1,)  # (none: the decoder says what is wrong with it)
    return _decode_audio(str(path), rate, channels, version)


@functools.lru_cache(maxsize=64)
def _decode_audio(path: str, rate: int, channels: int, version: tuple[int, ...]) -> np.ndarray:
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


decode_audio.cache_clear = _decode_audio.cache_clear  # type: ignore[attr-defined]


def load_take(path: str | Path) -> np.ndarray:
    """A recorded take: mono at the mix rate, with leading and trailing silence trimmed.

    The trimmed length is the line's length, so its cue starts when the voice does.
    """
    mono = decode_audio(str(path), MIX_RATE, 1)[:, 0]
    peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
    return trim_silence(mono, MIX_RATE, threshold=max(0.004, 0.02 * peak))


def _wav_shortfall(path: Path) -> tuple[float, float] | None:
    """(declared, present) seconds of a WAV file whose data chunk is cut short, else None.

    ffmpeg quietly shortens a truncated WAV to what is there; its header still
    says how long it should be.
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        byte_rate = 0
        while chunk := fh.read(8):
            if len(chunk) < 8:
                return None
            kind, length = struct.unpack("<4sI", chunk)
            start = fh.tell()
            if kind == b"fmt ":
                fmt = fh.read(16)
                byte_rate = struct.unpack("<HHIIHH", fmt)[3] if len(fmt) == 16 else 0
            if kind == b"data":
                present = size - start
                if byte_rate and length != 0xFFFFFFFF and present + 1 < length:
                    return length / byte_rate, present / byte_rate
                return None
            fh.seek(start + length + (length & 1))
    return None


def check_audio(path: str | Path, max_seconds: float) -> str | None:
    """Why ``path`` is not usable audio, or None: decodes it all, as the mix will.

    Refuses files ffmpeg cannot decode (random bytes), without an audio stream,
    without a single sample, cut short (a truncated WAV), or longer than
    ``max_seconds`` (checked from the header first, so a 10-hour file is not decoded).
    """
    import av

    path = Path(path)
    try:
        if shortfall := _wav_shortfall(path):
            return f"is truncated: its header says {shortfall[0]:.2f} s, the file holds {shortfall[1]:.2f} s"
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "has no audio stream"
            stream = container.streams.audio[0]
            declared = container.duration / 1e6 if container.duration else 0.0
            if declared > max_seconds:
                return f"lasts {declared / 60:.0f} minutes; audio files may last at most {max_seconds / 60:.0f}"
            seconds = 0.0
            for frame in container.decode(stream):
                seconds += frame.samples / (frame.sample_rate or MIX_RATE)
                if seconds > max_seconds:
                    return f"lasts more than {max_seconds / 60:.0f} minutes (the limit)"
    except Exception as exc:  # PyAV raises many kinds; all mean "not audio we can read"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"cannot be decoded as audio ({text.replace(str(path), 'the file')})"
    if seconds <= 0:
        return "holds no sound (no samples)"
    return None


def audio_duration(path: str | Path) -> float:
    """A recorded take's spoken length (silence trimmed)."""
    return len(load_take(path)) / MIX_RATE


def write_wav(path: Path, samples: np.ndarray, rate: int = MIX_RATE) -> None:
    """16-bit PCM WAV, written atomically."""
    import wave

    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    with atomic_path(Path(path)) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
