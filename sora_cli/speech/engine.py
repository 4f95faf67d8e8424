"""Speech synthesis behind a small interface, with espeak-ng as the built-in engine.

The plan asks an engine how long each line lasts (real speech drives timing),
the mixer asks it for the samples. Both go through :func:`speak`, which caches
by content, so a line is synthesised once per process whichever asks first.

Other engines (neural TTS, voice cloning) plug in through the
``sora_cli.speech`` entry-point group: a class with ``name`` and
``synthesize(text, voice, delivery) -> Speech``.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import os
import signal
import struct
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

import numpy as np

from sora_cli.errors import SoraError, did_you_mean
from sora_cli.speech.scripts import script_runs
from sora_cli.speech.voice import ResolvedVoice

#: Seconds of silence kept around trimmed speech, so onsets are not clipped.
EDGE_PAD = 0.01


#: A phoneme as the engine spoke it: (seconds from the start of the trimmed samples, mnemonic).
Phoneme = tuple[float, str]


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # float32 mono, trimmed to the spoken part
    rate: int
    #: when each sound starts, from the engine itself (empty for engines that do not say;
    #: lip-sync then reads the samples instead)
    phonemes: tuple[Phoneme, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def vocal_effort(x: np.ndarray) -> np.ndarray:
    """A strained, bright voice: pre-emphasis (more high-frequency energy) and soft saturation.

    Raising pitch and volume alone makes a loud voice, not a shouting one; a shout
    also tilts the spectrum up and compresses the waveform.
    """
    bright = x.copy()
    bright[1:] += 0.9 * (x[1:] - x[:-1])
    peak = float(np.max(np.abs(bright))) or 1.0
    return (np.tanh(2.2 * bright / peak) / np.tanh(2.2) * peak).astype(np.float32)


class SpeechEngine(Protocol):
    name: str

    def synthesize(self, text: str, voice: ResolvedVoice, delivery: str) -> Speech: ...

    def check_voice(self, name: str) -> str | None:
        """Why ``name`` is not a voice of this engine (None when it is); checked before rendering."""
        ...


def spoken_span(samples: np.ndarray, rate: int, threshold: float = 0.004) -> tuple[int, int]:
    """``(first, end)`` sample indices of the spoken part, with :data:`EDGE_PAD` either side."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return 0, 0
    pad = int(EDGE_PAD * rate)
    return max(0, int(loud[0]) - pad), int(loud[-1]) + pad + 1


def trim_silence(samples: np.ndarray, rate: int, threshold: float = 0.004) -> np.ndarray:
    """Cut leading and trailing silence so a line's start is its first sound."""
    first, end = spoken_span(samples, rate, threshold)
    return samples[first:end]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h); ``id`` is the union whose ``string`` holds a phoneme's mnemonic."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_EVENT_LIST_TERMINATED, _EVENT_PHONEME = 0, 7
_INITIALIZE_PHONEME_EVENTS = 0x0001
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE, _VOLUME, _PITCH, _RANGE, _WORDGAP = 1, 2, 3, 4, 7
_INITIALIZE_DONT_EXIT = 0x8000
_SEED = 1

#: delivery -> (voice variant or None, pitch offset, range offset, rate factor, volume)
DELIVERY_STYLE: dict[str, tuple[str | None, int, int, float, int]] = {
    "normal": (None, 0, 0, 1.0, 100),
    "whisper": ("whisper", -5, -10, 0.9, 90),
    "shout": (None, 24, 35, 1.08, 190),
}


