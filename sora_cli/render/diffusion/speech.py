"""The shot's speech for audio-driven models: the line the film plays, so the mouth follows the words.

``LTX2DFRPipeline`` (diffusers >= 0.42.1) takes ``audio_latents`` with
``freeze_audio=True``: the audio stream is held clean at sigma 0 and the
picture is denoised against it. A dialogue shot gives it the samples sora's
mix places for its lines (a recorded take, or the line synthesised in the
speaker's voice, a cameo's included: :func:`sora_cli.speech.lines.line_speech`),
cut to the chunk's time range in the shot, as the model's audio VAE encodes
them. The model's decoded sound of such a shot is not used: the film's
dialogue stays sora's own speech, untouched by a VAE round trip.

The spectrogram follows the recipe of diffusers' own encoder of raw voice
waveforms for the same audio VAE (``modular_pipelines/echo/encoders.py``,
``_encode_audio``): stereo at the VAE's rate, a 1024-point Hann STFT with the
VAE's hop, centred with reflection, magnitude (power 1), Slaney mel filters
from 0 to Nyquist with Slaney normalisation, natural log clamped at 1e-5. It is
computed here with ``torch.stft`` and ``transformers``' mel filter bank, since
torchaudio has no wheel for the installed torch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sora_cli.audio_files import MIX_RATE as RATE
from sora_cli.dsp.kernels import resample_poly
from sora_cli.plan.model import PlannedShot, ResolvedCharacter
from sora_cli.speech.lines import line_speech

N_FFT = 1024
LOG_FLOOR = 1e-5


def shot_speech(shot: PlannedShot, characters: dict[str, ResolvedCharacter], rate: int) -> np.ndarray | None:
    """The shot's dialogue as the mix places it, from the shot's first frame on (mono float32 at ``rate``).

    None for a shot without dialogue. A line that runs past the shot's end is
    cut there (its rest belongs to the next shot's picture).
    """
    if not shot.dialogue:
        return None
    track = np.zeros(math.ceil(shot.duration * rate) + 1, np.float32)
    for line in shot.dialogue:
        samples = line_speech(characters[line.speaker].voice, line)
        if rate != RATE:
            samples = resample_poly(samples, rate, RATE).astype(np.float32)
        at = round(line.at * rate)
        room = len(track) - at
        if room > 0:
            track[at : at + min(room, len(samples))] += samples[:room]
    return track


def log_mel(samples: np.ndarray, rate: int, hop: int, mel_bins: int) -> Any:
    """(1, 2, T, mel_bins) log-mel spectrogram of mono ``samples`` (the audio VAE's input)."""
    import torch
    from transformers.audio_utils import mel_filter_bank

    wave = torch.from_numpy(np.array(samples, np.float32)).repeat(2, 1)  # the VAE hears stereo
    if wave.shape[-1] < N_FFT:
        wave = torch.nn.functional.pad(wave, (0, N_FFT - wave.shape[-1]))
    spec = torch.stft(
        wave, N_FFT, hop_length=hop, win_length=N_FFT, window=torch.hann_window(N_FFT), center=True,
        pad_mode="reflect", return_complex=True,
    ).abs()  # (2, N_FFT // 2 + 1, T)  # fmt: skip
    filters = mel_filter_bank(
        num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=mel_bins, min_frequency=0.0, max_frequency=rate / 2,
        sampling_rate=rate, norm="slaney", mel_scale="slaney",
    )  # (freq, mel)  # fmt: skip
    mel = torch.einsum("cft,fm->ctm", spec, torch.from_numpy(filters).float())
    return torch.log(torch.clamp(mel, min=LOG_FLOOR)).unsqueeze(0)


def audio_latents(pipe: Any, speech: np.ndarray, start: float, frames: int, fps: float) -> Any:
    """Raw (un-normalised) audio latents (1, C, L, M) of ``speech`` from ``start`` s, for a call of ``frames``.

    ``L`` is the length the pipeline gives its own audio for that many frames
    (``frames / fps`` seconds at the audio VAE's latent rate), so sound and
    picture stay aligned; the speech is cut or padded with silence to cover it
    (a negative ``start``: the call opens on the previous shot's frames, which
    are silent here, since their sound is already in the film).
    """
    import torch

    vae = pipe.audio_vae
    rate, hop = int(vae.config.sample_rate), int(vae.config.mel_hop_length)
    per_latent = hop * pipe.audio_vae_temporal_compression_ratio
    length = round(frames / fps * rate / per_latent)
    window = np.zeros(length * per_latent, np.float32)
    first = round(start * rate)  # negative when the call starts with frames of the previous shot (silent here)
    skip = max(0, -first)
    piece = speech[max(0, first) : max(0, first) + len(window) - skip]
    window[skip : skip + len(piece)] = piece
    mel = log_mel(window, rate, hop, int(vae.config.mel_bins))
    with torch.no_grad():
        latents = vae.encode(mel.to(vae.dtype)).latent_dist.mode()
    return latents[:, :, :length].float()
