"""The film's one soundtrack: every sound placed by its time in the film, mixed once.

Sources are dialogue (synthesised or recorded), effects, the ambience bed and
music. The mix is made in blocks, so memory does not grow with the film:

1. render the raw mix block by block into a scratch file, measuring its
   integrated loudness on the way;
2. pick the gain that brings it to the loudness target, run the true-peak
   limiter over it and measure again, correcting the gain until the result is
   within :data:`TOLERANCE_LU` of the target;
3. write the final pass to AAC, decode what was written and measure its true
   peak: the AAC encoder can overshoot the limiter, so where the delivered
   file is over the delivery limit (the profile's ceiling less
   :data:`DELIVERY_MARGIN_DB`) the limiter's ceiling is lowered *there* (the
   100 ms around each sub-block that overshot) by the overshoot and steps 2-3
   run again. The overshoot is local (the encoder's quantisation noise at a
   transient), so lowering the whole film's ceiling barely moved it. A
   soundtrack that never gets under it is an error, never a delivered file.

Every ceiling follows the plan's delivery profile (``plan.true_peak``: -1 dBTP
for web and EBU R 128, -2 for ATSC A/85, whatever a profile file says): the
limiter starts :data:`ENCODER_HEADROOM_DB` under it. The gain is bounded
(:data:`MAX_GAIN_DB`), so a mix that cannot get loud enough is delivered
quieter (sora qc reports it) and never overflows.

Mixing the whole film at once (rather than per shot) is what keeps sound and
picture from drifting apart at shot boundaries.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sora_cli.atomic import atomic_path, atomic_write_text, naming
from sora_cli.audio_files import decode_audio
from sora_cli.digests import file_digest, seal, verified
from sora_cli.errors import SoraError
from sora_cli.ffmpeg import StderrTail, failure, ffmpeg_exe
from sora_cli.packed_samples import load_samples, store_samples
from sora_cli.plan.model import Plan
from sora_cli.progress import NullProgress, Progress
from sora_cli.scratch import scratch_dir
from sora_cli.sound.ambience import bed_segments, component_range
from sora_cli.sound.effects import effect
from sora_cli.sound.hearing import listen, remember
from sora_cli.sound.loudness import (
    LIMITER_MARGIN,
    LIMITER_WINDOW,
    SUB_BLOCK,
    LoudnessMeter,
    limiter_gain,
    peak_headroom,
)
from sora_cli.sound.music import Music
from sora_cli.sound.synth import RATE, seconds
from sora_cli.speech.lines import RECORDED_PEAK, SPEECH_PEAK, line_speech

BLOCK = RATE * 8
#: the limiter's first ceiling is this far under the profile's: room for the AAC encoder's overshoot. The
#: encoder's overshoot is its quantisation noise at a peak, different at every encode: 0.1-1.0 dB over 20
#: mixes (every example and the bench film at four targets); 1.3 dB leaves 1.0 dB under the delivery limit,
#: and each of those 20 took one encode (at 1.0 dB, three took two or three)
ENCODER_HEADROOM_DB = 1.3
#: what the decoded delivery may reach: the profile's ceiling less a margin for meters that interpolate
#: differently (ffmpeg's ebur128 upsamples with its own filter)
DELIVERY_MARGIN_DB = 0.3
#: the most gain the loudness fit may apply: +60 dB lifts a -74 LUFS mix to -14; more is noise, and float32
#: overflows long before the secant would stop asking for more
MAX_GAIN_DB = 60.0
ENCODE_TRIES = 6
TOLERANCE_LU = 0.05  # of the limited mix before AAC (a pass costs little; a second encode costs much more)
#: what AAC takes from the limited mix's loudness (0.05-0.2 LU measured on every example and the bench film):
#: the first encode aims this much louder, so that it lands within DELIVERY_TOLERANCE_LU without a second
AAC_LOUDNESS_LOSS_LU = 0.1
#: how far the mix before AAC may aim from the target to correct what the encoder did to its loudness
AIM_RANGE_LU = 1.0
DELIVERY_TOLERANCE_LU = 0.2  # of the decoded delivery (profiles allow 0.5 LU)
LIMITER_FORMAT = 5  # bump when the limiter's output changes for the same raw mix (5: the gain fit's best measured gain)
AAC_BITRATE = "192k"
MIX_FORMAT = 2  # bump when the mix of a block changes for the same sources
#: cached mix blocks and headroom, compressed (sora_cli/packed_samples.py); the raw .f32/.headroom
#: entries of older versions are no longer read (the cache's size bound evicts them)
BLOCK_SUFFIX = ".f32z"
HEADROOM_SUFFIX = ".hdrz"
HEADROOM_LEVEL = 6  # a smooth envelope: level 6 halves level 1's size at the same speed


@dataclass(frozen=True)
class Event:
    """A sound placed in the film; loaded only while the mixer is near it."""

    start: int
    length: int
    load: Callable[[], np.ndarray]
    gain: float
    identity: tuple  # what the sound is, for block cache keys


@dataclass(frozen=True)
class Stem:
    """Sound a model generated with a shot's picture, placed at the shot's start in the film.

    It replaces sora's own sounds of the kinds in ``replaces`` (``ambience``:
    the bed and the ambience file; ``effects``; ``speech``) while it plays;
    music stays. ``samples`` are mono float32 at :data:`RATE`.
    """

    start: int
    samples: np.ndarray
    replaces: frozenset[str]
    digest: str


def _kind(event: Event) -> str:
    return "speech" if event.identity[0] in ("speech", "take") else "effects"


@dataclass(frozen=True)
class MixReport:
    loudness: float  # integrated LUFS of the final mix (before AAC)
    true_peak_dbtp: float
    gain_db: float
    limited: bool
    reused: bool = False  # the whole soundtrack came from the cache (nothing it depends on changed)


def _speech_event(plan: Plan, line) -> Event:
    start = seconds(line.start)
    voice = plan.characters[line.speaker].voice
    if line.audio:
        identity: tuple = ("take", file_digest(line.audio), RECORDED_PEAK)
        return Event(start, seconds(line.end - line.start) + 1, lambda: line_speech(voice, line), 1.0, identity)
    identity = ("speech", line.line, voice.model_dump_json(), line.delivery, SPEECH_PEAK[line.delivery])
    return Event(start, seconds(line.end - line.start) + RATE // 10, lambda: line_speech(voice, line), 1.0, identity)


def _sfx_event(sfx) -> Event:
    gain = 10 ** (sfx.gain / 20)
    if sfx.is_file:
        path = sfx.sound
        length = len(decode_audio(path, RATE, 1))
        return Event(
            seconds(sfx.start),
            length,
            lambda: decode_audio(path, RATE, 1)[:, 0] * np.float32(0.5),
            gain,
            ("file", file_digest(path)),
        )
    name = sfx.sound
    return Event(seconds(sfx.start), len(effect(name)), lambda: effect(name), gain, ("effect", name))


class Mixer:
    """Renders any range of the raw (unnormalised) mix."""

    def __init__(self, plan: Plan, stems: tuple[Stem, ...] = ()):
        self.total = seconds(plan.duration)
        events = [_speech_event(plan, line) for shot in plan.shots for line in shot.dialogue]
        events += [_sfx_event(sfx) for shot in plan.shots for sfx in shot.sfx]
        # model sound: its stems play, and the sounds they replace do not (in their span)
        self.stems = stems
        spans = [(st.start, st.start + len(st.samples), st.replaces) for st in stems]
        events = [e for e in events if not any(a <= e.start < b and _kind(e) in r for a, b, r in spans)]
        events += [Event(st.start, len(st.samples), lambda st=st: st.samples, 1.0, ("stem", st.digest)) for st in stems]
        self.quiet = [(a, b) for a, b, r in spans if "ambience" in r]  # where the ambience is the model's
        self.events = sorted(events, key=lambda e: e.start)
        self.beds = bed_segments(plan) if plan.audio.ambience == "auto" else []
        self.ambience_file = None
        if plan.audio.ambience not in ("auto", "none"):
            self.ambience_file = Music(plan.audio.ambience, 0.5, True, self.total)
        self.music = Music.from_plan(plan)
        self._loaded: dict[int, np.ndarray] = {}
        files = [plan.audio.music, None if plan.audio.ambience in ("auto", "none") else plan.audio.ambience]
        self._file_digests = {f: file_digest(f) for f in files if f}

    def block_key(self, start: int, n: int) -> str:
        """Hash of everything that sounds in ``[start, start + n)``: equal keys, equal samples."""
        end = start + n
        parts: list[object] = [MIX_FORMAT, start, n, self.total]
        parts += [
            ("bed", seg.component, seg.start, seg.end, seg.fade_in, seg.fade_out)
            for seg in self.beds
            if seg.start < end and seg.end > start
        ]
        parts += [(e.identity, e.start, e.gain) for e in self.events if e.start < end and e.start + e.length > start]
        parts += [("quiet", a, b) for a, b in self.quiet if a < end and b > start]
        for name, source in (("ambience", self.ambience_file), ("music", self.music)):
            if source is not None:
                lines = [line for line in source.lines if line[0] - 1 < end / RATE and line[1] + 1 > start / RATE]
                parts.append((name, self._file_digests.get(source.path, ""), source.gain, source.loop, lines))
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def render(self, start: int, n: int) -> np.ndarray:
        out = np.zeros((n, 2), np.float32)
        end = start + n
        # the ambience goes straight into the mix (as it always has) unless a model's sound replaces some of it
        ambience = np.zeros((n, 2), np.float32) if self.quiet else out
        for seg in self.beds:
            if seg.start < end and seg.end > start:
                ambience += component_range(seg.component, start, n) * seg.gain(start, n)[:, None]
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
            ambience += self.ambience_file.render(start, n)
        for a, b in self.quiet:  # the model's sound is the ambience there
            ambience[max(a, start) - start : max(min(b, end), start) - start] = 0
        if ambience is not out:
            out += ambience
        if self.music is not None:
            out += self.music.render(start, n)
        return out


def _blocks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, BLOCK):
        yield start, min(BLOCK, total - start)


class _Scratch:
    """The raw mix (float32 stereo) and its peak headroom (float32) on disk, read back with context."""

    def __init__(self, directory: Path, total: int):
        self.raw = directory / "raw.f32"
        self.headroom = directory / "headroom.f32"
        self.total = total

    def read(self, path: Path, start: int, n: int, channels: int) -> np.ndarray:
        lo, hi = max(0, start), min(self.total, start + n)
        out = np.zeros((n, channels), np.float32)
        if hi > lo:
            with open(path, "rb") as fh:
                fh.seek(lo * 4 * channels)
                data = np.frombuffer(fh.read((hi - lo) * 4 * channels), dtype=np.float32).reshape(-1, channels)
            out[lo - start : lo - start + len(data)] = data
        return out


def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """A cached block, if it is sound and of the shape this mix needs (a sealed but wrong entry is a miss)."""
    block = load_samples(path)
    if block is None or block.shape != shape or not np.isfinite(block).all():
        return None
    return block


def _raw_pass(mixer: Mixer, scratch: _Scratch, cache_dir: Path | None, progress: Progress) -> float:
    """Write the raw mix to the scratch file (blocks from the cache when unchanged); its loudness."""
    meter = LoudnessMeter(track_peak=False)
    with naming(scratch.raw), open(scratch.raw, "wb") as fh:
        for start, n in _blocks(scratch.total):
            cached = cache_dir / f"{mixer.block_key(start, n)}{BLOCK_SUFFIX}" if cache_dir else None
            block = _load(cached, (n, 2)) if cached is not None else None
            if block is None:
                block = mixer.render(start, n)
                if cached is not None:
                    store_samples(cached, block)
            meter.add(block)
            fh.write(block.astype("<f4").tobytes())
            progress.stage_advanced(n / RATE)
    return meter.integrated()


def _headroom_pass(mixer: Mixer, scratch: _Scratch, cache_dir: Path | None) -> None:
    """The limiter's gain-independent analysis, per block (cached by the block and the context it reads).

    A block's analysis reads :data:`LIMITER_MARGIN` samples of each
    neighbour: the cache name holds the block's own key and a digest of those
    context samples (not the neighbours' keys), so an edit inside one block
    re-analyses only that block unless it reaches the block's edges.
    """
    m = LIMITER_MARGIN
    with naming(scratch.headroom), open(scratch.headroom, "wb") as fh:
        for start, n in _blocks(scratch.total):
            wide = scratch.read(scratch.raw, start - m, n + 2 * m, 2)
            context = hashlib.sha256(wide[:m].tobytes() + wide[m + n :].tobytes()).hexdigest()
            name = hashlib.sha256(repr(("headroom", LIMITER_FORMAT, mixer.block_key(start, n), context)).encode())
            cached = cache_dir / f"{name.hexdigest()}{HEADROOM_SUFFIX}" if cache_dir else None
            stored = _load(cached, (n, 1)) if cached is not None else None
            if stored is not None:
                fh.write(stored.astype("<f4").tobytes())
                continue
            headroom = peak_headroom(wide)[m : m + n].astype("<f4")
            if cached is not None:
                store_samples(cached, headroom, HEADROOM_LEVEL)
            fh.write(headroom.tobytes())


#: sub-block index -> factor (< 1) on the limiter's ceiling there, where the encoded film overshot
Lowered = dict[int, float]


def _ceiling_factor(lowered: Lowered, start: int, n: int) -> np.ndarray:
    """The per-sample factor on the ceiling over ``[start, start + n)`` (1 where nothing was lowered)."""
    factor = np.ones(n, np.float32)
    first, last = max(0, start // SUB_BLOCK), (start + n - 1) // SUB_BLOCK
    for k in sorted(lowered):
        if first <= k <= last:
            lo, hi = max(start, k * SUB_BLOCK), min(start + n, (k + 1) * SUB_BLOCK)
            factor[lo - start : hi - start] = np.float32(lowered[k])
    return factor


def _limited(
    scratch: _Scratch, gain: float, ceiling: float, lowered: Lowered | None = None
) -> Iterator[tuple[np.ndarray, bool]]:
    """The normalised, limited mix, block by block (with whether the limiter acted)."""
    m = LIMITER_WINDOW
    for start, n in _blocks(scratch.total):
        raw = scratch.read(scratch.raw, start - m, n + 2 * m, 2)
        held = scratch.read(scratch.headroom, start - m, n + 2 * m, 1)[:, 0] * np.float32(ceiling / gain)
        if lowered:
            held *= _ceiling_factor(lowered, start - m, n + 2 * m)
        g = limiter_gain(held)[m : m + n]
        yield raw[m : m + n] * np.float32(gain) * g[:, None], bool((g < 0.9999).any())


def _lower(lowered: Lowered, over: dict[int, float], max_peak: float) -> Lowered:
    """Lower the ceiling by each overshoot (and 0.2 dB) over its sub-block and two either side.

    The neighbours are lowered too so that the limiter's smoothing window,
    which reaches into them, never averages in a higher ceiling.
    """
    out = dict(lowered)
    for k, peak in over.items():
        factor = lowered.get(k, 1.0) * max_peak / peak * 10 ** (-0.2 / 20)
        for j in range(k - 2, k + 3):
            if j >= 0:
                out[j] = min(out.get(j, 1.0), factor)
    return out


def mix_soundtrack(
    plan: Plan,
    out_path: Path,
    progress: Progress | None = None,
    cache_dir: Path | None = None,
    stems: tuple[Stem, ...] = (),
    mixer: Mixer | None = None,
) -> MixReport:
    """Mix the film's soundtrack into ``out_path`` (AAC in MP4/M4A).

    ``cache_dir`` keeps raw mix blocks by content, so a re-render after an edit
    only re-mixes the blocks the edit touched. ``mixer``: the plan's mix as already described (the one
    its key was made from), else described here.
    """
    progress = progress or NullProgress()
    mixer = mixer or Mixer(plan, stems)
    total = mixer.total
    target = plan.loudness
    with tempfile.TemporaryDirectory(prefix="sora-mix-", dir=scratch_dir()) as tmp:
        scratch = _Scratch(Path(tmp), total)
        progress.stage("sound", total / RATE * 3)
        raw = _raw_pass(mixer, scratch, cache_dir, progress)
        _headroom_pass(mixer, scratch, cache_dir)
        ceiling_db = plan.true_peak - ENCODER_HEADROOM_DB
        delivery_db = plan.true_peak - DELIVERY_MARGIN_DB
        max_peak = 10 ** (delivery_db / 20)
        gain_db = 0.0 if raw == float("-inf") else _bounded(target - raw)
        aim = target + AAC_LOUDNESS_LOSS_LU  # what the mix before AAC aims at, so the delivery lands on target
        ceiling = 10 ** (ceiling_db / 20)
        lowered: Lowered = {}
        for _ in range(ENCODE_TRIES):
            gain_db, limited = _fit_gain(scratch, raw, aim, gain_db, ceiling, lowered)
            progress.stage_advanced(total / RATE)
            _encode_aac((block for block, _ in _limited(scratch, 10 ** (gain_db / 20), ceiling, lowered)), out_path)
            loudness, peak, over = measure_file(out_path, max_peak)
            on_target = not np.isfinite(loudness) or abs(loudness - target) <= DELIVERY_TOLERANCE_LU
            if peak <= max_peak and on_target:
                break
            lowered = _lower(lowered, over, max_peak)
            if not on_target:  # within AIM_RANGE_LU: a mix that cannot get louder must not drive the gain up
                aim = min(target + AIM_RANGE_LU, max(target - AIM_RANGE_LU, aim + target - loudness))
        else:  # off target but under the ceiling is delivered (sora qc reports the loudness); over it never is
            if peak > max_peak:
                lowest = ceiling_db + 20 * np.log10(min(lowered.values(), default=1.0))
                raise SoraError(
                    f"the soundtrack's true peak stays at {20 * np.log10(peak):+.2f} dBTP after AAC encoding "
                    f"(limit {delivery_db:g} dBTP) even with the limiter's ceiling at {lowest:.1f} dBTP"
                )
        progress.stage_advanced(total / RATE)
    peak_db = 20 * np.log10(peak) if peak > 0 else float("-inf")
    return MixReport(loudness=loudness, true_peak_dbtp=float(peak_db), gain_db=gain_db, limited=limited)


def _fit_gain(
    scratch: _Scratch, raw: float, target: float, gain_db: float, ceiling: float, lowered: Lowered
) -> tuple[float, bool]:
    """The gain (dB) that brings the limited mix to ``target`` LUFS, by secant steps.

    Limiting makes loudness grow less than one dB per dB of gain, so a plain
    "add the difference" step undershoots; the secant learns the slope.
    """
    if raw == float("-inf"):
        return 0.0, False
    tried: list[tuple[float, float, bool]] = []  # (gain, loudness it measured, whether the limiter acted)
    for _ in range(6):
        meter = LoudnessMeter(track_peak=False)
        limited = False
        for block, acted in _limited(scratch, 10 ** (gain_db / 20), ceiling, lowered):
            meter.add(block)
            limited |= acted
        loudness = meter.integrated()
        tried.append((gain_db, loudness, limited))
        if abs(loudness - target) <= TOLERANCE_LU:
            break
        slope = 1.0
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
            slope = min(1.0, max(0.2, slope))
        gain_db = _bounded(gain_db + (target - loudness) / slope)
    # the best gain measured, never the step after the last: under heavy limiting loudness levels off (and
    # gating makes it wobble), and an unmeasured extrapolation there can be tens of dB off
    best = min(tried, key=lambda t: abs(t[1] - target) if np.isfinite(t[1]) else np.inf)
    return best[0], best[2]


def _bounded(gain_db: float) -> float:
    return float(min(MAX_GAIN_DB, gain_db))


def measure_file(path: Path, limit: float) -> tuple[float, float, dict[int, float]]:
    """A file's integrated loudness (LUFS), true peak (linear) and the 100 ms sub-blocks over ``limit``.

    One decoding measures it for the delivery checks too (:func:`~sora_cli.sound.hearing.listen`):
    what they measure is kept in this process by the stream's digest, so the checks of the
    soundtrack just mixed (queued in the sound worker behind its mix) decode it no second time.
    """
    listened = listen(path, exact=True)
    if listened.heard.damage is not None:
        raise SoraError(f"the encoded soundtrack stops decoding at {listened.heard.damage:.2f} s")
    if listened.digest is not None:
        remember(listened.digest, listened.heard)
    peaks = listened.peaks
    over = {int(k): float(peaks[k]) for k in np.flatnonzero(peaks > limit)}
    return listened.heard.integrated, float(peaks.max()) if len(peaks) else 0.0, over


def _encode_aac(blocks: Iterator[np.ndarray], out_path: Path) -> None:
    err = StderrTail()
    try:
        cmd = [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0",
            "-c:a", "aac", "-b:a", AAC_BITRATE, "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-f", "mp4", str(out_path),
        ]  # fmt: skip
        proc = err.popen(cmd)
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
            raise SoraError(failure("encoding the soundtrack", proc.returncode, err.text(), out_path))
    finally:
        err.close()


def soundtrack_key(plan: Plan, stems: tuple[Stem, ...] = ()) -> str:
    """Hash of what the soundtrack is made of: every block's sources, the loudness target and the encoding."""
    return _soundtrack_key(plan, Mixer(plan, stems))


