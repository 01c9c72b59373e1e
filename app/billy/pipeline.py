"""One turn of conversation, with the stages overlapped so Billy's first sound does not wait for his last word.

Three workers pass work down queues: the model's text deltas are cut into sentences as they arrive (thinker),
each sentence is sent to TTS at once and its PCM streamed back (voice), and the main thread plays audio while
the next sentence is still being generated and synthesised. `turn_sequential` does the same work one whole
stage after another; the benchmark compares the two on the same models.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from .audio.pcm import Pcm, read_wav
from .body.fish import Fish
from .conversation import Conversation
from .llm.client import TextDelta, ToolCall
from .playback import Player
from .sentences import SpokenSentences, split_sentences
from .service_client import ServiceError
from .sounds import SoundBank
from .tools import ToolBox, ToolError

END = object()
LOG = logging.getLogger(__name__)
# Whisper's usual inventions on silence or noise: treated as "nothing heard".
NOT_SPEECH = {"", "you", "thank you.", "thanks for watching!", "[blank_audio]", "(silence)", "."}


@dataclass
class Stage:
    """A stage's clients in the order to try them: primary, then the fallback if configured."""

    name: str
    clients: list

    def each(self) -> Iterator:
        yield from self.clients


@dataclass
class TurnResult:
    heard: str = ""
    said: str = ""
    error: str = ""  # the stage that failed: stt, llm, tts, tool
    interrupted: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    first_sound_at: float | None = None
    marks: dict[str, float] = field(default_factory=dict)  # time.monotonic() of each stage's milestone
    last_sound_at: float | None = None


