"""The web page's body test on a running Billy: the microphone's level and its calibration readings, and the
status LED's looks. Readings take the microphone only while Billy is idle, one at a time, in short pieces, so a
press during one shares it for 50 ms at most."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from billy.audio.pcm import loudness
from billy.hearing.calibration import Levels

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

LEVEL_SECONDS = 0.5
PIECES = 10  # pieces of a level reading


def _read(billy: Billy, seconds: float) -> np.ndarray:
    chunk = int(billy.microphone.rate * LEVEL_SECONDS / PIECES)
    with billy.mic_reading:
        pieces = []
        for _ in range(max(1, round(seconds * billy.microphone.rate / chunk))):
            if not billy.idle or billy.state != "idle":  # a turn started: the microphone is the listener's now
                raise LookupError("Billy is busy with the microphone; try again when he is idle")
            pieces.append(billy.microphone.read(chunk))
    return np.concatenate(pieces)


def mic_level(billy: Billy) -> float:
    """Loudness (RMS, 0..1 of full scale) of half a second of microphone, for the wiring test's meter."""
    return round(float(loudness(_read(billy, LEVEL_SECONDS))), 4)


def measure_mic(billy: Billy, seconds: float) -> dict:
    """The microphone's levels over `seconds` (calibration: the room, then the owner's voice), with the gain
    already applied to them."""
    levels = Levels.of(_read(billy, seconds))
    return {"floor": levels.floor, "peak": levels.peak, "mic_gain_db": billy.settings.mic_gain}


def show_led(billy: Billy, name: str) -> None:
    """The status LED shows one of its looks for a few seconds."""
    if billy.status_led is None:
        raise LookupError("there is no status LED: set STATUS_LED_ENABLED=true (and its kind and pin)")
    billy.status_led.preview(name)
