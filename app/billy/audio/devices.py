"""The sound card: microphone and speaker through `sounddevice`, chosen by name, any native rate.

The rest of Billy sees a microphone that returns 16 kHz mono PCM16 in blocks, and a speaker that takes PCM16
blocks at any rate and returns once they have been played. `file_device.py` implements the same two shapes
without hardware.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np
import soxr

MIC_RATE = 16000
SOUND_CLASS = Path("/sys/class/sound")
LOG = logging.getLogger(__name__)


class Microphone(Protocol):
    rate: int

    def read(self, samples: int) -> np.ndarray: ...

    def close(self) -> None: ...


class Speaker(Protocol):
    def write(self, samples: np.ndarray, rate: int) -> None: ...

    def close(self) -> None: ...


class NoSoundDeviceError(RuntimeError):
    """No input or output device matches; the message lists what exists."""


def usb_path_card(preference: str, sound_class: Path = SOUND_CLASS) -> str:
    """`usbpath:1-1.3` (the original's MIC/SPEAKER_PREFERENCE for a USB port) -> `(hw:N,` of the ALSA card on it.

    The card's sysfs device path holds the USB port (`.../usb1/1-1/1-1.3/1-1.3:1.0`), which stays the same
    when cards are plugged in another order; the PortAudio device name of card N contains `(hw:N,`.
    """
    if not preference.lower().startswith("usbpath:"):
        return preference
    port = preference.split(":", 1)[1].strip()
    cards = sorted(sound_class.glob("card[0-9]*")) if sound_class.is_dir() else []
    for card in cards:
        parts = (card / "device").resolve().parts
        if any(part == port or part.startswith(f"{port}:") for part in parts):
            return f"(hw:{card.name.removeprefix('card')},"
    found = ", ".join(f"{card.name} at {(card / 'device').resolve()}" for card in cards) or "no sound cards"
    raise NoSoundDeviceError(f"no sound card on USB port {port!r} ({preference}): found {found}")


def find_device(preference: str, kind: str) -> int | None:
    """The first device whose name contains `preference` (case-insensitive), else the system default."""
    import sounddevice

    preference = usb_path_card(preference)

    channels_key = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = [(index, d) for index, d in enumerate(sounddevice.query_devices()) if d[channels_key] > 0]
    if not devices:
        raise NoSoundDeviceError(f"no {kind} sound device found: is the USB sound card plugged in?")
    if not preference:
        return None
    for index, device in devices:
        if preference.lower() in device["name"].lower():
            return index
    names = ", ".join(repr(d["name"]) for _, d in devices)
    raise NoSoundDeviceError(f"no {kind} device matches {preference!r}: the {kind} devices are {names}")


class SoundDeviceMicrophone:
    rate = MIC_RATE

    def __init__(self, preference: str, chunk_ms: int) -> None:
        import sounddevice

        device = find_device(preference, "input")
        native = int(sounddevice.query_devices(device, "input")["default_samplerate"])
        self._stream = sounddevice.InputStream(
            device=device, samplerate=native, channels=1, dtype="int16", blocksize=int(native * chunk_ms / 1000)
        )
        self._resampler = soxr.ResampleStream(native, MIC_RATE, 1, dtype="int16")
        self._buffer = np.zeros(0, dtype=np.int16)
        self._stream.start()
        LOG.info("microphone: %s at %d Hz", self._stream.device, native)

    def read(self, samples: int) -> np.ndarray:
        while len(self._buffer) < samples:
            block, overflowed = self._stream.read(self._stream.blocksize)
            if overflowed:
                LOG.debug("microphone overflow: Billy was too slow reading")
            self._buffer = np.concatenate([self._buffer, self._resampler.resample_chunk(block[:, 0])])
        out, self._buffer = self._buffer[:samples], self._buffer[samples:]
        return out

    def close(self) -> None:
        self._stream.close()


class SoundDeviceSpeaker:
    def __init__(self, preference: str) -> None:
        import sounddevice

        device = find_device(preference, "output")
        self.rate = int(sounddevice.query_devices(device, "output")["default_samplerate"])
        self._stream = sounddevice.OutputStream(device=device, samplerate=self.rate, channels=1, dtype="int16")
        self._resamplers: dict[int, soxr.ResampleStream] = {}
        self._stream.start()
        LOG.info("speaker: %s at %d Hz", self._stream.device, self.rate)

    def write(self, samples: np.ndarray, rate: int) -> None:
        if rate != self.rate:
            resampler = self._resamplers.setdefault(rate, soxr.ResampleStream(rate, self.rate, 1, dtype="int16"))
            samples = resampler.resample_chunk(samples)
        self._stream.write(samples.reshape(-1, 1))

    def close(self) -> None:
        self._stream.close()
