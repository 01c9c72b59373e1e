"""The wake word: an always-on detector on the microphone that starts a session as the button does.

The microphone is one stream, so when the wake word is on, `WakeWordWatcher` is its only reader: a thread
reads every frame, feeds the detector, and hands the frame on to `MicrophoneTap`, the microphone the utterance
Listener reads. A read after a pause (Billy was not listening) starts with what is heard from then on, never
with stale audio such as the wake-up clip. A detection presses the button: it starts a session, or stops Billy
while he speaks, thinks or sings.

Billy's own voice must not wake him. Everything he plays also goes through a second detector (the reference);
a detection on the microphone within `ECHO_WINDOW_S` of the reference firing (either first: the decision waits
`DECIDE_AFTER_S`) is Billy hearing himself, and is ignored. So the wake word still interrupts him when someone
else says it, which "mute while speaking" would not.
Models: microWakeWord (`pymicro-wakeword`) or openWakeWord (`pyopen-wakeword`), whose wheels bundle
alexa, hey_jarvis, hey_mycroft, okay_nabu (and hey_rhasspy); or the owner's own model file.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr

from .audio.devices import MIC_RATE, Microphone, Speaker
from .config import ConfigError, Settings

LOG = logging.getLogger(__name__)
FRAME_SAMPLES = 512  # 32 ms, the Listener's frame
ECHO_WINDOW_S = 5.0
DECIDE_AFTER_S = 0.5
BUILTIN = {
    "microwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"),
    "openwakeword": ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu"),
}
OWN_MODEL_SUFFIX = {"microwakeword": ".json", "openwakeword": ".tflite"}


class WakeWordDetector:
    """One streaming wake-word model: `detect(pcm16 bytes at 16 kHz)` is True when the phrase was just said."""

    def __init__(self, backend: str, model: str, threshold: float = 0) -> None:
        self.backend, self.model = backend, model
        builtin = model in BUILTIN[backend]
        if backend == "microwakeword":
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

            self._model = MicroWakeWord.from_builtin(Model(model)) if builtin else MicroWakeWord.from_config(model)
            if threshold:
                self._model.probability_cutoff = threshold
            self._features = MicroWakeWordFeatures()
        else:
            from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

            self._model = OpenWakeWord.from_builtin(Model(model)) if builtin else OpenWakeWord.from_model(model)
            self._features = OpenWakeWordFeatures.from_builtin()
            self.threshold = threshold or 0.5

    def detect(self, audio: bytes) -> bool:
        found = False
        for features in self._features.process_streaming(audio):
            if self.backend == "microwakeword":
                found = bool(self._model.process_streaming(features)) or found
            else:
                found = any(p > self.threshold for p in self._model.process_streaming(features)) or found
        return found

    def reset(self) -> None:
        self._model.reset()
        self._features.reset()


def detector_from_settings(settings: Settings) -> WakeWordDetector:
    """WAKE_WORD_MODEL is a bundled model's name or the path of the owner's own model file."""
    backend, model = settings.wake_word_backend, settings.wake_word_model
    if model not in BUILTIN[backend]:
        suffix = OWN_MODEL_SUFFIX[backend]
        if not (model.endswith(suffix) and Path(model).is_file()):
            raise ConfigError(
                f"WAKE_WORD_MODEL={model!r} is not valid for WAKE_WORD_BACKEND={backend}: use one of "
                f"{', '.join(BUILTIN[backend])}, or the path of your own model's {suffix} file"
            )
    return WakeWordDetector(backend, model, settings.wake_word_threshold)


def wake_word_watcher(settings: Settings, microphone: Microphone) -> WakeWordWatcher | None:
    if not settings.wake_word_enabled:
        return None
    detector, reference = detector_from_settings(settings), detector_from_settings(settings)
    return WakeWordWatcher(microphone, detector, reference, settings.wake_word_cooldown_seconds)


class MicrophoneTap:
    """The Listener's microphone when the watcher owns the real one: frames as the watcher hands them on."""

    rate = MIC_RATE

    def __init__(self) -> None:
        self._frames: deque[np.ndarray] = deque(maxlen=int(30 * MIC_RATE / FRAME_SAMPLES))
        self._buffer = np.zeros(0, np.int16)
        self._ready = threading.Condition()
        self._last_read = 0.0

    def push(self, frame: np.ndarray) -> None:
        with self._ready:
            self._frames.append(frame)
            self._ready.notify_all()

    def flush(self) -> None:
        """Drop what was heard so far (Billy's own voice, as the runtime flushes before each listen)."""
        with self._ready:
            self._frames.clear()
            self._buffer = np.zeros(0, np.int16)

    def read(self, samples: int) -> np.ndarray:
        with self._ready:
            if time.monotonic() - self._last_read > 0.5:  # a new listen starts now, not with the wake-up clip
                self._frames.clear()
                self._buffer = np.zeros(0, np.int16)
            while len(self._buffer) < samples:
                while not self._frames:
                    self._ready.wait(1.0)
                self._buffer = np.concatenate([self._buffer, self._frames.popleft()])
            out, self._buffer = self._buffer[:samples], self._buffer[samples:]
            self._last_read = time.monotonic()
            return out

    def close(self) -> None:
        pass


