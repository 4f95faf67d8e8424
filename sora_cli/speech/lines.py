"""A dialogue line's samples exactly as the film plays them, for every stage that needs the words' sound.

The mix places them in the soundtrack; the diffusers backend gives the same
samples to audio-driven models, so a mouth follows the speech the film plays.
"""

from __future__ import annotations

import numpy as np

from sora_cli.audio_files import MIX_RATE, load_take
from sora_cli.dsp.kernels import resample_poly
from sora_cli.speech.engine import speak

#: peak level of a spoken line, by delivery
SPEECH_PEAK = {"whisper": 0.32, "normal": 0.6, "shout": 0.85}
RECORDED_PEAK = 0.6


def line_speech(voice, line) -> np.ndarray:
    """Mono float32 at the mix rate, at its delivery's peak: the recorded take when the line has one, else the
    line synthesised in its speaker's voice (a cameo's included)."""
    if line.audio:
        take = load_take(line.audio)
        return take * np.float32(RECORDED_PEAK / max(float(np.max(np.abs(take))), 1e-9))
    speech = speak(line.line, voice, line.delivery)
    if len(speech.samples) == 0:  # a line that says nothing aloud ("...", "?!"): a silence, not an error
        return np.zeros(1, np.float32)
    x = resample_poly(speech.samples, MIX_RATE, speech.rate).astype(np.float32)
    return x * np.float32(SPEECH_PEAK[line.delivery] / max(float(np.max(np.abs(x))), 1e-9))
