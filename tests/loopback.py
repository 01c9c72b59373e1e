"""A room for the file-backed sound card: what Billy's speaker plays, his microphone hears (at half level).

Minimal, for the wake-word tests (helper i10 is adding a loopback to the file sound device itself)."""

from __future__ import annotations

import threading

import numpy as np

from billy.audio.devices import MIC_RATE
from billy.audio.pcm import resample


class Room:
    def __init__(self, microphone, speaker, gain: float = 0.5) -> None:
        self.microphone, self.speaker, self.gain = microphone, speaker, gain
        self._echo = np.zeros(0, np.float32)
        self._lock = threading.Lock()

    # the speaker side
    def write(self, samples: np.ndarray, rate: int) -> None:
        heard = resample(samples, rate, MIC_RATE).astype(np.float32) * self.gain
        with self._lock:
            self._echo = np.concatenate([self._echo, heard])
        self.speaker.write(samples, rate)

    # the microphone side
    @property
    def rate(self) -> int:
        return MIC_RATE

    def read(self, samples: int) -> np.ndarray:
        block = self.microphone.read(samples).astype(np.float32)
        with self._lock:
            echo, self._echo = self._echo[:samples], self._echo[samples:]
        block[: len(echo)] += echo
        return np.clip(block, -32768, 32767).astype(np.int16)

    def close(self) -> None:
        pass
