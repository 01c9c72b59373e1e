"""One turn of conversation, with the stages overlapped so Billy's first sound does not wait for his last word.

A turn is a draft (see `draft.py`) played: workers transcribe the speech, cut the model's text deltas into
sentences as they arrive (thinker) and send each sentence to TTS at once (voice), while the caller's thread
plays the audio as it comes. The draft may have been started during the end-of-turn silence, so the reply is
already on its way when the listener hands the turn over.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from billy.audio.pcm import Pcm
from billy.body.fish import Fish
from billy.conversation.answer import Answer
from billy.conversation.draft import END, Draft
from billy.conversation.heard_you import HeardYou
from billy.conversation.history import Conversation
from billy.conversation.realtime_turn import RealtimeBrain
from billy.conversation.sentences import SpokenSentences, ends_sentence, split_sentences
from billy.conversation.stages import Stage
from billy.conversation.tools import ToolBox, ToolError
from billy.intents.matcher import LANGUAGES
from billy.intents.phrasebook import Phrasebook
from billy.media.playback import Player, after_leading_silence
from billy.media.songs import Song
from billy.media.sounds import SoundBank
from billy.services.client import ServiceError
from billy.services.llm.client import CutOff, Overtime, TextDelta, ToolCall
from billy.services.stt.client import Heard

LOG = logging.getLogger(__name__)
# Whisper's usual inventions on silence or noise: treated as "nothing heard".
NOT_SPEECH = {"", "you", "thank you.", "thanks for watching!", "[blank_audio]", "(silence)", "."}
WARM_UP_TEXT = "Hello."


@dataclass
class TurnResult:
    heard: str = ""
    language: str = ""  # the language heard (detected when STT_LANGUAGE=auto), "" if unknown
    said: str = ""
    failed_stage: str = ""  # the stage that failed: stt, llm, tts, tool; "" when the turn went well
    answered_by: str = ""  # a step before the LLM that answered the turn itself ("billy", "home assistant")
    expects_reply: bool | None = None  # the model said (conversation_state) whether it asked the user something
    interrupted: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)
    first_sound_at: float | None = None
    first_motion_at: float | None = None  # the "I heard you" flap: as the model starts, at the hand-over at last
    marks: dict[str, float] = field(default_factory=dict)  # time.monotonic() of each stage's milestone
    last_sound_at: float | None = None
    # Seconds the speaker stood silent after the first sound, waiting for the next piece of the reply (not the
    # voice's own pauses): what a shorter first piece may cost, if the model falls behind the voice.
    waited_for_words_s: float = 0.0


class TurnStep(Protocol):
    """A step between hearing and the LLM, given (heard, language): an Answer answers the turn; None passes it
    on. A step may also have `claims(heard, language)`, pure and quick: a draft asks it, and the model does not
    start on what the step will answer; and `foresee(heard, language)`: the Answer when giving it changes
    nothing in the world, so a draft may voice it before the turn is handed over."""

    answers_turns: bool  # False: it only shapes the reply (a voice), so it may run on a draft's guess

    def __call__(self, heard: str, language: str) -> Answer | None: ...


def is_speech(heard: str) -> bool:
    return heard.strip().lower() not in NOT_SPEECH


def in_words(messages: list[dict]) -> list[dict]:
    """The same request, its question asking for words. Only the last message changes: the persona, the tools
    and the history before it stay the prompt prefix the engine has cached (a request without the tools would
    be another prefix: evaluated anew, and the next turn's too: 30 s for Qwen 1.5B on two cores)."""
    *before, question = messages
    return [*before, {**question, "content": f"{question['content']}\n(Answer in words, without a tool.)"}]


def asks(said: str) -> bool:
    """Does what Billy said end with a question (its last sentence)?"""
    return said.rstrip(" \"')»”").endswith(("?", "？"))


class Pipeline:
    """A turn's stages (hear, think, voice, play) with their fallbacks, drafting and playing.

    Long because the stages share one draft and its queues: the transcriber, the thinker and the voice are
    workers on the same draft, and a literal say, an answer in character and a whole turn are the same flow
    entered at different points; split into classes, they would hand the draft and the stages back and forth.
    """

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
        self._heard_you = HeardYou(fish)  # a turn's own, started at its hand-over; none under way before
        self._heard_you.over()
        self.sounds = sounds
        self.conversation = conversation
        self.toolbox = toolbox
        self.on_state = on_state
        self.on_song: Callable[[str], None] = lambda name: None  # the song's folder name, as it starts
        self.language = language
        # Steps tried before the LLM, in order: the first that returns words answers the turn (spoken at once,
        # no LLM request). See billy.conversation.steps.
        self.before_llm: list[TurnStep] = []
        # A small model's reply ends after this many sentences (billy.services.llm.profile); 0: never.
        self.max_sentences = 0
        # BRAIN=realtime: the cloud's Realtime voice answers while it is up (conversation/realtime_turn.py).
        self.realtime: RealtimeBrain | None = None
        # USE_LOCAL_MODELS: the question is read into the local model while it is spoken (`prefill`); a cloud
        # model is never asked for that, as every request costs money.
        self.prefills = False
        self._prefilling = threading.Lock()
        # The system prompt of the last request to the model, whose cache holds it: a prefill under another one
        # (the owner's notes found for a fragment, a fragment's language) would have the engine read the
        # persona and the tools again (30 s for Qwen 1.5B on two cores), so it is not sent.
        self._engine_prompt: str | None = None
        self._utterance: Pcm | None = None  # the turn's question, for the Realtime voice to answer if a stage fails

    # -- the stages, each with its fallback ------------------------------------------------------------

    def transcribe(self, pcm: Pcm) -> str:
        return self.hear(pcm).text

    def hear(self, pcm: Pcm) -> Heard:
        wav = pcm.to_wav()
        return self.stt.ask(lambda client: client.hear(wav, self.language))

    def think(self, messages: list[dict]) -> Iterator[TextDelta | ToolCall]:
        tools = self.toolbox.schemas()
        return self.llm.stream(lambda client: client.stream(messages, tools))

    def synthesise(self, sentence: str) -> Iterator[tuple[int, np.ndarray]]:
        return self.tts.stream(lambda client: _samples(client, sentence))

    def warm_up(self) -> None:
        """Load the model and voice and cache the system prompt's prefix, so the first turn is not a cold one."""
        try:
            messages = self.conversation.messages_for(WARM_UP_TEXT)
            self._engine_prompt = messages[0]["content"]
            self.llm.primary.warm_up(messages, self.toolbox.schemas())
            with self.tts.primary.stream(WARM_UP_TEXT) as (_, chunks):
                for _ in chunks:
                    pass
        except ServiceError as error:
            LOG.warning("warming up: %s", error)

    def prefill(self, speech: Pcm) -> None:
        """While the user is still speaking: transcribe what is there and have the local model read it, so at the
        end of the turn only the last words are new to it. llama.cpp and Ollama keep the longest prefix a request
        shares with the one before, and a small request's prompt costs about 40 ms a token on two cores with
        Qwen 1.5B ("What is the capital of" read before "France?": the first token 0.28 s after the request
        instead of 0.52 s). The listener calls this during speech, when the CPU has little else to do; one at a
        time, and none while one is under way; only the words are read in (up to their end, where the engine
        allows: `ChatClient.read_ahead`), never a system prompt other than the one the engine holds. Nothing is
        heard or remembered, and a failure only costs the gain.
        """
        if not self.prefills or not self._prefilling.acquire(blocking=False):
            return
        threading.Thread(target=self._prefill, args=(speech,), daemon=True).start()

    def _prefill(self, speech: Pcm) -> None:
        try:
            heard = self.stt.primary.hear(speech.to_wav(), self.language)
            # Whisper closes a fragment ("What is the capital?"): without the mark it is the question's prefix.
            words = heard.text.strip().rstrip(".?!\u2026")
            messages = self.conversation.messages_for(words, heard.language)
            if is_speech(words) and messages[0]["content"] == self._engine_prompt:
                self.llm.primary.read_ahead(messages, self.toolbox.schemas())
        except ServiceError as error:
            LOG.debug("reading the question in while it is spoken: %s", error)
        finally:
            self._prefilling.release()

    # -- drafting: the work that makes no sound ---------------------------------------------------------

    def draft(self, utterance: Pcm) -> Draft:
        """Start on the reply to `utterance` (transcribe, think, voice) without a sound or a state. The one move
        it may make is the "I heard you" flap, once the turn sounds complete and the model starts on it (before
        the hand-over); the user going on stops it with the draft."""
        draft = Draft(utterance)
        draft.heard_you = HeardYou(self.fish)
        draft.marks["drafted"] = time.monotonic()
        if self.realtime is not None and self.realtime.takes_turn():
            self.realtime.start(draft, self.conversation, self.toolbox)
            return draft
        # With a step before the LLM that may answer (Home Assistant's intents) the model waits for that step's
        # verdict: a home command must not cost an LLM request, nor compete with Home Assistant for the CPU.
        # Steps that only shape the reply (the voice of the language heard) do not hold the model back.
        draft.think_early = not any(step.answers_turns and not hasattr(step, "claims") for step in self.before_llm)
        draft.start(self._transcribe_and_reply, draft)
        return draft

    def stream_turn(self) -> Draft | None:
        """BRAIN=realtime, as the user starts speaking: a Realtime draft the listener streams the question into,
        or None when the local pipeline answers this turn (its drafts start at the pauses)."""
        if self.realtime is None or not self.realtime.takes_turn():
            return None
        draft = Draft()
        draft.heard_you = HeardYou(self.fish)
        draft.marks["drafted"] = time.monotonic()
        self.realtime.stream(draft, self.conversation, self.toolbox)
        return draft

    def _draft_reply(self, heard: str) -> Draft:
        draft = Draft(heard=heard)
        draft.start(self._think_and_voice, draft)
        return draft

    def _transcribe_and_reply(self, draft: Draft) -> None:
        try:
            heard = self.hear(draft.pcm)
            draft.heard, draft.language = heard.text, heard.language
            draft.marks["transcribed"] = time.monotonic()
            for step in self.before_llm:
                if not step.answers_turns:  # before the first sentence is voiced, and before the turn reads it
                    step(draft.heard, draft.language)
            if is_speech(draft.heard):  # before the turn reads the transcript, so it finds the answer too
                draft.answer = self._foreseen(draft)
        except ServiceError as error:
            draft.failures["stt"] = error
        finally:
            draft.finish_transcription()
        if "stt" in draft.failures or not is_speech(draft.heard):
            draft.audio.put(END)
            return
        if draft.answer is not None:  # voiced now, played at the hand-over as the model's reply would be
            self._voice(_sentences_of(draft.answer.words), draft)
            return
        if self._claimed(draft):
            draft.audio.put(END)  # no model: a step will answer it once the turn is handed over
            return
        draft.go_ahead.wait()  # the model starts once the turn sounds complete, not on every pause
        if draft.stop.is_set():
            draft.audio.put(END)
            return
        draft.heard_you.start(draft.stop)  # the body says "I heard you" as the brain starts
        self._think_and_voice(draft)

    def _foreseen(self, draft: Draft) -> Answer | None:
        """The answer of the first step that answers turns, if it can be known without acting on the world."""
        for step in (step for step in self.before_llm if step.answers_turns):
            answer = step.foresee(draft.heard, draft.language) if hasattr(step, "foresee") else None
            if answer is not None or not hasattr(step, "claims") or step.claims(draft.heard, draft.language):
                return answer
        return None

    def _claimed(self, draft: Draft) -> bool:
        return any(step.claims(draft.heard, draft.language) for step in self.before_llm if hasattr(step, "claims"))

    def _think_and_voice(self, draft: Draft) -> None:
        draft.messages = self.conversation.messages_for(draft.heard, draft.language)
        self._engine_prompt = draft.messages[0]["content"]
        draft.marks["asked"] = time.monotonic()
        sentences: queue.Queue = queue.Queue()
        draft.start(self._voice, sentences, draft)
        reply = _WholeSentences(sentences, self.max_sentences)
        try:
            # A small model sometimes answers with a call of a tool nobody offered ("calculate"), which is
            # dropped (services/llm/text_calls.py): then it is asked once more to answer in words.
            for messages in (draft.messages, in_words(draft.messages)):
                for event in self.think(messages):
                    if draft.stop.is_set() or reply.over:
                        break  # closing the stream stops generation on the server
                    if isinstance(event, TextDelta):
                        draft.marks.setdefault("first_token", time.monotonic())
                        if reply.add(event.text):
                            draft.marks.setdefault("first_sentence", time.monotonic())
                    elif isinstance(event, Overtime):
                        reply.overtime = True
                    elif isinstance(event, CutOff):
                        reply.cut_off = True
                    else:
                        draft.tool_calls.append(event)
                if "first_token" in draft.marks or draft.tool_calls or draft.stop.is_set():
                    break
                LOG.info("the model answered neither in words nor with a call it was offered: asking again")
            if not draft.stop.is_set():
                reply.finish()
        except ServiceError as error:
            draft.failures["llm"] = error
        finally:
            sentences.put(END)

    def _voice(self, sentences: queue.Queue, draft: Draft) -> None:
        try:
            while (sentence := sentences.get()) is not END:
                if draft.stop.is_set() or "tts" in draft.failures:
                    continue  # drain, so the thinker never blocks
                if self.text_only:
                    LOG.info("Billy says: %s", sentence)
                    draft.spoken.append(sentence)
                    continue
                try:
                    for rate, samples in self.synthesise(sentence):
                        if draft.stop.is_set():
                            break
                        if "first_audio" not in draft.marks:
                            samples = after_leading_silence(samples, rate)  # the reply's first sound, sooner
                            if not len(samples):
                                continue
                        draft.marks.setdefault("first_audio", time.monotonic())
                        draft.audio.put((rate, samples))
                    draft.spoken.append(sentence)
                except ServiceError as error:
                    draft.failures["tts"] = error
        finally:
            draft.audio.put(END)

    # -- turns: a draft played ----------------------------------------------------------------------------

    def turn(self, utterance: Pcm, interrupt: threading.Event, draft: Draft | None = None) -> TurnResult:
        """Answer `utterance` out loud, playing `draft` if one was started on exactly this speech."""
        if draft is None or draft.cancelled or draft.pcm is not utterance:
            if draft is not None:
                draft.cancel()
            draft = self.draft(utterance)
        draft.stop.include(interrupt)
        self._utterance = utterance
        result = TurnResult()
        self.player.reset_marks()
        self.on_state("thinking")
        # The body answers at once, whatever the brain takes: a second of thinking never looks dead. The draft's
        # flap may have begun already, when the turn sounded complete.
        self._heard_you = draft.heard_you or HeardYou(self.fish)
        self._heard_you.start(interrupt)
        try:
            return self._answer(utterance, draft, result, interrupt)
        finally:
            self._heard_you.over()
            result.first_motion_at = self._heard_you.first_motion_at

    def _answer(self, utterance: Pcm, draft: Draft, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        if draft.realtime:
            return self._play_realtime(draft, result, interrupt)
        if self.realtime is not None:
            self.realtime.answered_locally()
        draft.transcribed.wait()
        result.heard, result.language, result.marks = draft.heard, draft.language, draft.marks
        if "stt" in draft.failures:
            draft.cancel()
            return self._fail(result, "stt", interrupt)
        LOG.info("heard (%s): %r", result.language or "?", result.heard)
        if not is_speech(result.heard):
            draft.cancel()
            self._play_clip(self.sounds.get("not-heard"), interrupt)
            return self._finish(result)
        if self.realtime is not None and self.realtime.cap_notice_due():
            language = result.language or self.language or ""
            book = Phrasebook(language if language in LANGUAGES else "en")
            self.speak(book.say("cloud_cap_reached", self.conversation.persona), interrupt, result)
        if draft.answer is not None:  # a step's answer that changes nothing, voiced on the draft
            return self._play_answer(draft, result, interrupt)
        # Steps that may answer (Home Assistant's intents) act on the world, so they run only now that the turn
        # is handed over, never on a draft's guess; the draft's speculative thinking is dropped if one answers.
        for step in (step for step in self.before_llm if step.answers_turns):
            answer = step(result.heard, result.language)
            if answer is not None:
                draft.cancel()
                result.answered_by = answer.by
                if self.speak(answer.words, interrupt, result) and answer.song is not None:
                    self._sing(answer.song, interrupt)
                return self._answered(result)
        draft.go_ahead.set()
        return self._play_reply(draft, result, interrupt)

    def _play_answer(self, draft: Draft, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        result.answered_by = draft.answer.by
        self._play_draft(draft, result, interrupt)
        result.said = " ".join(draft.spoken)
        if "tts" in draft.failures:
            return self._fail(result, "tts", interrupt)
        return self._answered(result)

    def _play_realtime(self, draft: Draft, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        """The cloud's reply played as it streams; its functions ran as it went, their songs sung after."""
        draft.go_ahead.set()
        self._play_draft(draft, result, interrupt)
        result.heard, result.said, result.marks = draft.heard, " ".join(draft.spoken), draft.marks
        result.tool_calls, result.expects_reply = draft.tool_calls, draft.expects_reply
        result.answered_by = "realtime"
        if result.interrupted:
            return self._finish(result)
        if "llm" in draft.failures:
            LOG.warning("the Realtime turn failed after %r: %s", result.said, draft.failures["llm"])
            return self._fail(result, "llm", interrupt)
        self.conversation.remember(
            [{"role": "user", "content": result.heard}, {"role": "assistant", "content": result.said}]
        )
        for song in draft.songs:
            self._sing(song, interrupt)
        return self._finish(result)

    def _answered(self, result: TurnResult) -> TurnResult:
        """A turn a step answered: the model hears of it in the history, as if it had answered itself."""
        self.conversation.remember(
            [{"role": "user", "content": result.heard}, {"role": "assistant", "content": result.said}]
        )
        return self._finish(result)

    def reply(self, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        """Think and speak about `result.heard`, streaming: MQTT `say` in character."""
        self.on_state("thinking")
        draft = self._draft_reply(result.heard)
        draft.stop.include(interrupt)
        result.marks = draft.marks
        return self._play_reply(draft, result, interrupt)

    def _play_reply(self, draft: Draft, result: TurnResult, interrupt: threading.Event) -> TurnResult:
        self._play_draft(draft, result, interrupt)
        result.said = " ".join(draft.spoken)
        result.tool_calls = draft.tool_calls
        if result.interrupted:
            return self._finish(result)
        failures = draft.failures
        if not result.said and not result.tool_calls and not failures:
            failures["llm"] = ServiceError("llm", "the model answered nothing")
        if "llm" in failures and not result.said:
            return self._fail(result, "llm", interrupt)
        if "llm" in failures:  # he said part of the reply: no error clip, but the turn did fail
            LOG.warning("the reply broke off after %r: %s", result.said, failures["llm"])
            result.failed_stage = "llm"
        if "tts" in failures:
            return self._fail(result, "tts", interrupt)
        assistant = {"role": "assistant", "content": result.said}
        if result.tool_calls:
            assistant["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in result.tool_calls
            ]
        tool_messages = self._run_tools(result, interrupt)
        self.conversation.remember([draft.messages[-1], assistant, *tool_messages])
        return self._finish(result)

    def _play_draft(self, draft: Draft, result: TurnResult, interrupt: threading.Event) -> None:
        """Play the draft's audio as it comes; return once its workers are done."""
        self._play_queue(draft.audio, interrupt, result)
        draft.join()

    def _play_queue(self, audio: queue.Queue, interrupt: threading.Event, result: TurnResult) -> None:
        speaking = False
        try:
            while True:
                asked_at = time.monotonic()
                if (item := audio.get()) is END:
                    break
                if speaking:
                    result.waited_for_words_s += time.monotonic() - asked_at
                if interrupt.is_set():
                    result.interrupted = True
                    continue
                if not speaking:
                    speaking = True
                    self._heard_you.over()
                    self.on_state("speaking")
                    self.fish.head_out()
                rate, samples = item
                if not self.player.play(samples, rate, interrupt):
                    result.interrupted = True
        finally:
            if interrupt.is_set():
                result.interrupted = True
            self.fish.stop_all() if result.interrupted else self.fish.head_back_after_speech()
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
                result.failed_stage = "tool"
                self.on_state("error")
                self._play_clip(self.sounds.get("error-tool"), interrupt)
                continue
            messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.content})
            if outcome.follow_up is not None:
                result.expects_reply = outcome.follow_up
            if outcome.speech:
                self.speak(outcome.speech, interrupt, result)
            if outcome.song is not None:
                self._sing(outcome.song, interrupt)
        return messages

    def _sing(self, song: Song, interrupt: threading.Event) -> None:
        if interrupt.is_set():
            return
        self._heard_you.over()
        self.on_state("playing_song")
        LOG.info("singing %s", song.title)
        self.on_song(song.name)
        self.player.play_song(song, interrupt)

    def speak(self, text: str, interrupt: threading.Event, result: TurnResult | None = None) -> bool:
        """Say `text` exactly (streaming TTS); the error clip if TTS is down. False if it failed."""
        result = result or TurnResult()
        draft = Draft(heard="")
        draft.stop.include(interrupt)
        draft.start(self._voice, _sentences_of(text), draft)
        self._play_draft(draft, result, interrupt)
        result.said = " ".join(filter(None, [result.said, *draft.spoken]))
        if "tts" in draft.failures:
            self._fail(result, "tts", interrupt)
            return False
        return True

    def _play_clip(self, clip: Pcm, interrupt: threading.Event) -> None:
        self._heard_you.over()
        self.fish.head_out()
        try:
            self.player.play(clip.samples, clip.rate, interrupt)
        finally:
            self.fish.head_back_after_speech()

    def _fail(self, result: TurnResult, stage: str, interrupt: threading.Event) -> TurnResult:
        if self._cloud_rescues(result, stage, interrupt):
            return result
        result.failed_stage = stage
        LOG.error("turn failed at %s; playing the error clip", stage)
        self.on_state("error")
        self._play_clip(self.sounds.error(stage), interrupt)
        return self._finish(result)

    def _cloud_rescues(self, result: TurnResult, stage: str, interrupt: threading.Event) -> bool:
        """BRAIN=hybrid: a local stage failed before Billy said anything, so the Realtime voice answers the same
        question instead of the error clip. True if it took the turn (whether or not it managed)."""
        brain, utterance = self.realtime, self._utterance
        if brain is None or brain.answers_first or not brain.may_answer() or utterance is None:
            return False
        if result.said or result.answered_by == "realtime" or stage == "tool" or interrupt.is_set():
            return False
        LOG.warning("the local %s stage failed: the Realtime voice answers this turn", stage)
        draft = Draft(utterance)
        draft.stop.include(interrupt)
        brain.start(draft, self.conversation, self.toolbox)
        self._play_realtime(draft, result, interrupt)
        return True

    def _finish(self, result: TurnResult) -> TurnResult:
        result.first_sound_at = result.first_sound_at or self.player.first_sound_at
        result.last_sound_at = self.player.last_sound_at or result.last_sound_at
        self.fish.stop_all()
        return result


def _sentences_of(text: str) -> queue.Queue:
    """`text`'s sentences, ended: what the voice worker reads."""
    sentences: queue.Queue = queue.Queue()
    for sentence in split_sentences(text):
        sentences.put(sentence)
    sentences.put(END)
    return sentences


class _WholeSentences:
    """The reply's text, cut into the pieces the voice speaks, ending with a whole sentence.

    A small model's reply ends after `max_sentences` sentences (0: no limit). Past its token budget (Overtime)
    the pieces are held until the sentence under way ends, which is then the last; if the server cut the reply
    off first (CutOff), what was held is dropped rather than spoken, so Billy never stops mid-word.
    """

    def __init__(self, pieces: queue.Queue, max_sentences: int) -> None:
        self.pieces = pieces
        self.max_sentences = max_sentences
        self.splitter = SpokenSentences()
        self.sentences = 0
        self.overtime = False
        self.cut_off = False
        self.held: list[str] = []
        self.over = False  # nothing more is wanted: the stream may be closed

    def add(self, text: str) -> bool:
        """Take a delta; True if a piece went to the voice."""
        sent = False
        for piece in self.splitter.add(text):
            if self.over:
                break
            if self.overtime:
                self.held.append(piece)
                if ends_sentence(piece):
                    sent = self._send(self.held) or sent
                    self.over = True
                continue
            sent = self._send([piece]) or sent
            self.sentences += ends_sentence(piece)
            self.over = 0 < self.max_sentences <= self.sentences
        return sent

    def finish(self) -> None:
        if self.over:
            return
        rest = [*self.held, *self.splitter.finish()]
        if self.cut_off:
            if rest:
                LOG.info("the reply was cut off at its token limit: not saying %r", " ".join(rest))
            return
        self._send(rest)

    def _send(self, pieces: list[str]) -> bool:
        for piece in pieces:
            self.pieces.put(piece)
        self.held = []
        return bool(pieces)


def _samples(client, sentence: str) -> Iterator[tuple[int, np.ndarray]]:
    """PCM16 samples as the TTS service streams them, re-aligned where chunk edges split a sample."""
    with client.stream(sentence) as (rate, chunks):
        leftover = b""
        for chunk in chunks:
            data = leftover + chunk
            cut = len(data) - len(data) % 2
            leftover = data[cut:]
            if cut:
                yield rate, np.frombuffer(data[:cut], dtype="<i2")