class Pipeline:
    def __init__(
        self,
        stt: Stage,
        llm: Stage,
        tts: Stage,
        player: Player,
        fish: Fish,
        sounds: SoundBank,
        conversation: Conversation,
        toolbox: ToolBox,
        on_state: Callable[[str], None] = lambda state: None,
        language: str | None = None,
        text_only: bool = False,
    ) -> None:
        self.text_only = text_only  # TEXT_ONLY_MODE: replies go to the log and MQTT, not to the speaker
        self.stt, self.llm, self.tts = stt, llm, tts
        self.player = player
        self.fish = fish
        self.sounds = sounds
        self.conversation = conversation
        self.toolbox = toolbox
        self.on_state = on_state
        self.on_song: Callable[[str], None] = lambda name: None  # the song's folder name, as it starts
        self.language = language

    # -- the stages, each with its fallback ------------------------------------------------------------

    def transcribe(self, pcm: Pcm) -> str:
        last: ServiceError | None = None
        for client in self.stt.each():
            try:
                return client.transcribe(pcm.to_wav(), self.language)
            except ServiceError as error:
                LOG.warning("%s", error)
                last = error
        raise last or ServiceError("stt", "no STT configured")

    def _think(self, messages: list[dict], interrupt: threading.Event) -> Iterator[TextDelta | ToolCall]:
        last: ServiceError | None = None
        for client in self.llm.each():
            started = False
            try:
                for event in client.stream(messages, self.toolbox.schemas()):
                    started = True
                    yield event
                    if interrupt.is_set():
                        return
                return
            except ServiceError as error:
                LOG.warning("%s", error)
                if started:  # half an answer already spoken: a fallback would repeat it
                    raise
                last = error
        raise last or ServiceError("llm", "no LLM configured")

    def _synthesise(self, sentence: str) -> Iterator[tuple[int, np.ndarray]]:
        last: ServiceError | None = None
        for client in self.tts.each():
            sent_any = False
            try:
                with client.stream(sentence) as (rate, chunks):
                    leftover = b""
                    for chunk in chunks:
                        data = leftover + chunk
                        cut = len(data) - len(data) % 2  # chunk edges may split a sample
                        leftover = data[cut:]
                        if cut:
                            sent_any = True
                            yield rate, np.frombuffer(data[:cut], dtype="<i2")
                return
            except ServiceError as error:
                LOG.warning("%s", error)
                if sent_any:
                    raise
                last = error
        raise last or ServiceError("tts", "no TTS configured")

    # -- one streaming turn ---------------------------------------------------------------------------

    def turn(self, utterance: Pcm, interrupt: threading.Event) -> TurnResult:
        result = TurnResult()
        self.player.reset_marks()
        self.on_state("thinking")
        try:
            result.heard = self.transcribe(utterance)
            result.marks["transcribed"] = time.monotonic()
        except ServiceError:
            return self._fail(result, "stt", interrupt)
        LOG.info("heard: %r", result.heard)
        if result.heard.strip().lower() in NOT_SPEECH:
            self._play_clip(self.sounds.get("not-heard"), interrupt)
            return self._finish(result)
        return self.reply(result, interrupt)

    def reply(self, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        """Think and speak about `result.heard`, streaming; also used for MQTT `say` in character."""
        self.on_state("thinking")
        messages = self.conversation.messages_for(result.heard)
        sentences: queue.Queue = queue.Queue()
        failures: dict[str, ServiceError] = {}
        thinker = threading.Thread(
            target=self._thinker, args=(messages, sentences, interrupt, result, failures), daemon=True
        )
        thinker.start()
        spoken = self._voice_and_play(sentences, interrupt, result, failures, interludes=True)
        thinker.join()
        result.said = " ".join(spoken)
        if result.interrupted:
            return self._finish(result)
        if not result.said and not result.tool_calls and not failures:
            failures["llm"] = ServiceError("llm", "the model answered nothing")
        if "llm" in failures and not result.said:
            return self._fail(result, "llm", interrupt)
        if "tts" in failures:
            return self._fail(result, "tts", interrupt)
        assistant = {"role": "assistant", "content": result.said}
        if result.tool_calls:
            assistant["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in result.tool_calls
            ]
        tool_messages = self._run_tools(result, interrupt)
        self.conversation.remember([messages[-1], assistant, *tool_messages])
        return self._finish(result)

    def _thinker(self, messages, sentences: queue.Queue, interrupt, result: TurnResult, failures) -> None:
        splitter = SpokenSentences()
        try:
            for event in self._think(messages, interrupt):
                if interrupt.is_set():
                    break
                if isinstance(event, TextDelta):
                    result.marks.setdefault("first_token", time.monotonic())
                    for sentence in splitter.add(event.text):
                        result.marks.setdefault("first_sentence", time.monotonic())
                        sentences.put(sentence)
                else:
                    result.tool_calls.append(event)
            if not interrupt.is_set():
                for sentence in splitter.finish():
                    sentences.put(sentence)
        except ServiceError as error:
            failures["llm"] = error
        finally:
            sentences.put(END)

    def _voice(self, sentences: queue.Queue, audio: queue.Queue, interrupt, spoken: list[str], failures) -> None:
        try:
            while (sentence := sentences.get()) is not END:
                if interrupt.is_set() or "tts" in failures:
                    continue  # drain, so the thinker never blocks
                if self.text_only:
                    LOG.info("Billy says: %s", sentence)
                    spoken.append(sentence)
                    continue
                try:
                    for rate, samples in self._synthesise(sentence):
                        if interrupt.is_set():
                            break
                        audio.put((rate, samples))
                    spoken.append(sentence)
                except ServiceError as error:
                    failures["tts"] = error
        finally:
            audio.put(END)

    def _voice_and_play(
        self, sentences: queue.Queue, interrupt, result: TurnResult, failures, interludes: bool = False
    ) -> list[str]:
        """Synthesise the queued sentences on a worker and play them here as they come; the sentences said."""
        audio: queue.Queue = queue.Queue()
        spoken: list[str] = []
        voice = threading.Thread(target=self._voice, args=(sentences, audio, interrupt, spoken, failures), daemon=True)
        voice.start()
        finished = threading.Event()
        if interludes:
            threading.Thread(target=self._tail_interludes, args=(finished, interrupt), daemon=True).start()
        try:
            self._play_queue(audio, interrupt, result)
        finally:
            finished.set()
        voice.join()
        return spoken

    def _tail_interludes(self, finished: threading.Event, interrupt: threading.Event) -> None:
        """While Billy thinks (nothing to play yet), a tail flap now and then shows he heard."""
        while not finished.wait(1.0):
            if self.player.first_sound_at is not None or interrupt.is_set():
                return
            self.fish.flap_tail(0.2)

    def _play_queue(self, audio: queue.Queue, interrupt: threading.Event, result: TurnResult) -> None:
        speaking = False
        try:
            while (item := audio.get()) is not END:
                if interrupt.is_set():
                    result.interrupted = True
                    continue
                if not speaking:
                    speaking = True
                    self.on_state("speaking")
                    self.fish.head_out()
                rate, samples = item
                if not self.player.play(samples, rate, interrupt):
                    result.interrupted = True
        finally:
            if interrupt.is_set():
                result.interrupted = True
            self.fish.stop_all() if result.interrupted else self.fish.head_back()
            result.first_sound_at = result.first_sound_at or self.player.first_sound_at
            result.last_sound_at = self.player.last_sound_at

    # -- tools, clips, endings --------------------------------------------------------------------------

    def _run_tools(self, result: TurnResult, interrupt: threading.Event) -> list[dict]:
        messages = []
        for call in result.tool_calls:
            try:
                outcome = self.toolbox.run(call)
            except ToolError as error:
                LOG.warning("tool call refused: %s", error)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"error": str(error)})})
                result.error = "tool"
                self.on_state("error")
                self._play_clip(self.sounds.get("error-tool"), interrupt)
                continue
            messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.content})
            if outcome.speech:
                self.speak(outcome.speech, interrupt, result)
            if outcome.song is not None and not interrupt.is_set():
                self.on_state("playing_song")
                LOG.info("singing %s", outcome.song.title)
                self.on_song(outcome.song.name)
                self.player.play_song(outcome.song, interrupt)
        return messages

    def speak(self, text: str, interrupt: threading.Event, result: TurnResult | None = None) -> bool:
        """Say `text` exactly (streaming TTS); the error clip if TTS is down. False if it failed."""
        result = result or TurnResult()
        sentences: queue.Queue = queue.Queue()
        failures: dict[str, ServiceError] = {}
        for sentence in split_sentences(text):
            sentences.put(sentence)
        sentences.put(END)
        spoken = self._voice_and_play(sentences, interrupt, result, failures)
        result.said = " ".join(filter(None, [result.said, *spoken]))
        if "tts" in failures:
            self._fail(result, "tts", interrupt)
            return False
        return True

    def _play_clip(self, clip: Pcm, interrupt: threading.Event) -> None:
        self.fish.head_out()
        try:
            self.player.play(clip.samples, clip.rate, interrupt)
        finally:
            self.fish.head_back()

    def _fail(self, result: TurnResult, stage: str, interrupt: threading.Event) -> TurnResult:
        result.error = stage
        LOG.error("turn failed at %s; playing the error clip", stage)
        self.on_state("error")
        self._play_clip(self.sounds.error(stage), interrupt)
        return self._finish(result)

    def _finish(self, result: TurnResult) -> TurnResult:
        result.first_sound_at = result.first_sound_at or self.player.first_sound_at
        result.last_sound_at = self.player.last_sound_at or result.last_sound_at
        self.fish.stop_all()
        return result

    # -- the sequential baseline (benchmark only) ------------------------------------------------------

    def turn_sequential(self, utterance: Pcm, interrupt: threading.Event) -> TurnResult:
        """Whole transcript, whole reply, whole synthesis, then play: the local-models fork's way."""
        result = TurnResult()
        self.player.reset_marks()
        result.heard = self.transcribe(utterance)
        messages = self.conversation.messages_for(result.heard)
        reply = "".join(e.text for e in self._think(messages, interrupt) if isinstance(e, TextDelta)).strip()
        result.said = reply
        if reply:
            wav = read_wav(next(self.tts.each()).speak_wav(reply))
            self.fish.head_out()
            self.player.play(wav.samples, wav.rate, interrupt)
        return self._finish(result)


def stage(name: str, primary, fallback=None) -> Stage:
    return Stage(name, [client for client in (primary, fallback) if client is not None])
