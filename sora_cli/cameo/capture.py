"""From a short capture of a person speaking: their likeness, their voice, a consent record.

Likeness: faces found in sampled frames by OpenCV's Haar cascade (it ships in
the ``opencv-python-headless`` wheel), each scored by sharpness (variance of
the Laplacian), size and frontality (left-right symmetry, and two eyes found),
then the best few that differ from each other, plus a wider portrait.

Voice: the cleanest speech segment (highest level over the capture's noise
floor) as a reference sample, and a profile the speech engine can follow: the
median pitch of voiced frames and the speaking rate from syllable nuclei.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sora_cli.atomic import atomic_path, atomic_write_text
from sora_cli.audio_files import AudioFileError, decode_audio, write_wav
from sora_cli.cameo.consent import purge_cached_shots, record_revocation, revocation_of, sign_record
from sora_cli.cameo.library import MANIFEST
from sora_cli.errors import UsageError

FACES = 3
SAMPLE_FPS = 4.0
CROP = 256


class CaptureRefused(UsageError):
    """The capture cannot make a cameo (no face, no speech): exit 2."""


@dataclass(frozen=True)
class Face:
    time: float
    box: tuple[int, int, int, int]  # x, y, w, h in the frame
    score: float
    crop: np.ndarray  # RGB, CROP x CROP
    portrait: np.ndarray  # RGB, a wider crop


def _frames(path: Path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        next_time = 0.0
        for frame in container.decode(stream):
            t = float(frame.time or 0.0)
            if t + 1e-6 >= next_time:
                next_time = t + 1 / SAMPLE_FPS
                yield t, frame.to_ndarray(format="rgb24")


def find_faces(path: Path) -> list[Face]:
    import cv2

    faces_cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    eyes_cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")
    found: list[Face] = []
    for t, rgb in _frames(path):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        h, w = gray.shape
        for x, y, fw, fh in faces_cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(max(32, w // 12), max(32, h // 12))
        ):
            face = gray[y : y + fh, x : x + fw]
            sharpness = float(cv2.Laplacian(face, cv2.CV_64F).var())
            symmetry = 1.0 - float(np.mean(np.abs(face.astype(np.int16) - face[:, ::-1])) / 255.0)
            eyes = len(eyes_cascade.detectMultiScale(face[: fh // 2], scaleFactor=1.1, minNeighbors=4))
            score = np.log1p(sharpness) / 8 + (fw * fh) / (w * h) * 4 + symmetry + (0.3 if eyes == 2 else 0.0)
            found.append(
                Face(
                    t,
                    (int(x), int(y), int(fw), int(fh)),
                    float(score),
                    _crop(rgb, x, y, fw, fh, 0.25, CROP),
                    _crop(rgb, x, y, fw, fh, 0.9, CROP * 2),
                )
            )
    return found


def _crop(rgb: np.ndarray, x: int, y: int, w: int, h: int, margin: float, size: int) -> np.ndarray:
    from PIL import Image

    side = int(max(w, h) * (1 + 2 * margin))
    cx, cy = x + w // 2, y + h // 2
    left, top = cx - side // 2, cy - side // 2
    # keep the square inside the frame where it fits (padding shows as streaks)
    if side <= rgb.shape[1]:
        left = min(max(left, 0), rgb.shape[1] - side)
    if side <= rgb.shape[0]:
        top = min(max(top, 0), rgb.shape[0] - side)
    padded = np.pad(rgb, ((side, side), (side, side), (0, 0)), mode="edge")
    square = padded[top + side : top + 2 * side, left + side : left + 2 * side]
    return np.asarray(Image.fromarray(square).resize((size, size), Image.Resampling.LANCZOS))


def best_faces(faces: list[Face], count: int = FACES) -> list[Face]:
    """The highest-scoring faces that differ from each other (in time and in pixels)."""
    chosen: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        small = face.crop[::8, ::8].astype(np.int16)
        if all(abs(face.time - c.time) >= 0.5 and np.mean(np.abs(small - c.crop[::8, ::8])) > 2.0 for c in chosen):
            chosen.append(face)
        if len(chosen) == count:
            break
    return chosen


@dataclass(frozen=True)
class VoiceSample:
    samples: np.ndarray  # mono float32 at 48 kHz
    start: float
    pitch_hz: float
    syllables_per_second: float


def find_voice(path: Path) -> VoiceSample | None:
    try:
        mono = decode_audio(str(path), 48_000, 1)[:, 0]
    except AudioFileError:
        return None
    hop = 960  # 20 ms
    n = len(mono) // hop
    if n < 25:
        return None
    energy = 10 * np.log10(np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    floor = float(np.percentile(energy, 10))
    speech = energy > max(floor + 12, -50)
    segments: list[tuple[int, int]] = []
    start = None
    gap = 0
    for i, on in enumerate(np.append(speech, False)):
        if on:
            start = i if start is None else start
            gap = 0
        elif start is not None:
            gap += 1
            if gap > 15 or i == n:  # 300 ms of quiet ends a segment
                segments.append((start, i - gap + 1))
                start, gap = None, 0
    segments = [(a, b) for a, b in segments if b - a >= 25]  # at least 0.5 s
    if not segments:
        return None
    a, b = max(segments, key=lambda s: float(np.mean(energy[s[0] : s[1]])) - floor + 0.5 * np.log1p(s[1] - s[0]))
    b = min(b, a + 300)  # at most 6 s
    clip = mono[a * hop : b * hop].astype(np.float32)
    return VoiceSample(clip, a * hop / 48_000, _median_pitch(clip), _syllable_rate(energy[a:b]))


def _median_pitch(x: np.ndarray, rate: int = 48_000) -> float:
    n = int(0.04 * rate)
    pitches = []
    for k in range(0, len(x) - n, n // 2):
        frame = x[k : k + n] - np.mean(x[k : k + n])
        if np.sqrt(np.mean(frame**2)) < 0.01:
            continue
        ac = np.correlate(frame[::4], frame[::4], "full")[n // 4 - 1 :]
        lo, hi = rate // 4 // 400, rate // 4 // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(rate / 4 / lag)
    return float(np.median(pitches)) if pitches else 0.0


def _syllable_rate(energy_db: np.ndarray) -> float:
    """Syllable nuclei per second: peaks of the smoothed 20 ms energy envelope."""
    env = np.convolve(energy_db, np.ones(5) / 5, mode="same")
    threshold = np.max(env) - 15
    peaks = [i for i in range(1, len(env) - 1) if env[i] > threshold and env[i] >= env[i - 1] and env[i] > env[i + 1]]
    return len(peaks) / max(len(env) * 0.02, 0.5)


def voice_profile(sample: VoiceSample) -> dict[str, object]:
    """The espeak-ng settings closest to the person's voice."""
    female = sample.pitch_hz >= 165
    base = 210.0 if female else 120.0
    pitch = int(np.clip(50 + (sample.pitch_hz - base) / base * 100, 0, 99)) if sample.pitch_hz else 50
    rate = int(np.clip(sample.syllables_per_second * 60 / 1.4, 100, 260))
    return {
        "voice": "en-us+f3" if female else "en-us+m3",
        "pitch": pitch,
        "rate": rate,
        "median_pitch_hz": round(sample.pitch_hz, 1),
        "syllables_per_second": round(sample.syllables_per_second, 2),
    }


