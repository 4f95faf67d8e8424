"""Lip-sync: when each mouth shape shows, from the sounds of a line.

Shapes are the Rhubarb Lip Sync set, so a track can be exported to animation
tools as it is:

====  ===============================================  ==============================
A     closed, lips pressed                             M, B, P
B     slightly open, teeth together                    most consonants (K, S, T), EE
C     open                                             EH, AE, AH, unstressed vowels
D     wide open                                        AA (father), AI (eye), OW (cow)
E     slightly rounded                                 AO (off), ER (bird), R
F     puckered                                         UW (you), OW (show), W
G     upper teeth on lower lip                         F, V
H     tongue raised behind the teeth                   L
X     rest                                             silence, pauses
====  ===============================================  ==============================

Synthesised lines know their sounds: the speech engine reports every phoneme
with the sample it starts on (:attr:`Speech.phonemes`). Recorded takes, and
engines that report nothing, are read from the audio itself: loudness,
zero-crossing rate and spectral centroid per 10 ms, no model. Either way the
segments are then sampled onto the film's frames, so every backend reads the
same shape per frame; a closure (A) shorter than a frame still gets the frame
it falls in, so every M, B and P closes the lips on screen.
"""

from __future__ import annotations

import numpy as np

SHAPES = "ABCDEFGHX"

#: espeak-ng phoneme mnemonics (stress and length marks removed) -> shape
_PHONEME_SHAPES: dict[str, str] = {
    **dict.fromkeys(["m", "b", "p", "m-", "b#", "p#"], "A"),
    **dict.fromkeys(["f", "v"], "G"),
    **dict.fromkeys(["l", "l/", "L", "@L", "l#", "l^"], "H"),
    **dict.fromkeys(["w", "u", "U", "oU", "o", "u@", "U@", "W"], "F"),
    **dict.fromkeys(["O", "0", "O@", "OI", "3", "@r", "r", "r-", "3:", "o@", "Q"], "E"),
    **dict.fromkeys(["A", "a", "aI", "aU", "A@", "aI@", "aU@", "aa"], "D"),
    **dict.fromkeys(["i", "I", "j", "i@", "i@3", "I2", "I#", "y"], "B"),
    **dict.fromkeys(["E", "e", "eI", "@", "@2", "@5", "V", "a#", "e@", "E2", "a2", "I@", "&"], "C"),
}
_VOWEL_LETTERS = set("aeiouAEIOUV@03&y")


def phoneme_shape(mnemonic: str) -> str:
    """The mouth shape of one espeak-ng phoneme mnemonic (``'A:`` -> D, ``m`` -> A, ``_:`` -> X)."""
    name = mnemonic.strip().lstrip("'\",%=")
    if not name or name.startswith("_"):
        return "X"
    for key in (name, name.rstrip(":"), name.replace(":", "")):
        if key in _PHONEME_SHAPES:
            return _PHONEME_SHAPES[key]
    if name[0] in _VOWEL_LETTERS:
        return "C"
    return "B"  # any other consonant: teeth together, lips apart


Segment = tuple[float, str]  # (seconds from the line's first sound, shape)


#: espeak-ng marks a phoneme where the transition into it ends; its sound (the level the
#: mouth follows) rises about this much earlier, measured on its English voices
PHONEME_LEAD = 0.015


def from_phonemes(phonemes: tuple[tuple[float, str], ...]) -> list[Segment]:
    """Segments from the engine's phoneme events."""
    return [(max(0.0, t - PHONEME_LEAD) if k else 0.0, phoneme_shape(name)) for k, (t, name) in enumerate(phonemes)]


HOP = 0.01  # seconds per analysis step of a recorded take
_WINDOW = 0.025


def from_audio(samples: np.ndarray, rate: int) -> list[Segment]:
    """Segments read from a voice's samples (recorded takes, engines without phoneme events).

    Per 10 ms: level against the take's loud parts, zero-crossing rate and the
    spectral centroid. Quiet gaps inside speech are closures (A) when short and
    rests (X) when long; hissy quiet frames are fricatives (B, or G when their
    spectrum is low); loud frames are vowels whose openness follows their level,
    rounded (E/F) when their energy sits low in the spectrum.
    """
    n = len(samples)
    hop, win = max(1, round(HOP * rate)), max(2, round(_WINDOW * rate))
    if n < win:
        return [(0.0, "X")]
    starts = np.arange(0, n - win + 1, hop)
    frames = np.stack([samples[s : s + win] for s in starts]).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    zcr = np.mean(np.abs(np.diff(np.signbit(frames), axis=1)), axis=1)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(win), axis=1))
    freqs = np.fft.rfftfreq(win, 1 / rate)
    centroid = (spectrum @ freqs) / np.maximum(spectrum.sum(axis=1), 1e-12)
    loud = float(np.percentile(rms, 95)) or 1.0
    level = rms / loud
    shapes: list[str] = []
    for lv, z, c in zip(level.tolist(), zcr.tolist(), centroid.tolist(), strict=True):
        if lv < 0.08:
            shapes.append("gap")
        elif z > 0.3 and lv < 0.5:
            shapes.append("G" if c < 2500 else "B")
        elif lv < 0.25:
            shapes.append("A" if c < 700 else "B")
        elif c < 650:
            shapes.append("F" if lv < 0.55 else "E")
        else:
            shapes.append("D" if lv > 0.8 else "C" if lv > 0.45 else "B")
    # quiet runs: a short one inside speech is a closure, a long one (or the edges) a rest
    k = 0
    while k < len(shapes):
        if shapes[k] != "gap":
            k += 1
            continue
        j = k
        while j < len(shapes) and shapes[j] == "gap":
            j += 1
        inside = k > 0 and j < len(shapes)
        fill = "A" if inside and (j - k) * HOP <= 0.15 else "X"
        shapes[k:j] = [fill] * (j - k)
        k = j
    segments: list[Segment] = []
    for i, shape in enumerate(shapes):
        if not segments or segments[-1][1] != shape:
            segments.append((round(i * HOP, 6), shape))
    return segments


def on_frames(segments: list[Segment], length: float, at: float, fps: int) -> list[tuple[int, str]]:
    """``(frame of the shot, shape)`` at each change, for a line spoken from ``at`` for ``length`` s.

    A frame shows the shape that covers most of its time, except that a closure
    (A) wins any frame holding at least half of it (or 0.4 of the frame), so a
    short M or B is never skipped. The first frame after the line rests (X).
    """
    if not segments or length <= 0:
        return []
    bounds = [(at + t0, at + (segments[i + 1][0] if i + 1 < len(segments) else length), shape)
              for i, (t0, shape) in enumerate(segments)]  # fmt: skip
    first = int(np.floor(at * fps + 1e-9))
    last = int(np.ceil((at + length) * fps - 1e-9))
    changes: list[tuple[int, str]] = []
    for k in range(first, last):
        lo, hi = k / fps, (k + 1) / fps
        cover: dict[str, float] = {}
        closure = False
        for s0, s1, shape in bounds:
            overlap = min(hi, s1) - max(lo, s0)
            if overlap <= 0:
                continue
            cover[shape] = cover.get(shape, 0.0) + overlap
            if shape == "A" and overlap >= min(0.5 * (s1 - s0), 0.4 / fps):
                closure = True
        shape = "A" if closure else max(cover, key=lambda s: (cover[s], -SHAPES.index(s))) if cover else "X"
        if not changes or changes[-1][1] != shape:
            changes.append((k, shape))
    if changes[-1][1] != "X":
        changes.append((last, "X"))
    return changes