class _VoiceEntry(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


class EspeakEngine:
    """libespeak-ng from the ``espeakng-loader`` wheel, driven through ctypes.

    The library has global state, so one instance serves the whole process,
    behind a lock.
    """

    name = "espeak"
    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None
    _rate = 22050
    _languages: dict[str, str] = {}

    def _library(self) -> ctypes.CDLL:
        if EspeakEngine._lib is None:
            try:
                import espeakng_loader
            except ImportError as exc:  # pragma: no cover - a broken install
                raise SoraError("the speech engine is missing: pip install espeakng-loader") from exc
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            rate = lib.espeak_Initialize(
                _AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                espeakng_loader.get_data_path().encode(),
                _INITIALIZE_DONT_EXIT | _INITIALIZE_PHONEME_EVENTS,  # events only: the samples are the same
            )
            if rate <= 0:
                raise SoraError("espeak-ng failed to initialise (its voice data may be missing)")
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_Synth.argtypes = [
                ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
            ]  # fmt: skip
            lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceEntry))
            entries = lib.espeak_ListVoices(None)
            i = 0
            while entries[i]:
                entry = entries[i].contents
                language = entry.languages[1:].split(b"\0")[0].decode()  # first byte is a priority
                EspeakEngine._languages.setdefault(language.lower(), entry.identifier.decode())
                i += 1
            EspeakEngine._rate = rate
            EspeakEngine._lib = lib
        return EspeakEngine._lib

    def voice_names(self) -> list[str]:
        """Language codes espeak-ng can speak (each also takes +f1..f5, +m1..m8, +whisper...)."""
        self._library()
        return sorted(self._languages)

    def variant_names(self) -> list[str]:
        import espeakng_loader

        return sorted(p.name for p in (Path(espeakng_loader.get_data_path()) / "voices" / "!v").iterdir())

    def check_voice(self, name: str) -> str | None:
        """Why ``name`` is not a voice of this engine, or None when it is."""
        base, _, variant = name.partition("+")
        languages = self.voice_names()
        if base.lower() not in self._languages:
            return f"{name!r} is not an espeak-ng voice{did_you_mean(base, languages)} (e.g. en-us, en-gb, fr, de; `sora doctor --voices` lists all)"
        if variant and variant not in (variants := self.variant_names()):
            return f"{variant!r} is not an espeak-ng voice variant{did_you_mean(variant, variants)} (e.g. f1..f5, m1..m8, whisper)"
        return None

    def _voice_id(self, name: str) -> str:
        """``en-gb+f3`` -> ``gmw/en+f3``: espeak-ng selects voices by file, not by language code."""
        base, _, variant = name.partition("+")
        ident = self._languages.get(base.lower(), base)
        return f"{ident}+{variant}" if variant else ident

    def synthesize(self, text: str, voice: ResolvedVoice, delivery: str) -> Speech:
        """Speak one line in a forked child, so every line starts from the same state.

        espeak-ng keeps state between utterances (flutter phase, echo buffer), so
        the same line spoken after different lines differs by a few samples. The
        parent initialises the library and never speaks; each child inherits that
        pristine state, speaks once, pipes the PCM back and exits.
        """
        return self.synthesize_many([(text, voice, delivery)])[0]

    def synthesize_many(self, lines: list[tuple[str, ResolvedVoice, str]]) -> list[Speech]:
        """Speak each line in a child of its own, as many children at once as there are cores.

        Every child starts from the same pristine state, so a line sounds the same however many
        are spoken beside it.
        """
        with self._lock:
            self._library()
            if not hasattr(os, "fork"):  # pragma: no cover - non-POSIX: best effort
                raws = [self._speak_here(*line) for line in lines]
            else:
                raws = self._speak_in_children(lines)
        return [self._speech(raw, delivery) for raw, (_, _, delivery) in zip(raws, lines, strict=True)]

    def _speech(self, raw: bytes, delivery: str) -> Speech:
        """What a child sent back, as the line's trimmed samples and its phonemes' times."""
        pcm, events = _unpack(raw)
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        if delivery == "shout":
            samples = vocal_effort(samples)
        first, end = spoken_span(samples, self._rate)
        phonemes = tuple((max(0.0, (at - first) / self._rate), name) for at, name in events if at < end)
        return Speech(samples[first:end], self._rate, phonemes)

    def _speak_in_children(self, lines: list[tuple[str, ResolvedVoice, str]]) -> list[bytes]:
        """What each line's child sent back, in order; at most one child per core runs at a time."""
        running: list[tuple[int, int]] = []  # (pid, read end of its pipe), oldest first
        raws: list[bytes] = []
        cores = max(1, os.cpu_count() or 1)
        try:
            for i, line in enumerate(lines):
                running.append(self._fork_speaker(*line))
                while running and (len(running) >= cores or i == len(lines) - 1):
                    text, voice, _ = lines[len(raws)]
                    raws.append(self._collect(*running.pop(0), text, voice))
        finally:  # a line that failed (or Ctrl-C): the other children are ended and reaped, none left behind
            for pid, read_fd in running:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                os.close(read_fd)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        return raws

    def _fork_speaker(self, text: str, voice: ResolvedVoice, delivery: str) -> tuple[int, int]:
        """A child that speaks one line and writes it into a pipe: its pid and the pipe's read end."""
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: speak, write, leave without running any cleanup
            status = 0
            try:
                os.close(read_fd)
                data = self._speak_here(text, voice, delivery)
                view = memoryview(data)
                while view:
                    view = view[os.write(write_fd, view) :]
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        os.close(write_fd)
        return pid, read_fd

    @staticmethod
    def _collect(pid: int, read_fd: int, text: str, voice: ResolvedVoice) -> bytes:
        """What the child ``pid`` sent; the child is reaped whatever happens (Ctrl-C while it speaks)."""
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                raw = pipe.read()
        except BaseException:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):  # (killed from outside: the OOM killer, kill -9; not the line's fault)
            number = os.WTERMSIG(status)
            name = signal.Signals(number).name if number in iter(signal.Signals) else f"signal {number}"
            raise SoraError(f"the speech process for {text[:40]!r} was killed by {name}")
        if status != 0:
            raise SoraError(f"espeak-ng could not speak {text[:40]!r} with voice {voice.voice!r}")
        return raw

    def _speak_here(self, text: str, voice: ResolvedVoice, delivery: str) -> bytes:
        variant, pitch_off, range_off, rate_factor, volume = DELIVERY_STYLE[delivery]
        name = voice.voice.split("+")[0] + f"+{variant}" if variant else voice.voice
        chunks: list[bytes] = []
        phonemes: list[str] = []

        @_SYNTH_CALLBACK
        def collect(wav, count, events):  # type: ignore[no-untyped-def]
            if count > 0 and wav:
                chunks.append(ctypes.string_at(wav, count * 2))
            i = 0
            while events and events[i].type != _EVENT_LIST_TERMINATED:
                if events[i].type == _EVENT_PHONEME:
                    name = bytes(events[i].id).split(b"\0")[0].decode("utf-8", "replace")
                    phonemes.append(f"{events[i].sample}\t{name}")
                i += 1
            return 0

        lib = self._library()
        lib.espeak_SetSynthCallback(collect)
        if lib.espeak_SetVoiceByName(self._voice_id(name).encode()) != 0:
            raise SoraError(f"espeak-ng has no voice {voice.voice!r} (try en-us, en-gb, fr, de, es, ...)")
        lib.espeak_SetParameter(_RATE, int(np.clip(voice.rate * rate_factor, 80, 450)), 0)
        lib.espeak_SetParameter(_PITCH, int(np.clip(voice.pitch + pitch_off, 0, 99)), 0)
        lib.espeak_SetParameter(_RANGE, int(np.clip(voice.range + range_off, 0, 99)), 0)
        lib.espeak_SetParameter(_VOLUME, volume, 0)
        lib.espeak_ng_SetRandSeed(_SEED)  # noise (whisper, breath) from a fixed seed
        data = text.encode("utf-8") + b"\0"
        lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        lib.espeak_SetSynthCallback(_SYNTH_CALLBACK(0))
        pcm = b"".join(chunks)
        return struct.pack("<Q", len(pcm)) + pcm + "\n".join(phonemes).encode()


