"""The wake word: an always-on detector on the microphone that starts a session as the button does.

The microphone is one stream, so when the wake word is on, `WakeWordWatcher` is its only reader: a thread
reads every frame, feeds the detector, and hands the frame on to `MicrophoneTap`, the microphone the utterance
Listener reads. A read after a pause (Billy was not listening) starts with what is heard from then on, never
with stale audio such as the wake-up clip. A detection presses the button: it starts a session, or stops Billy
while he speaks, thinks or sings.

Billy's own voice must not wake him, and must not drown someone else saying the wake word while he talks (his
speaker is as loud at the microphone as a person in the room). So the detector hears the microphone less his
voice: an echo canceller (audio/echo_canceller.py) is given everything he plays, in step with the microphone.
What the canceller leaves of his voice is caught by a second detector on what he plays (the reference): a
detection on the microphone within `ECHO_WINDOW_S` of the reference firing (either first: the decision waits
`DECIDE_AFTER_S`) is Billy hearing himself, and is ignored. So the wake word still interrupts him when someone
else says it, which "mute while speaking" would not.
Models: microWakeWord (`pymicro-wakeword`) or openWakeWord (`pyopen-wakeword`), whose wheels bundle
alexa, hey_jarvis, hey_mycroft, okay_nabu (and hey_rhasspy); or the owner's own model file.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from billy.audio.devices import MIC_RATE, Microphone, Speaker
from billy.audio.echo_canceller import EchoCanceller
from billy.audio.pcm import resample
from billy.hearing.onnx_wakeword import OnnxWakeWord
from billy.hearing.wake_models import BUILTIN, OWN_MODEL_SUFFIXES
from billy.settings.kinds import ConfigError
from billy.settings.read import Settings

LOG = logging.getLogger(__name__)
FRAME_SAMPLES = 512  # 32 ms, the Listener's frame
ECHO_WINDOW_S = 5.0
DECIDE_AFTER_S = 0.5
ECHO_TAIL_S = 0.128  # the longest way from leaving the card to the echo (room, clock jitter): short learns fast
ECHO_LEAD_S = 0.032  # a frame is paired with the sound played from this much later: it comes before its echo
HELD_FRAMES = 2  # frames wait this long (64 ms) for the sound played just after them to be handed over
CLOCK_SLIP_S = 0.016  # the frames' count and the card's word on them differ more: follow the card


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

            if builtin:
                self._model = OpenWakeWord.from_builtin(Model(model))
            elif model.endswith(".onnx"):
                self._model = OnnxWakeWord(Path(model))
            else:
                self._model = OpenWakeWord.from_model(model)
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
        suffixes = OWN_MODEL_SUFFIXES[backend]
        if not (model.endswith(suffixes) and Path(model).is_file()):
            raise ConfigError(
                f"WAKE_WORD_MODEL={model!r} is not valid for WAKE_WORD_BACKEND={backend}: use one of "
                f"{', '.join(BUILTIN[backend])}, or the path of your own model's {' or '.join(suffixes)} file"
            )
    return WakeWordDetector(backend, model, settings.wake_word_threshold)


def wake_word_watcher(settings: Settings, microphone: Microphone) -> WakeWordWatcher | None:
    if not settings.wake_word_enabled:
        return None
    detector, reference = detector_from_settings(settings), detector_from_settings(settings)
    canceller = EchoCanceller(FRAME_SAMPLES, MIC_RATE, ECHO_TAIL_S) if settings.aec_enabled else None
    return WakeWordWatcher(microphone, detector, reference, canceller, settings.wake_word_cooldown_seconds)


class MicrophoneTap:
    """The Listener's microphone when the watcher owns the real one: frames as the watcher hands them on."""

    rate = MIC_RATE

    def __init__(self) -> None:
        self._frames: deque[np.ndarray] = deque(maxlen=int(30 * MIC_RATE / FRAME_SAMPLES))
        self._buffer = np.zeros(0, np.int16)
        self._ready = threading.Condition()
        self._last_read = 0.0
        self.stale = False  # flushed: what the watcher reads is old until it has drained the microphone too

    def push(self, frame: np.ndarray) -> None:
        with self._ready:
            if self.stale:
                return
            self._frames.append(frame)
            self._ready.notify_all()

    def flush(self) -> None:
        """Drop what was heard so far (Billy's own voice, as the runtime flushes before each listen), here and
        in the sound card: the watcher drains it (`drained`) before it hands on another frame."""
        with self._ready:
            self.stale = True
            self._frames.clear()
            self._buffer = np.zeros(0, np.int16)

    def drained(self) -> None:
        with self._ready:
            self.stale = False

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


@dataclass
class EchoLevels:
    """What the canceller did while Billy played (mean powers of PCM16 samples): the log's and the tests' proof
    that his voice reached the microphone and how much of it the detector still heard."""

    frames: int = 0
    heard_power: float = 0.0  # the microphone
    left_power: float = 0.0  # what the detector got

    def add(self, heard: np.ndarray, left: np.ndarray) -> None:
        self.frames += 1
        self.heard_power += float(np.mean(heard.astype(np.float64) ** 2))
        self.left_power += float(np.mean(left.astype(np.float64) ** 2))

    @property
    def heard_rms(self) -> float:
        return (self.heard_power / max(1, self.frames)) ** 0.5

    @property
    def cancelled_db(self) -> float:
        return 10 * math.log10(max(self.heard_power, 1.0) / max(self.left_power, 1.0))


