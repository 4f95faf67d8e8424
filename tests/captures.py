"""A cameo capture for tests: a real face photograph (scikit-image's astronaut,
shipped in its wheel) animated into a short video, with speech from the
project's own engine. The face's box in the 480x480 frame is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FACE_BOX = (161, 66, 95, 95)  # x, y, w, h on the 480x480 crop data.astronaut()[:480, 16:496]
RATE = 48_000


def astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:480, 16:496])


def make_capture(path: Path, seconds: float = 4.0, fps: int = 12, face: bool = True, speech: bool = True) -> Path:
    from sora_cli.audio_files import write_wav
    from sora_cli.ffmpeg import run_ffmpeg
    from sora_cli.render.encode import FrameEncoder, VideoSettings
    from sora_cli.speech.engine import speak
    from sora_cli.speech.voice import ResolvedVoice

    base = astronaut() if face else np.full((480, 480, 3), 120, np.uint8)
    video = path.with_suffix(".video.mp4")
    encoder = FrameEncoder(video, VideoSettings(480, 480, fps), [0], channels=3)
    for i in range(int(seconds * fps)):
        dx, dy = round(2 * np.sin(i / 5)), round(2 * np.cos(i / 7))
        frame = np.roll(np.roll(base, dy, axis=0), dx, axis=1)
        encoder.write(np.clip(frame.astype(np.int16) + (i % 3) - 1, 0, 255).astype(np.uint8))
    encoder.close()
    rng = np.random.default_rng(0)
    audio = rng.normal(0, 0.002, int(seconds * RATE)).astype(np.float32)
    if speech:
        voice = ResolvedVoice(engine="espeak", voice="en-us+m3", pitch=40, rate=160, range=50)
        line = speak("Hello, I am happy to appear in this film.", voice, "normal")
        x = np.interp(np.arange(0, len(line.samples), line.rate / RATE), np.arange(len(line.samples)), line.samples)
        start = int(0.6 * RATE)
        audio[start : start + len(x)] += 0.5 * x[: len(audio) - start]
    wav = path.with_suffix(".wav")
    write_wav(wav, audio)
    run_ffmpeg(["-i", video, "-i", wav, "-c:v", "copy", "-c:a", "aac", "-shortest", path], "making a test capture")
    video.unlink()
    wav.unlink()
    return path
