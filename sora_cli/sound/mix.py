"""The film's one soundtrack: every sound placed by its time in the film, mixed once.

Sources are dialogue (synthesised or recorded), effects, the ambience bed and
music. The mix is made in blocks, so memory does not grow with the film:

1. render the raw mix block by block into a scratch file, measuring its
   integrated loudness on the way;
2. pick the gain that brings it to ``output.loudness``, run the true-peak
   limiter over it and measure again, correcting the gain until the result is
   within :data:`TOLERANCE_LU` of the target;
3. write the final pass to AAC.

Mixing the whole film at once (rather than per shot) is what keeps sound and
picture from drifting apart at shot boundaries.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from sora_cli.errors import SoraError
from sora_cli.ffmpeg import ffmpeg_exe, stderr_tail
from sora_cli.plan.model import Plan
from sora_cli.render.progress import NullProgress, Progress
from sora_cli.sound.ambience import bed_segments, component_range
from sora_cli.sound.effects import effect
from sora_cli.sound.files import decode_audio, load_take
from sora_cli.sound.loudness import LIMITER_MARGIN, LoudnessMeter, limiter_gain
from sora_cli.sound.music import Music
from sora_cli.sound.speech import speak
from sora_cli.sound.synth import RATE, seconds

BLOCK = RATE * 8
CEILING_DBTP = -1.5  # under the -1 dBTP limit, with room for the AAC encoder's overshoot
MAX_TRUE_PEAK = 10 ** (-1.0 / 20)  # what the delivered file must never exceed
TOLERANCE_LU = 0.2
#: peak level of a spoken line, by delivery
SPEECH_PEAK = {"whisper": 0.32, "normal": 0.6, "shout": 0.85}
RECORDED_PEAK = 0.6
AAC_BITRATE = "192k"


@dataclass(frozen=True)
class Event:
    """A sound placed in the film; loaded only while the mixer is near it."""

    start: int
    length: int
    load: Callable[[], np.ndarray]
    gain: float


@dataclass(frozen=True)
class MixReport:
    loudness: float  # integrated LUFS of the final mix (before AAC)
    true_peak_dbtp: float
    gain_db: float
    limited: bool


def _speech_event(plan: Plan, line) -> Event:
    start = seconds(line.start)
    if line.audio:
        path = line.audio

        def load_recorded() -> np.ndarray:
            take = load_take(path)
            return take * np.float32(RECORDED_PEAK / max(float(np.max(np.abs(take))), 1e-9))

        return Event(start, seconds(line.end - line.start) + 1, load_recorded, 1.0)
    voice = plan.characters[line.speaker].voice
    text, delivery = line.line, line.delivery

    def load_spoken() -> np.ndarray:
        speech = speak(text, voice, delivery)
        x = resample_poly(speech.samples, RATE, speech.rate).astype(np.float32)
        return x * np.float32(SPEECH_PEAK[delivery] / max(float(np.max(np.abs(x))), 1e-9))

    return Event(start, seconds(line.end - line.start) + RATE // 10, load_spoken, 1.0)


def _sfx_event(sfx) -> Event:
    gain = 10 ** (sfx.gain / 20)
    if sfx.is_file:
        path = sfx.sound
        length = len(decode_audio(path, RATE, 1))
        return Event(seconds(sfx.start), length, lambda: decode_audio(path, RATE, 1)[:, 0] * np.float32(0.5), gain)
    name = sfx.sound
    return Event(seconds(sfx.start), len(effect(name)), lambda: effect(name), gain)


class Mixer:
    """Renders any range of the raw (unnormalised) mix."""

    def __init__(self, plan: Plan):
        self.total = seconds(plan.duration)
        events = [_speech_event(plan, line) for shot in plan.shots for line in shot.dialogue]
        events += [_sfx_event(sfx) for shot in plan.shots for sfx in shot.sfx]
        self.events = sorted(events, key=lambda e: e.start)
        self.beds = bed_segments(plan) if plan.audio.ambience == "auto" else []
        self.ambience_file = None
        if plan.audio.ambience not in ("auto", "none"):
            self.ambience_file = Music(decode_audio(plan.audio.ambience), 0.5, True, self.total, ())
        self.music = Music.from_plan(plan)
        self._loaded: dict[int, np.ndarray] = {}

    def render(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((n, 2), np.float32)
        end = start + n
        for seg in self.beds:
            if seg.start < end and seg.end > start:
                out += component_range(seg.component, start, n) * seg.gain(start, n)[:, None]
        for i, event in enumerate(self.events):
            if event.start >= end:
                break
            if event.start + event.length <= start:
                self._loaded.pop(i, None)
                continue
            if i not in self._loaded:
                self._loaded[i] = event.load()
            samples = self._loaded[i]
            lo, hi = max(start, event.start), min(end, event.start + len(samples))
            if hi > lo:
                out[lo - start : hi - start] += (samples[lo - event.start : hi - event.start] * event.gain)[:, None]
        if self.ambience_file is not None:
            out += self.ambience_file.render(start, n)
        if self.music is not None:
            out += self.music.render(start, n)
        return out


def _blocks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, BLOCK):
        yield start, min(BLOCK, total - start)


class _Scratch:
    """The raw mix on disk (float32 stereo), read back in blocks with limiter context."""

    def __init__(self, directory: Path, total: int):
        self.path = directory / "raw.f32"
        self.total = total

    def read(self, start: int, n: int) -> np.ndarray:
        lo, hi = max(0, start), min(self.total, start + n)
        out = np.zeros((n, 2), np.float32)
        if hi > lo:
            with open(self.path, "rb") as fh:
                fh.seek(lo * 8)
                data = np.frombuffer(fh.read((hi - lo) * 8), dtype=np.float32).reshape(-1, 2)
            out[lo - start : lo - start + len(data)] = data
        return out


def _limited(scratch: _Scratch, gain: float, ceiling: float) -> Iterator[tuple[np.ndarray, bool]]:
    """The normalised, limited mix, block by block (with whether the limiter acted)."""
    m = LIMITER_MARGIN
    for start, n in _blocks(scratch.total):
        wide = scratch.read(start - m, n + 2 * m) * np.float32(gain)
        g = limiter_gain(wide, ceiling)
        yield (wide * g[:, None])[m : m + n], bool((g[m : m + n] < 0.9999).any())


def mix_soundtrack(plan: Plan, out_path: Path, progress: Progress | None = None) -> MixReport:
    """Mix the film's soundtrack into ``out_path`` (AAC in MP4/M4A)."""
    progress = progress or NullProgress()
    mixer = Mixer(plan)
    total = mixer.total
    target = plan.loudness
    ceiling = 10 ** (CEILING_DBTP / 20)
    with tempfile.TemporaryDirectory(prefix="sora-mix-") as tmp:
        scratch = _Scratch(Path(tmp), total)
        meter = LoudnessMeter(track_peak=False)
        progress.stage("sound", total / RATE * 3)
        with open(scratch.path, "wb") as fh:
            for start, n in _blocks(total):
                block = mixer.render(start, n)
                meter.add(block)
                fh.write(block.astype("<f4").tobytes())
                progress.stage_advanced(n / RATE)
        raw = meter.integrated()
        gain_db = 0.0 if raw == float("-inf") else target - raw
        loudness, limited = raw, False
        for _ in range(4):  # the limiter lowers loudness a little: correct and measure again
            meter = LoudnessMeter(track_peak=False)
            limited = False
            for block, acted in _limited(scratch, 10 ** (gain_db / 20), ceiling):
                meter.add(block)
                limited |= acted
            loudness = meter.integrated()
            if raw == float("-inf") or abs(loudness - target) <= TOLERANCE_LU:
                break
            gain_db += target - loudness
        progress.stage_advanced(total / RATE)
        for _ in range(3):  # AAC can overshoot the limiter a little: check what was written
            _encode_aac((block for block, _ in _limited(scratch, 10 ** (gain_db / 20), ceiling)), out_path)
            loudness, peak = measure_file(out_path)
            if peak <= MAX_TRUE_PEAK:
                break
            ceiling *= MAX_TRUE_PEAK / peak * 0.97
        progress.stage_advanced(total / RATE)
    peak_db = 20 * np.log10(peak) if peak > 0 else float("-inf")
    return MixReport(loudness=loudness, true_peak_dbtp=float(peak_db), gain_db=gain_db, limited=limited)


