"""Generate the example storyboards' small assets, deterministically.

Run ``python storyboards/make_assets.py``; the outputs are committed so a fresh
checkout renders without running it. Nothing is downloaded: portraits are
drawn, music is synthesised, the "recorded take" is the project's own speech
engine with a room reverb, and the example cameo is a drawn person whose
consent record says so.
"""

from __future__ import annotations

import hashlib
import json
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
RATE = 24_000


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def portrait(path: Path, skin: str, hair: str, shirt: str, eyes: str = "#2b2b2b", goggles: bool = False) -> None:
    """A simple, recognisable head-and-shoulders likeness (256x256)."""
    img = Image.new("RGB", (256, 256), "#cfd8dc")
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((40, 190, 216, 300), 60, fill=shirt)
    d.ellipse((70, 40, 186, 186), fill=skin)
    d.pieslice((62, 26, 194, 150), 180, 360, fill=hair)
    d.ellipse((98, 100, 116, 116), fill=eyes)
    d.ellipse((140, 100, 158, 116), fill=eyes)
    if goggles:
        d.rounded_rectangle((86, 92, 170, 124), 12, outline="#455a64", width=6)
    d.arc((104, 128, 152, 160), 20, 160, fill="#8d3b3b", width=4)
    img.save(path, optimize=True)


def chord_music(seconds: float, chords: list[list[float]], bpm: float, seed: int) -> np.ndarray:
    """A soft pad with a plucked arpeggio: enough to hear ducking and looping."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    beat = 60.0 / bpm
    bar = 4 * beat
    for i, chord in enumerate(chords * int(np.ceil(seconds / bar / len(chords)))):
        start = i * bar
        if start >= seconds:
            break
        seg = (t >= start) & (t < start + bar)
        tt = t[seg] - start
        env = np.minimum(1, tt / 0.4) * np.minimum(1, (bar - tt) / 0.4)
        for f in chord:
            out[seg] += 0.08 * env * np.sin(2 * np.pi * f * tt + rng.uniform(0, 6.28))
        for k in range(8):
            f = chord[k % len(chord)] * 2
            n0 = start + k * beat / 2
            m = (t >= n0) & (t < n0 + beat)
            tk = t[m] - n0
            out[m] += 0.12 * np.exp(-tk * 6) * np.sin(2 * np.pi * f * tk)
    return out / np.max(np.abs(out)) * 0.8


def recorded_take(path: Path, text: str) -> None:
    """A 'recorded' line: espeak with another voice, a little room and hiss."""
    from sora_cli.plan.model import ResolvedVoice
    from sora_cli.speech.engine import speak

    speech = speak(
        text, ResolvedVoice(engine="espeak", voice="en-gb-scotland+m7", pitch=35, rate=140, range=40), "normal"
    )
    x = np.interp(np.arange(0, len(speech.samples), speech.rate / RATE), np.arange(len(speech.samples)), speech.samples)
    room = np.zeros(int(0.25 * RATE))
    room[[0, int(0.031 * RATE), int(0.067 * RATE), int(0.11 * RATE)]] = [1, 0.35, 0.2, 0.1]
    x = np.convolve(x, room)[: len(x) + len(room) // 2]
    x = np.concatenate([np.zeros(int(0.2 * RATE)), x, np.zeros(int(0.3 * RATE))])
    x += np.random.default_rng(2).normal(0, 0.002, len(x))
    write_wav(path, 0.8 * x / np.max(np.abs(x)))


def room_tone(path: Path, seconds: float = 6.0) -> None:
    rng = np.random.default_rng(5)
    noise = rng.normal(0, 1, int(seconds * RATE))
    brown = np.cumsum(noise)
    brown -= np.convolve(brown, np.ones(2400) / 2400, mode="same")
    t = np.arange(len(noise)) / RATE
    hum = 0.02 * np.sin(2 * np.pi * 50 * t) + 0.01 * np.sin(2 * np.pi * 100 * t)
    x = brown / np.max(np.abs(brown)) * 0.1 + hum
    fade = np.minimum(1, np.minimum(t, seconds - t) / 0.05)
    write_wav(path, x * fade)


def chime(path: Path) -> None:
    t = np.arange(int(1.2 * RATE)) / RATE
    x = sum(a * np.sin(2 * np.pi * f * t) for f, a in ((1318.5, 0.5), (1975.5, 0.3), (2637, 0.15)))
    write_wav(path, 0.7 * x * np.exp(-t * 4))


def example_cameo(root: Path) -> None:
    """A cameo of a drawn, fictional person, with an explicit consent record."""
    folder = root / "ada"
    folder.mkdir(parents=True, exist_ok=True)
    portrait(folder / "face_0.png", skin="#c68642", hair="#1b1b1b", shirt="#f2c200")
    portrait(folder / "portrait.png", skin="#c68642", hair="#1b1b1b", shirt="#f2c200")
    capture_hash = hashlib.sha256((folder / "face_0.png").read_bytes()).hexdigest()
    manifest = {
        "format": 1,
        "name": "ada",
        "consent": {"by": "Ada Example (a drawn, fictional person)", "on": "2026-11-01", "expires": None},
        "capture_sha256": capture_hash,
        "likeness": ["face_0.png"],
        "portrait": "portrait.png",
        "voice": {"voice": "en-gb+f4", "pitch": 64, "rate": 170},
        "revoked_on": None,
    }
    # consent records are signed (sora_cli/cameo/consent.py): the committed one by sora's example key,
    # a regenerated one by this machine's key (trusted here only)
    from sora_cli.cameo.consent import sign_record

    (folder / "cameo.json").write_text(json.dumps(sign_record(manifest), indent=2) + "\n")


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    portrait(ASSETS / "mara.png", skin="#f1c27d", hair="#7b3f00", shirt="#d33b2f", goggles=True)
    portrait(ASSETS / "nora.png", skin="#e0ac69", hair="#2c1b0e", shirt="#3f6fb5")
    write_wav(
        ASSETS / "theme.wav",
        chord_music(12.0, [[220, 261.6, 329.6], [196, 246.9, 293.7], [174.6, 220, 261.6], [196, 246.9, 293.7]], 84, 1),
    )
    write_wav(
        ASSETS / "ad_theme.wav",
        chord_music(8.0, [[261.6, 329.6, 392], [293.7, 349.2, 440], [329.6, 392, 493.9], [349.2, 440, 523.3]], 112, 2),
    )
    recorded_take(ASSETS / "ivan_take2.wav", "We camp here.")
    room_tone(ASSETS / "room_tone.wav")
    chime(ASSETS / "chime.wav")
    example_cameo(HERE / "cameos")


if __name__ == "__main__":
    main()
