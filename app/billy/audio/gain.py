"""`MIC_GAIN`: the microphone a little louder (or softer) in software, before anything listens to it.

A quiet USB microphone across a room gives speech at a few percent of full scale, which the voice detector
and whisper hear poorly; the sound card's own capture level is not always there to turn up (or is already at
its top, the original's `MIC_GAIN=max`). The gain is applied to each frame read, clipped at full scale.
"""

from __future__ import annotations

import numpy as np


class GainMicrophone:
    """`microphone`, every read `decibels` louder; everything else (rate, flush, close ...) is the microphone's."""

    def __init__(self, microphone, decibels: float) -> None:
        self.microphone = microphone
        self.decibels = decibels
        self.factor = 10 ** (decibels / 20)

    def read(self, samples: int) -> np.ndarray:
        frame = self.microphone.read(samples)
        return np.clip(np.rint(frame.astype(np.float32) * self.factor), -32768, 32767).astype(np.int16)

    def __getattr__(self, name: str):
        return getattr(self.microphone, name)


def with_gain(microphone, decibels: float):
    """The microphone as Billy should hear it: itself when there is no gain to add."""
    return GainMicrophone(microphone, decibels) if decibels else microphone