def _unpack(raw: bytes) -> tuple[bytes, list[tuple[int, str]]]:
    """What a child sends back: the PCM's length, the PCM, then ``sample<TAB>mnemonic`` lines."""
    (n,) = struct.unpack_from("<Q", raw)
    pcm, tail = raw[8 : 8 + n], raw[8 + n :].decode("utf-8", "replace")
    events = []
    for row in tail.splitlines():
        at, _, name = row.partition("\t")
        events.append((int(at), name))
    return pcm, events


@functools.cache
def engine(name: str) -> SpeechEngine:
    """The speech engine called ``name``: built in, or from the ``sora_cli.speech`` entry points."""
    if name == EspeakEngine.name:
        return EspeakEngine()
    for ep in entry_points(group="sora_cli.speech"):
        if ep.name == name:
            return ep.load()()
    raise SoraError(f"no speech engine {name!r} is installed (built in: espeak)")


@functools.cache
def installed_engines() -> tuple[str, ...]:
    """Every speech engine's name, read once per process as the backends are (validate asks per voice
    and per deliverable, and ``sora watch`` on every update)."""
    return tuple(sorted({EspeakEngine.name, *(ep.name for ep in entry_points(group="sora_cli.speech"))}))


#: silence between two runs of a line spoken in different languages (a word gap)
RUN_GAP = 0.06