class PlayedAudioTap:
    """A speaker that also tells the watcher what it plays (before playing it, so the reference is ahead)."""

    def __init__(self, speaker: Speaker, on_played: Callable[[np.ndarray, int], None]) -> None:
        self.speaker = speaker
        self.on_played = on_played

    def write(self, samples: np.ndarray, rate: int) -> None:
        self.on_played(samples, rate)
        self.speaker.write(samples, rate)

    def close(self) -> None:
        self.speaker.close()

    def __getattr__(self, name: str):
        return getattr(self.speaker, name)


class WakeWordWatcher:
    def __init__(
        self, microphone: Microphone, detector: WakeWordDetector, reference: WakeWordDetector, cooldown_s: float
    ) -> None:
        self.microphone = microphone
        self.detector = detector
        self.reference = reference
        self.cooldown_s = cooldown_s
        self.tap = MicrophoneTap()
        self.detections: deque[float] = deque(maxlen=100)  # the last wakes (time.monotonic())
        self.echoes: deque[float] = deque(maxlen=100)  # heard on the microphone, but Billy had just said it
        self._reference_fired: deque[float] = deque(maxlen=20)
        self._played: queue.Queue = queue.Queue()
        self._resamplers: dict[int, soxr.ResampleStream] = {}
        self._on_wake: Callable[[], None] = lambda: None
        self._stopping = threading.Event()
        self._last_wake = 0.0
        self._heard_at: float | None = None  # a detection on the microphone, not yet told from an echo

    def speaker(self, speaker: Speaker) -> PlayedAudioTap:
        return PlayedAudioTap(speaker, lambda samples, rate: self._played.put((samples, rate)))

    def start(self, on_wake: Callable[[], None], stopping: threading.Event) -> None:
        self._on_wake, self._stopping = on_wake, stopping
        threading.Thread(target=self._run, name="wake-word", daemon=True).start()
        LOG.info("listening for the wake word %s (%s)", self.detector.model, self.detector.backend)

    def _run(self) -> None:
        self._last_wake = -self.cooldown_s
        while not self._stopping.is_set():
            try:
                self._listen_once()
            except Exception:  # the Listener hears through this thread: it must outlive a bad frame or device
                LOG.exception("wake-word watcher: carrying on")
                time.sleep(0.5)

    def _listen_once(self) -> None:
        frame = self.microphone.read(FRAME_SAMPLES)
        self.tap.push(frame)
        self._check_reference()
        if self.detector.detect(frame.astype("<i2").tobytes()) and self._heard_at is None:
            self._heard_at = time.monotonic()
        # The two detectors hear the same words a few frames apart, either first: decide a moment later.
        if self._heard_at is None or time.monotonic() - self._heard_at < DECIDE_AFTER_S:
            return
        heard_at, self._heard_at = self._heard_at, None
        if any(abs(heard_at - fired) < ECHO_WINDOW_S for fired in self._reference_fired):
            LOG.info("wake word heard in Billy's own voice: ignored")
            self.echoes.append(heard_at)
        elif heard_at - self._last_wake >= self.cooldown_s:
            LOG.info("wake word %s", self.detector.model)
            self._last_wake = heard_at
            self.detections.append(heard_at)
            self._on_wake()

    def _check_reference(self) -> None:
        while True:
            try:
                samples, rate = self._played.get_nowait()
            except queue.Empty:
                return
            if rate != MIC_RATE:
                resampler = self._resamplers.setdefault(rate, soxr.ResampleStream(rate, MIC_RATE, 1, dtype="int16"))
                samples = resampler.resample_chunk(samples.astype(np.int16))
            if self.reference.detect(samples.astype("<i2").tobytes()):
                self._reference_fired.append(time.monotonic())
