"""PCM16 mono audio in memory: reading and writing WAV, resampling, loudness."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np
import soxr

MIN_RATE = 8000
MAX_RATE = 48000


class AudioFormatError(ValueError):
    """The bytes are not audio Billy can use; the message says what was expected."""


@dataclass(frozen=True)
class Pcm:
    """Mono 16-bit samples and their rate."""

    samples: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    def to_bytes(self) -> bytes:
        return self.samples.astype("<i2").tobytes()

    def to_wav(self) -> bytes:
        return wav_bytes(self.samples, self.rate)

    def resampled(self, rate: int) -> Pcm:
        return Pcm(resample(self.samples, self.rate, rate), rate)


def check_rate(rate: int) -> int:
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioFormatError(f"sample rate {rate} Hz is not supported: use {MIN_RATE} to {MAX_RATE} Hz")
    return rate


def read_wav(data: bytes) -> Pcm:
    """Decode a 16-bit PCM WAV (any channel count, mixed down to mono)."""
    if not data:
        raise AudioFormatError("the audio is empty (0 bytes)")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioFormatError("not a WAV file (no RIFF/WAVE header): send 16-bit PCM WAV, or raw PCM with its rate")
    try:
        with wave.open(io.BytesIO(data)) as reader:
            width, channels, rate = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise AudioFormatError(f"unreadable WAV file ({error}): send 16-bit PCM WAV") from None
    if width != 2:
        raise AudioFormatError(f"WAV has {8 * width}-bit samples: send 16-bit PCM")
    check_rate(rate)
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return Pcm(samples.astype(np.int16), rate)


def read_raw(data: bytes, rate: int) -> Pcm:
    """Raw little-endian PCM16 mono at a named rate."""
    if not data:
        raise AudioFormatError("the audio is empty (0 bytes)")
    check_rate(rate)
    return Pcm(np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").copy(), rate)


def wav_bytes(samples: np.ndarray | bytes, rate: int) -> bytes:
    frames = bytes(samples) if isinstance(samples, (bytes, bytearray)) else np.asarray(samples).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.int16)
    return soxr.resample(samples.astype(np.int16), from_rate, to_rate)


def to_float(samples: np.ndarray) -> np.ndarray:
    return samples.astype(np.float32) / 32768.0


def loudness(samples: np.ndarray) -> float:
    """RMS of the samples as a fraction of full scale (0..1)."""
    if len(samples) == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
