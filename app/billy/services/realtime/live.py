"""A Realtime turn whose question goes to the cloud as it is spoken, as the original's did (BRAIN=realtime).

The session opens the moment the listener hears speech start, so its connection is made while the user talks;
the listener feeds it each microphone frame; the server's voice detector (`server_vad`, its silence set by
TURN_EAGERNESS: 250/1000/1500 ms) decides that the question is over, and the listener hands the turn over at
its word. The response is still asked for by Billy at the hand-over (`create_response` off): a reply may call
functions that act on the world, which must not happen on a turn that the button or the end of the
conversation took back. If the server's detector never ends the question, Billy's own silence rule does, a
little later, and he commits the audio himself.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading

import numpy as np
import soxr

from billy.services.realtime.link import (
    HEARD_DONE,
    RATE,
    RealtimeVoice,
    TurnEvents,
    error_event,
    history_items,
    open_session,
    realtime_errors,
    replies,
    session_update,
)

LOG = logging.getLogger(__name__)
MIC_RATE = 16000
POLL_SECONDS = 0.02  # how long a wait for the server's events may hold back the next frame's sending
# Billy ends the question himself this long after the server's silence, should its detector never say.
BACKSTOP_MS = 1500
# The server's detector says "speech_stopped", then commits the audio as the question: the question is over at
# the commit (a commit of Billy's own after it would find the buffer empty, an error).
ENDED = "input_audio_buffer.committed"


class LiveQuestion:
    """The microphone's frames on their way to the cloud, and the server's word that the question is over."""

    def __init__(self, silence_ms: int) -> None:
        self.silence_ms = silence_ms
        self.backstop_ms = silence_ms + BACKSTOP_MS
        # The server's detector heard the end of the question and committed it (else Billy commits it).
        self.server_ended = threading.Event()
        self.failed = threading.Event()  # the session is gone before the hand-over: Billy hears the turn himself
        self.seconds_sent = 0.0
        self._frames: queue.Queue = queue.Queue()
        self._resampler = soxr.ResampleStream(MIC_RATE, RATE, 1, dtype="int16")

    def feed(self, frame: np.ndarray) -> None:
        """A microphone frame (PCM16 at 16 kHz), from the listener's thread; sent by the session's."""
        self._frames.put(frame)

    def done(self) -> None:
        """The turn is over: nothing more is sent."""
        self._resampler = None

    def send_fed(self, socket, last: bool = False) -> None:
        while True:
            try:
                frame = self._frames.get_nowait()
            except queue.Empty:
                break
            self._append(socket, self._resampler.resample_chunk(frame.astype(np.int16)))
        if last:
            self._append(socket, self._resampler.resample_chunk(np.zeros(0, dtype=np.int16), last=True))

    def _append(self, socket, samples: np.ndarray) -> None:
        if len(samples):
            self.seconds_sent += len(samples) / RATE
            audio = base64.b64encode(samples.astype("<i2").tobytes()).decode()
            socket.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))


def converse_live(
    voice: RealtimeVoice,
    instructions: str,
    tools: list[dict],
    history: list[dict],
    question: LiveQuestion,
    handed_over: threading.Event,
    events: TurnEvents,
) -> None:
    """One turn: the question streamed from `question` until `handed_over`, then the reply to `events`."""
    try:
        with realtime_errors(voice), open_session(voice) as socket:
            socket.send(json.dumps(session_update(voice, instructions, tools, question.silence_ms)))
            for item in history_items(history):
                socket.send(json.dumps(item))
            while not handed_over.is_set():
                if events.stopped():
                    return
                question.send_fed(socket)
                try:
                    event = json.loads(socket.recv(timeout=POLL_SECONDS))
                except TimeoutError:
                    continue
                _while_listening(event, voice, question, events)
            if events.stopped():
                return
            question.send_fed(socket, last=True)
            if not question.server_ended.is_set():
                LOG.info("the server's voice detector did not end the question: Billy commits it")
                socket.send(json.dumps({"type": "input_audio_buffer.commit"}))
            socket.send(json.dumps({"type": "response.create"}))
            replies(socket, voice, events)
    finally:
        question.done()  # the resampler's native state freed now, not at exit


def _while_listening(event: dict, voice: RealtimeVoice, question: LiveQuestion, events: TurnEvents) -> None:
    kind = event.get("type", "")
    if kind == ENDED:
        LOG.info("the cloud's voice detector heard the end of the question")
        question.server_ended.set()
    elif kind == HEARD_DONE:
        events.on_heard(event.get("transcript", ""))
    elif kind == "error":
        raise error_event(voice, event)
