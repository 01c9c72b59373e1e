"""A reply in the making: transcript, the model's sentences and their audio, queued but not yet played.

The pipeline starts a draft as soon as the user's speech is all there, which may be during the end-of-turn
silence, before the listener is sure the turn is over. Nothing of a draft is seen or heard (no state, no
motor, no sound, no memory) until a turn plays it; if the user goes on speaking it is cancelled, its LLM
stream closed (which stops generation on the server), and a new draft starts on the longer speech.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from billy.audio.pcm import Pcm
from billy.conversation.answer import Answer
from billy.conversation.heard_you import HeardYou
from billy.services.client import ServiceError
from billy.services.llm.client import ToolCall

END = object()  # the last item of a draft's queues (sentences, audio)


class AnyOf:
    """Set when any of its events is: the draft's own cancel and, once a turn plays it, that turn's interrupt."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = list(events)

    def include(self, event: threading.Event) -> None:
        self._events.append(event)

    def is_set(self) -> bool:
        return any(event.is_set() for event in self._events)


class Draft:
    def __init__(self, pcm: Pcm | None = None, heard: str | None = None) -> None:
        self.pcm = pcm
        self._cancel = threading.Event()
        self.stop = AnyOf(self._cancel)  # what the workers watch
        self.heard = heard or ""
        self.language = ""  # the language heard, when the STT service says (STT_LANGUAGE=auto)
        self.transcribed = threading.Event()  # set once `heard` is final (or transcription failed)
        # The LLM waits for this: set when the turn sounds complete, when it is handed over, or on cancel.
        self.go_ahead = threading.Event()
        self.think_early = True  # may the listener let the model start during the end-of-turn silence
        self.heard_you: HeardYou | None = None  # the body's "I heard you", given by the pipeline
        if heard is not None:
            self.transcribed.set()
        self.marks: dict[str, float] = {}  # time.monotonic() of each stage's milestone
        self.messages: list[dict] = []  # what the model was asked
        self.tool_calls: list[ToolCall] = []
        self.answer: Answer | None = None  # a step's answer known on the draft (Pipeline._foreseen)
        self.failures: dict[str, ServiceError] = {}  # by stage: stt, llm, tts
        self.audio: queue.Queue = queue.Queue()  # (rate, samples) blocks, then END
        self.spoken: list[str] = []  # sentences voiced (or logged, in text-only mode)
        # A Realtime draft (conversation/realtime_turn.py): the cloud hears, thinks and speaks in one, runs its
        # functions as it goes (their songs are sung after).
        self.realtime = False
        self.live = None  # a Realtime question streamed as it is spoken (services/realtime/live.LiveQuestion)
        self.songs: list = []
        self.expects_reply: bool | None = None
        self._workers: list[threading.Thread] = []
        self._on_transcribed: list[Callable[[], None]] = []

    def start(self, work: Callable, *args) -> None:
        worker = threading.Thread(target=work, args=args, daemon=True)
        self._workers.append(worker)
        worker.start()

    def cancel(self) -> None:
        """Drop it: the workers stop at their next step, and nothing of it is ever played."""
        self._cancel.set()
        self.go_ahead.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def when_transcribed(self, action: Callable[[], None]) -> None:
        """Run `action` as soon as the transcript is final (now, if it already is): the listener's go-ahead,
        which would otherwise wait for the next microphone frame to look."""
        self._on_transcribed.append(action)
        if self.transcribed.is_set():
            action()

    def finish_transcription(self) -> None:
        self.transcribed.set()
        for action in list(self._on_transcribed):
            action()

    def transcript(self) -> str | None:
        """The transcript if it is ready (without waiting), else None."""
        return self.heard if self.transcribed.is_set() else None

    def join(self) -> None:
        for worker in list(self._workers):
            worker.join()