def add_cameo(name: str, capture: Path, consent_by: str, library: Path, expires: dt.date | None = None) -> Path:
    """Make cameo ``name`` in ``library`` from ``capture``; refuses without a face or speech."""
    from PIL import Image

    if not capture.is_file():
        raise CaptureRefused(f"{capture}: no such file")
    if not consent_by.strip():
        raise CaptureRefused("--consent-by must name the person who consents")
    if expires is not None and expires < dt.date.today():
        raise CaptureRefused(f"--expires {expires} is in the past")

    digest = hashlib.sha256(capture.read_bytes()).hexdigest()
    if revoked := revocation_of(digest):
        raise CaptureRefused(
            f"{capture}: consent for this capture was revoked on {revoked.get('revoked_on')}; "
            "it cannot make a cameo again (record a new capture with the person's new consent)"
        )
    faces = best_faces(find_faces(capture))
    if not faces:
        raise CaptureRefused(f"{capture}: no face was found; a cameo needs a clear, front-facing view of the person")
    voice = find_voice(capture)
    if voice is None:
        raise CaptureRefused(f"{capture}: no speech was found; a cameo needs the person speaking for a few seconds")
    folder = library / name
    staging = library / f".{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for i, face in enumerate(faces):
        Image.fromarray(face.crop).save(staging / f"face_{i}.png")
    Image.fromarray(faces[0].portrait).save(staging / "portrait.png")
    write_wav(staging / "voice.wav", voice.samples)
    manifest = {
        "format": 1,
        "name": name,
        "consent": {
            "by": consent_by.strip(),
            "on": dt.date.today().isoformat(),
            "expires": expires.isoformat() if expires else None,
        },
        "capture_sha256": digest,
        "likeness": [f"face_{i}.png" for i in range(len(faces))],
        "faces": [{"time": round(f.time, 3), "box": list(f.box), "score": round(f.score, 3)} for f in faces],
        "portrait": "portrait.png",
        "voice_sample": "voice.wav",
        "voice": voice_profile(voice),
        "revoked_on": None,
    }
    atomic_write_text(staging / MANIFEST, json.dumps(sign_record(manifest), indent=2) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)
    return folder


def revoke_cameo(name: str, library: Path) -> Path:
    """Delete the likeness and voice data; keep a tombstone that makes later renders fail."""
    folder = library / name
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"no cameo {name!r} in {library}")

    manifest = json.loads(manifest_path.read_text())
    if not isinstance(manifest, dict):
        raise UsageError(f"{manifest_path}: not a cameo record")
    capture = str(manifest.get("capture_sha256") or "")
    crops = [folder / str(n) for n in [*(manifest.get("likeness") or []), manifest.get("portrait")] if n]
    record_revocation(name, capture, [c for c in crops if c.parent == folder])  # before the crops go
    purge_cached_shots(capture)
    for item in folder.iterdir():
        if item.name != MANIFEST:
            item.unlink() if item.is_file() else shutil.rmtree(item)
    manifest.update(
        revoked_on=dt.date.today().isoformat(), likeness=[], portrait=None, voice_sample=None, voice=None, faces=[]
    )
    with atomic_path(manifest_path) as tmp:
        tmp.write_text(json.dumps(sign_record(manifest), indent=2) + "\n")
    return folder