def measure_file(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (linear) of a file's audio, decoded in blocks."""
    import av

    meter = LoudnessMeter()
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
        pending: list[np.ndarray] = []
        size = 0
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray().reshape(-1, 2))
                size += len(pending[-1])
            if size >= BLOCK:
                meter.add(np.concatenate(pending))
                pending, size = [], 0
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1, 2))
        if pending:
            meter.add(np.concatenate(pending))
    return meter.integrated(), meter.peak


def _encode_aac(blocks: Iterator[np.ndarray], out_path: Path) -> None:
    with tempfile.TemporaryFile() as err:
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0",
            "-c:a", "aac", "-b:a", AAC_BITRATE, "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-f", "mp4", str(out_path),
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=err)
        assert proc.stdin is not None
        try:
            for block in blocks:
                proc.stdin.write(block.astype("<f4").tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            err.seek(0)
            raise SoraError(
                f"ffmpeg failed while encoding the soundtrack:\n{stderr_tail(err.read().decode('utf-8', 'replace'))}"
            )


def soundtrack_key(plan: Plan) -> str:
    """Hash of everything the soundtrack depends on: the plan's timing and audio, and the audio files' content."""
    import hashlib
    import json

    from sora_cli.render.cache import file_digest

    data = plan.model_dump(
        mode="json",
        exclude={
            "title",
            "storyboard",
            "storyboard_hash",
            "base_dir",
            "backend",
            "width",
            "height",
            "subtitles",
            "watermark",
        },
    )
    files = [plan.audio.music, None if plan.audio.ambience in ("auto", "none") else plan.audio.ambience]
    files += [line.audio for shot in plan.shots for line in shot.dialogue]
    files += [sfx.sound for shot in plan.shots for sfx in shot.sfx if sfx.is_file]
    digests = {f: file_digest(f) for f in files if f}
    payload = json.dumps(
        {"format": 1, "plan": data, "files": digests, "ceiling": CEILING_DBTP, "bitrate": AAC_BITRATE}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def cached_soundtrack(plan: Plan, cache, out_path: Path) -> MixReport:
    """The soundtrack from the cache when nothing it depends on changed, else mixed and stored."""
    import json
    import shutil

    from sora_cli.atomic import atomic_path, atomic_write_text

    key = soundtrack_key(plan)
    audio = cache.root / "sound" / f"{key}.m4a"
    meta = audio.with_suffix(".json")
    if audio.is_file() and meta.is_file():
        shutil.copyfile(audio, out_path)
        return MixReport(**json.loads(meta.read_text()))
    report = mix_soundtrack(plan, out_path)
    with atomic_path(audio) as tmp:
        shutil.copyfile(out_path, tmp)
    atomic_write_text(meta, json.dumps(report.__dict__))
    return report
