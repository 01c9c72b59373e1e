"""Microphone calibration: the room's noise and the owner's voice, measured, turned into `MIC_GAIN` and
`SILENCE_THRESHOLD` (`billy calibrate`, the web page's body test).

A few seconds of the room with nobody talking give its floor (the median loudness of 32 ms frames: a door
or a cough in them does not move it); a few seconds of the owner talking as he would to Billy give his level
(the 90th percentile: the vowels, not the pauses between words). The gain brings that level to a tenth of full
scale, where the voice detector and whisper hear best and a shout still does not clip; the loudness floor goes
6 dB over the room, but stays a third of the voice's level, so the quiet ends of words are never cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from billy.audio.pcm import loudness
from billy.settings.schema import BY_NAME

FRAME_SAMPLES = 512
TARGET_VOICE = 0.1  # RMS as a fraction of full scale: -20 dBFS
MIN_VOICE_OVER_ROOM = 2.0  # 6 dB: less, and the voice cannot be told from the room
FULL_SCALE = 32767  # SILENCE_THRESHOLD is the original's RMS on the int16 scale


class CalibrationError(ValueError):
    """What was heard cannot calibrate the microphone; the message says what to do."""


@dataclass(frozen=True)
class Levels:
    floor: float  # median frame loudness (0..1 of full scale)
    peak: float  # 90th percentile frame loudness

    @classmethod
    def of(cls, samples: np.ndarray) -> Levels:
        frames = [
            loudness(samples[i : i + FRAME_SAMPLES]) for i in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
        ]
        if not frames:
            raise CalibrationError("no sound was read from the microphone")
        return cls(float(np.median(frames)), float(np.percentile(frames, 90)))


@dataclass(frozen=True)
class Proposal:
    mic_gain_db: int
    silence_threshold: int
    room: Levels
    voice: Levels

    def settings(self) -> dict[str, str]:
        """As they are written to local.env."""
        return {
            "MIC_GAIN": str(self.mic_gain_db) if self.mic_gain_db else "max",
            "SILENCE_THRESHOLD": str(self.silence_threshold),
        }


def propose(current_gain_db: float, room: Levels, voice: Levels) -> Proposal:
    """MIC_GAIN and SILENCE_THRESHOLD from levels measured with `current_gain_db` already applied."""
    if voice.peak < room.floor * MIN_VOICE_OVER_ROOM or voice.peak < 1e-4:
        raise CalibrationError(
            f"your voice ({_db(voice.peak)} dBFS) was hardly louder than the room ({_db(room.floor)} dBFS): "
            "speak as you would to Billy, closer to him, and try again"
        )
    wanted = current_gain_db + 20 * math.log10(TARGET_VOICE / voice.peak)
    kind = BY_NAME["MIC_GAIN"].kind
    gain = round(min(max(wanted, kind.low), kind.high))
    change = 10 ** ((gain - current_gain_db) / 20)
    floor = min(room.floor * change * MIN_VOICE_OVER_ROOM, voice.peak * change / 3)
    return Proposal(gain, max(1, round(floor * FULL_SCALE)), room, voice)


def _db(level: float) -> str:
    return f"{20 * math.log10(max(level, 1e-6)):.0f}"
