"""Acoustic echo cancellation: the microphone's sound less Billy's own voice, by speexdsp's adaptive filter.

A fish's speaker sits a few centimetres from its microphone, so while Billy talks his own voice is as loud as
(or louder than) anyone in the room. The wake word must still be heard through it, so the watcher feeds its
detector what the microphone heard minus what the filter predicts of the speaker's sound.

speexdsp (Xiph, BSD) is the Debian package libspeexdsp1, called through ctypes: nothing to compile. Its
multi-delay filter learns the path from the speaker to the microphone (delay, level, the room) as Billy talks;
the echo may arrive up to `tail_s` after the sound was handed to the speaker.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

SPEEX_ECHO_SET_SAMPLING_RATE = 24  # speex_echo.h
LIBRARY = "speexdsp"


class EchoCancellerUnavailable(RuntimeError):
    """libspeexdsp is not installed."""


def _library() -> ctypes.CDLL:
    path = ctypes.util.find_library(LIBRARY) or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        raise EchoCancellerUnavailable(
            "the wake word's echo canceller needs libspeexdsp (Debian: apt-get install libspeexdsp1)"
        ) from error
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_state_reset.argtypes = [ctypes.c_void_p]
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    pcm = np.ctypeslib.ndpointer(np.int16, flags="C_CONTIGUOUS")
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, pcm, pcm, pcm]
    return lib


class EchoCanceller:
    """`cancel(heard, played)`: `frame` samples each, `played` handed to the speaker when `heard` was read."""

    def __init__(self, frame: int, rate: int, tail_s: float = 0.4) -> None:
        self._lib = _library()
        self.frame = frame
        self._state = self._lib.speex_echo_state_init(frame, int(rate * tail_s))
        self._lib.speex_echo_ctl(self._state, SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(ctypes.c_int(rate)))

    def cancel(self, heard: np.ndarray, played: np.ndarray) -> np.ndarray:
        out = np.empty(self.frame, np.int16)
        self._lib.speex_echo_cancellation(
            self._state, np.ascontiguousarray(heard, np.int16), np.ascontiguousarray(played, np.int16), out
        )
        return out

    def reset(self) -> None:
        self._lib.speex_echo_state_reset(self._state)

    def close(self) -> None:
        if self._state:
            self._lib.speex_echo_state_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