Line = tuple[str, ResolvedVoice, str]  #: (text, voice, delivery): what a line sounds like, whoever asks

#: how many lines :func:`speak` keeps (a plan's, and ``sora watch``'s edits of them)
SPOKEN_KEPT = 512
#: lines :func:`speak_ahead` synthesised, each kept until :func:`speak` takes it
_ahead: dict[Line, Speech] = {}
#: the lines :func:`speak` synthesised, least recently asked first (an exact record: speak_ahead skips them)
_spoken: collections.OrderedDict[Line, Speech] = collections.OrderedDict()
_spoken_lock = threading.Lock()


def speak(text: str, voice: ResolvedVoice, delivery: str) -> Speech:
    """Synthesise one line, once per process (content-keyed, the last :data:`SPOKEN_KEPT` kept). With espeak-ng
    each run of the line in a script its voice's language cannot read is spoken by the same voice in that
    script's language, and the runs are joined (see :mod:`sora_cli.speech.scripts`)."""
    line = (text, voice, delivery)
    with _spoken_lock:
        if (kept := _spoken.get(line)) is not None:
            _spoken.move_to_end(line)
            return kept
    speech = _synthesised(text, voice, delivery)
    with _spoken_lock:
        _spoken[line] = speech
        while len(_spoken) > SPOKEN_KEPT:
            _spoken.popitem(last=False)
    return speech


def _synthesised(text: str, voice: ResolvedVoice, delivery: str) -> Speech:
    """The line synthesised now (what :func:`speak_ahead` spoke of it taken, the rest spoken here)."""
    speaker = engine(voice.engine)
    if voice.engine != EspeakEngine.name:
        return speaker.synthesize(text, voice, delivery)

    def spoken(part: str, v: ResolvedVoice) -> Speech:
        return _ahead.pop((part, v, delivery), None) or speaker.synthesize(part, v, delivery)

    runs = script_runs(text, voice, set(speaker.voice_names()))
    if len(runs) == 1:
        return spoken(*runs[0])
    return _joined([spoken(part, v) for part, v in runs])


def speak_ahead(lines: list[Line]) -> None:
    """Synthesise the espeak-ng lines among ``lines`` that :func:`speak` does not hold, side by side (a child
    per core), for speak to take.

    A plan speaks every line to time it: one after another, the bench film's four lines held
    each render ~60 ms before its first frame, with the second core idle.
    """
    speaker = EspeakEngine()
    wanted: dict[Line, None] = {}
    for text, voice, delivery in lines:
        with _spoken_lock:
            held = (text, voice, delivery) in _spoken
        if voice.engine == EspeakEngine.name and not held:
            for part, v in script_runs(text, voice, set(speaker.voice_names())):
                wanted.setdefault((part, v, delivery), None)
    for stale in [line for line in _ahead if line not in wanted]:  # (a plan that stopped before speaking them)
        del _ahead[stale]
    todo = [line for line in wanted if line not in _ahead]
    if len(todo) > 1:  # (one line gains nothing from being spoken ahead)
        _ahead.update(zip(todo, speaker.synthesize_many(todo), strict=True))


def forget_spoken() -> None:
    """Drop every line :func:`speak` keeps and any spoken ahead (the tests start from nothing)."""
    with _spoken_lock:
        _spoken.clear()
    _ahead.clear()


def _joined(parts: list[Speech]) -> Speech:
    """Speeches one after another, :data:`RUN_GAP` apart, their phoneme times moved with them."""
    rate = parts[0].rate
    gap = np.zeros(int(RUN_GAP * rate), dtype=np.float32)
    chunks: list[np.ndarray] = []
    phonemes: list[Phoneme] = []
    at = 0
    for part in parts:
        if not len(part.samples):
            continue
        if chunks:
            chunks.append(gap)
            at += len(gap)
        phonemes += [(at / rate + t, name) for t, name in part.phonemes]
        chunks.append(part.samples.astype(np.float32, copy=False))
        at += len(part.samples)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    return Speech(samples, rate, tuple(phonemes) if all(p.phonemes for p in parts) else ())
