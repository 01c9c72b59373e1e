"""The wake word's echo canceller (speexdsp): Billy's own voice, as loud at the microphone as a person's, is
taken out of what the detector hears, and someone talking over him is kept."""

from __future__ import annotations

import numpy as np

from billy.audio.devices import MIC_RATE
from billy.audio.echo_canceller import EchoCanceller
from billy.audio.pcm import read_wav, resample
from billy.devtools.synthetic_voices import espeak
from billy.hearing.wakeword import ECHO_TAIL_S, FRAME_SAMPLES

ECHO_DELAY = int(0.03 * MIC_RATE)  # the card's latency and the way through the air


def _said(text: str, voice: str) -> np.ndarray:
    pcm = read_wav(espeak(text, voice))
    return resample(pcm.samples, pcm.rate, MIC_RATE).astype(np.float64)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_billy_s_voice_is_taken_out_and_another_voice_is_kept():
    billy = _said("Let me tell you about the river where I grew up. It was long and wide, and full of fish.", "en-us")
    other = _said("Okay Nabu.", "en-gb+f2")
    other *= _rms(billy) / _rms(other)  # as loud as Billy's echo: 0 dB
    echo = np.concatenate([np.zeros(ECHO_DELAY), billy])[: len(billy)]
    other_at = 3 * MIC_RATE  # Billy has talked for 3 s (of 6)
    heard = echo.copy()
    heard[other_at : other_at + len(other)] += other
    heard = np.clip(heard, -32768, 32767).astype(np.int16)
    played = billy.astype(np.int16)

    canceller = EchoCanceller(FRAME_SAMPLES, MIC_RATE, ECHO_TAIL_S)
    frames = range(0, len(heard) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    out = np.concatenate(
        [canceller.cancel(heard[i : i + FRAME_SAMPLES], played[i : i + FRAME_SAMPLES]) for i in frames]
    )

    learnt = slice(2 * MIC_RATE, other_at)  # the filter has learnt the way from speaker to microphone
    assert _rms(out[learnt]) < _rms(heard[learnt]) / 4  # his voice at least 12 dB down
    spoken = slice(other_at, other_at + len(other))
    left_of_billy = out[spoken].astype(np.float64) - other[: len(out[spoken])]
    assert _rms(left_of_billy) < _rms(other) / 2  # what remains is mostly the other voice
