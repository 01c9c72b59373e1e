"""The sound card: microphone and speaker through `sounddevice`, chosen by name, any native rate.

The rest of Billy sees a microphone that returns 16 kHz mono PCM16 in blocks (and can drop what it recorded
while nobody read), and a speaker that takes PCM16 blocks at any rate and returns once they are buffered,
`latency` seconds before they are heard. `file_device.py` implements the same two shapes
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

    def unread_seconds(self) -> float:
        """How much recorded sound waits to be read: the last frame read ended that long ago."""

    def flush(self) -> None:
        """Drop what was recorded while nobody read (Billy's own voice among it): called before listening."""

    def close(self) -> None: ...


class Speaker(Protocol):
    latency: float  # seconds from `write` returning to the block being heard

    def write(self, samples: np.ndarray, rate: int) -> None: ...

    def end_clip(self) -> None: ...  # the clip written block by block is over

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

    def flush(self) -> None:
        available = self._stream.read_available
        if available:
            self._stream.read(available)
        self._buffer = np.zeros(0, dtype=np.int16)

    def unread_seconds(self) -> float:
        return self._stream.read_available / self._stream.samplerate + len(self._buffer) / MIC_RATE

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
        self.latency = float(self._stream.latency)  # `write` returns once buffered, this long before it is heard
        LOG.info("speaker: %s at %d Hz, output latency %.0f ms", self._stream.device, self.rate, self.latency * 1000)

    def write(self, samples: np.ndarray, rate: int) -> None:
        if rate != self.rate:
            resampler = self._resamplers.setdefault(rate, soxr.ResampleStream(rate, self.rate, 1, dtype="int16"))
            samples = resampler.resample_chunk(samples)
        self._stream.write(samples.reshape(-1, 1))

    def end_clip(self) -> None:
        """Play what the resamplers still hold and start the next clip with fresh ones: a stream's filter
        state belongs to one clip (else the next clip begins with the tail of the last)."""
        resamplers, self._resamplers = self._resamplers, {}
        for resampler in resamplers.values():
            rest = resampler.resample_chunk(np.zeros(0, np.int16), last=True)
            if len(rest):
                self._stream.write(rest.reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()  # plays what is still buffered; close() alone would cut off the last `latency`
        self._stream.close()