def _soundtrack_key(plan: Plan, mixer: Mixer) -> str:
    blocks = [mixer.block_key(start, n) for start, n in _blocks(mixer.total)]
    limits = (
        plan.loudness, plan.true_peak, ENCODER_HEADROOM_DB, DELIVERY_MARGIN_DB, MAX_GAIN_DB, TOLERANCE_LU, AIM_RANGE_LU
    )
    limits += (DELIVERY_TOLERANCE_LU, AAC_LOUDNESS_LOSS_LU)
    payload = repr(("soundtrack", MIX_FORMAT, LIMITER_FORMAT, blocks, limits, AAC_BITRATE))
    return hashlib.sha256(payload.encode()).hexdigest()


def cached_soundtrack(plan: Plan, cache, out_path: Path, stems: tuple[Stem, ...] = ()) -> MixReport:
    """The soundtrack from the cache when nothing it depends on changed, else mixed and stored."""
    import json
    import shutil

    mixer = Mixer(plan, stems)  # (one description for the key and the mix: a file saved between them stops it)
    key = _soundtrack_key(plan, mixer)
    audio = cache.root / "sound" / f"{key}.m4a"
    meta = audio.with_suffix(".json")
    if verified(audio) and verified(meta):
        shutil.copyfile(audio, out_path)
        return MixReport(**{**json.loads(meta.read_text()), "reused": True})
    report = mix_soundtrack(plan, out_path, cache_dir=cache.root / "sound" / "blocks", stems=stems, mixer=mixer)
    with atomic_path(audio) as tmp:
        shutil.copyfile(out_path, tmp)
    seal(audio)
    atomic_write_text(meta, json.dumps({k: v for k, v in report.__dict__.items() if k != "reused"}))
    seal(meta)
    return report