class WakeWordWatcher:
    def __init__(
        self,
        microphone: Microphone,
        detector: WakeWordDetector,
        reference: WakeWordDetector,
        canceller: EchoCanceller | None,
        cooldown_s: float,
    ) -> None:
        self.microphone = microphone
        self.detector = detector
        self.reference = reference
        self.canceller = canceller
        self.cooldown_s = cooldown_s
        self.tap = MicrophoneTap()
        self.detections: deque[float] = deque(maxlen=100)  # the last wakes (time.monotonic())
        self.echoes: deque[float] = deque(maxlen=100)  # heard on the microphone, but Billy had just said it
        self.said_by_billy: deque[float] = deque(maxlen=20)  # the wake phrase in what he played (the reference)
        self.echo = EchoLevels()
        self._played: queue.Queue = queue.Queue()
        # What Billy played, at 16 kHz, from the moment `_played_from` on (when it was handed to the speaker).
        self._played_audio = np.zeros(0, np.int16)
        self._played_from = 0.0
        self._heard_until: float | None = None  # when the last microphone frame ended, counted in samples
        self._held: deque[tuple[np.ndarray, float]] = deque()  # (frame, when it ended) until the sound after it
        self._on_wake: Callable[[], None] = lambda: None
        self._stopping = threading.Event()
        self._last_wake = 0.0
        self._heard_at: float | None = None  # a detection on the microphone, not yet told from an echo

    def speaker(self, speaker: Speaker) -> PlayedAudioTap:
        latency = getattr(speaker, "latency", 0.0)  # the card holds a block this long before it is heard
        return PlayedAudioTap(
            speaker, lambda samples, rate: self._played.put((samples, rate, time.monotonic() + latency))
        )

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
        if self.tap.stale:
            self.microphone.flush()
            self.tap.drained()
            self._heard_until = None
        frame = self.microphone.read(FRAME_SAMPLES)
        self._count_frame()
        self.tap.push(frame)
        self._check_reference()
        self._held.append((frame, self._heard_until))
        if len(self._held) <= HELD_FRAMES:
            return
        heard = self._without_echo(*self._held.popleft())
        if self.detector.detect(heard.astype("<i2").tobytes()) and self._heard_at is None:
            self._heard_at = time.monotonic()
        # The two detectors hear the same words a few frames apart, either first: decide a moment later.
        if self._heard_at is None or time.monotonic() - self._heard_at < DECIDE_AFTER_S:
            return
        heard_at, self._heard_at = self._heard_at, None
        if any(abs(heard_at - fired) < ECHO_WINDOW_S for fired in self.said_by_billy):
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
                samples, rate, heard_at = self._played.get_nowait()
            except queue.Empty:
                return
            # Block by block, not through a streaming resampler: that would hold back its filter's delay and
            # the tail of each clip, so the played sound would come after its echo, which no canceller can use.
            samples = resample(samples, rate, MIC_RATE)
            if self.reference.detect(samples.astype("<i2").tobytes()):
                self.said_by_billy.append(time.monotonic())
            self._remember_played(samples.astype(np.int16), heard_at)

    def _remember_played(self, samples: np.ndarray, heard_at: float) -> None:
        """Played sound as one stream, each sample at its own moment: blocks follow on from the last one (a card
        plays them back to back), and a block handed over after a pause starts when the card plays it."""
        end = self._played_from + len(self._played_audio) / MIC_RATE
        if not len(self._played_audio):
            self._played_from = heard_at
        elif heard_at > end:
            samples = np.concatenate([np.zeros(int((heard_at - end) * MIC_RATE), np.int16), samples])
        self._played_audio = np.concatenate([self._played_audio, samples])

    def _count_frame(self) -> None:
        """When the frame just read ended: frames follow on by their length (no jitter from a busy thread),
        checked against the card's own word (now less what it still holds unread: a late reader gets old
        frames), which wins when they part (an overrun lost sound, or the count started off)."""
        card = time.monotonic() - self.microphone.unread_seconds()
        counted = (self._heard_until or card) + FRAME_SAMPLES / MIC_RATE
        self._heard_until = counted if abs(counted - card) <= CLOCK_SLIP_S else card

    def _without_echo(self, frame: np.ndarray, ended: float) -> np.ndarray:
        """The frame less Billy's voice. The canceller is given, with each frame, the sound played from
        `ECHO_LEAD_S` after the frame's start, so any sound reaches it before its echo does (the filter learns
        only delays after the sound, up to `ECHO_TAIL_S`: the way through the air, the clocks' jitter).
        With nothing played for the last `ECHO_TAIL_S`, the frame is passed on as it is."""
        frame_start = ended - FRAME_SAMPLES / MIC_RATE + ECHO_LEAD_S
        first = round((frame_start - self._played_from) * MIC_RATE)
        if first >= len(self._played_audio) + ECHO_TAIL_S * MIC_RATE:
            self._played_audio = np.zeros(0, np.int16)  # long over: the next sound starts a new stream
            return frame
        played = np.zeros(FRAME_SAMPLES, np.int16)
        begin, end = max(first, 0), max(0, min(first + FRAME_SAMPLES, len(self._played_audio)))
        if end > begin:
            played[begin - first : end - first] = self._played_audio[begin:end]
        if first > 0:  # used: keep only what later frames need
            self._played_audio = self._played_audio[first:]
            self._played_from += first / MIC_RATE
        if self.canceller is None:  # AEC_ENABLED=false: as the original without its canceller, deaf while he talks
            return np.zeros(FRAME_SAMPLES, np.int16) if played.any() else frame
        left = self.canceller.cancel(frame, played)
        if played.any():
            self.echo.add(frame, left)
        return left
