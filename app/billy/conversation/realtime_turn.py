"""The cloud's Realtime voice as a turn's brain (BRAIN=realtime, or BRAIN=hybrid when a local stage fails), and
the way back to the local pipeline.

A Realtime turn is a draft like a local one: its worker fills the same audio queue the turn plays (so the
mouth, head and tail move with the cloud's voice exactly as with piper's), and sets the transcript and the
sentences said. With BRAIN=realtime it starts as the user starts speaking: the listener streams the question
into it and the cloud's voice detector ends the question (services/realtime/live.py). With BRAIN=hybrid it
answers a recorded question. Either way the reply is asked for only at the hand-over: the model may call
functions that act on the world (a light, a song), which a draft on a guess of the turn's end must never do.

When the cloud fails a turn (unreachable, dropped mid-turn, a refused key), that turn ends with the error clip
and the brain steps aside: the next turns run on the local pipeline, while a probe in the background waits for
the cloud to take a session again.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import numpy as np

from billy.audio.pcm import resample
from billy.conversation.draft import END, Draft
from billy.conversation.history import Conversation
from billy.conversation.tools import ToolBox, ToolError
from billy.services.llm.client import ToolCall
from billy.services.realtime.link import (
    RATE,
    Call,
    CloudUsage,
    RealtimeError,
    RealtimeVoice,
    TurnEvents,
    converse,
    probe,
)
from billy.services.realtime.live import LiveQuestion, converse_live

LOG = logging.getLogger(__name__)


class RealtimeBrain:
    """The Realtime voice, and whether it may take the next turn."""

    def __init__(
        self,
        voice: RealtimeVoice,
        daily_cap_minutes: float = 0,
        answers_first: bool = True,
        probe_every: float = 30.0,
        vad_silence_ms: int = 1000,
    ) -> None:
        self.voice = voice
        self.vad_silence_ms = vad_silence_ms  # the server's end of a streamed question (TURN_EAGERNESS)
        # BRAIN=realtime: the cloud answers every turn it can; BRAIN=hybrid: only the turns a local stage fails.
        self.answers_first = answers_first
        self.daily_cap_minutes = daily_cap_minutes  # cloud audio (heard and spoken) a day; 0: no cap
        self._cap_told_on = ""  # the day Billy said the cap was reached
        self.probe_every = probe_every
        self.down_because = ""  # why the local pipeline answers for now; "" while the cloud is up
        self._back = threading.Event()  # set when the probe finds the cloud again (what a test waits for)
        self._local_next = False
        self.usage = CloudUsage(_today())  # today's; the dashboard shows it
        self._prober: threading.Thread | None = None

    @property
    def up(self) -> bool:
        return not self.down_because

    def takes_turn(self) -> bool:
        """May the cloud answer the turn starting now? Never the one right after it failed: that one is local,
        however soon the probe finds the cloud again (a flapping network must not cost two error clips)."""
        return self.answers_first and self.may_answer()

    def may_answer(self) -> bool:
        """Up, not right after failing, and under today's cap."""
        return self.up and not self._local_next and not self.capped

    @property
    def capped(self) -> bool:
        """Today's cloud audio has reached REALTIME_DAILY_CAP_MINUTES: the local pipeline answers until midnight."""
        if not self.daily_cap_minutes or self.usage.day != _today():
            return False
        return (self.usage.audio_in_s + self.usage.audio_out_s) / 60 >= self.daily_cap_minutes

    def report(self) -> dict:
        """For the dashboard and Home Assistant: today's usage, and why the local pipeline answers, if it does."""
        return {**self.usage.summary(), "down_because": self.down_because, "capped": self.capped}

    def cap_notice_due(self) -> bool:
        """True once a day, on the first local turn after the cap was reached: Billy says so, and the log."""
        if not self.capped or self._cap_told_on == self.usage.day:
            return False
        self._cap_told_on = self.usage.day
        LOG.warning(
            "the Realtime voice reached today's cap (REALTIME_DAILY_CAP_MINUTES=%g): local until midnight",
            self.daily_cap_minutes,
        )
        return True

    def answered_locally(self) -> None:
        self._local_next = False

    def went_down(self, error: RealtimeError) -> None:
        fix = f"; check {error.setting}" if error.setting else ""
        LOG.warning("the Realtime voice failed (%s%s): the local pipeline answers until it is back", error, fix)
        self.down_because = f"{error}{fix}"
        self._local_next = True
        self._back.clear()
        if self._prober is None or not self._prober.is_alive():
            self._prober = threading.Thread(target=self._wait_for_cloud, daemon=True, name="realtime-probe")
            self._prober.start()

    def wait_back(self, timeout: float) -> bool:
        return self._back.wait(timeout)

    def _wait_for_cloud(self) -> None:
        while True:
            try:
                probe(self.voice)
            except RealtimeError as error:
                LOG.debug("the Realtime voice is still down: %s", error)
                time.sleep(self.probe_every)  # a background retry's pace, not a test's wait
                continue
            LOG.info("the Realtime voice is back: it answers the next turn")
            self.down_because = ""
            self._back.set()
            return

    def start(self, draft: Draft, conversation: Conversation, toolbox: ToolBox) -> None:
        """Make `draft` a Realtime one: its worker waits for the hand-over, then asks the cloud."""
        draft.realtime = True
        draft.think_early = False  # go_ahead only at the hand-over
        draft.start(self._reply, draft, conversation, toolbox)

    def stream(self, draft: Draft, conversation: Conversation, toolbox: ToolBox) -> None:
        """Make `draft` a Realtime one whose question the listener feeds as it is spoken (`draft.live`)."""
        draft.realtime = True
        draft.think_early = False
        draft.live = LiveQuestion(self.vad_silence_ms)
        draft.start(self._reply_live, draft, conversation, toolbox)

    def _reply_live(self, draft: Draft, conversation: Conversation, toolbox: ToolBox) -> None:
        question = draft.live
        events = turn_events(draft, toolbox)
        self._count(events, seconds_in=0, turns=0)  # a turn once handed over: the cloud may fail before
        try:
            messages = draft.messages = conversation.messages_for("")
            converse_live(
                self.voice,
                messages[0]["content"],
                toolbox.schemas(searching_notes=True),
                messages[1:-1],
                question,
                draft.go_ahead,
                events,
            )
        except RealtimeError as error:
            draft.failures["llm"] = error
            self.went_down(error)
            if not draft.go_ahead.is_set():
                question.failed.set()  # after went_down: the listener's local draft must not come back here
        finally:
            self.usage.audio_in_s += question.seconds_sent  # sent is billed, whoever answers
            if draft.go_ahead.is_set() and not draft.cancelled:
                self.usage.turns += 1
            if not draft.transcribed.is_set():
                draft.finish_transcription()
            draft.audio.put(END)

    def _reply(self, draft: Draft, conversation: Conversation, toolbox: ToolBox) -> None:
        try:
            draft.go_ahead.wait()
            if draft.stop.is_set():
                return
            messages = conversation.messages_for("")
            draft.messages = messages
            question = resample(draft.pcm.samples, draft.pcm.rate, RATE)
            draft.marks["asked"] = time.monotonic()
            events = turn_events(draft, toolbox)
            self._count(events, seconds_in=len(question) / RATE)
            converse(
                self.voice,
                messages[0]["content"],
                toolbox.schemas(),
                messages[1:-1],
                question,
                events,
            )
        except RealtimeError as error:
            draft.failures["llm"] = error
            self.went_down(error)
        finally:
            if not draft.transcribed.is_set():
                draft.finish_transcription()
            draft.audio.put(END)

    def _count(self, events: TurnEvents, seconds_in: float, turns: int = 1) -> None:
        """Count the turn in today's usage (a new day starts from nothing); the reply's audio as it comes."""
        if self.usage.day != _today():
            self.usage = CloudUsage(_today())
        usage = self.usage
        usage.turns += turns
        usage.audio_in_s += seconds_in
        events.usage = usage.tokens  # the provider's counts (response.done) add up into today's
        on_audio = events.on_audio

        def counted(samples: np.ndarray) -> None:
            usage.audio_out_s += len(samples) / RATE
            on_audio(samples)

        events.on_audio = counted


def turn_events(draft: Draft, toolbox: ToolBox) -> TurnEvents:
    """What the Realtime link hands on, into `draft` as a local turn's workers fill it."""

    def heard(text: str) -> None:
        draft.heard = text.strip()
        draft.marks["transcribed"] = time.monotonic()
        draft.finish_transcription()

    def audio(samples: np.ndarray) -> None:
        if len(samples):
            draft.marks.setdefault("first_audio", time.monotonic())
            draft.audio.put((RATE, samples))

    def said(text: str) -> None:
        if text.strip():
            draft.spoken.append(text.strip())

    def run(call: Call) -> str:
        tool_call = ToolCall(call.call_id, call.name, call.arguments)
        draft.tool_calls.append(tool_call)
        try:
            outcome = toolbox.run(tool_call, searching_notes=True)
        except ToolError as error:
            LOG.warning("tool call refused: %s", error)
            return json.dumps({"error": str(error)})
        if outcome.song is not None:
            draft.songs.append(outcome.song)
        if outcome.follow_up is not None:
            draft.expects_reply = outcome.follow_up
        return outcome.content

    return TurnEvents(heard, audio, said, run, draft.stop.is_set)


def _today() -> str:
    return time.strftime("%Y-%m-%d")
