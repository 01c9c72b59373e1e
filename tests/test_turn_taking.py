"""Turn taking: a pause mid-sentence is not the end of the turn, work started in the silence is dropped when
the user goes on, the engine is warmed with the very prompt prefix of the turns, the question is read into
the model while it is spoken, and a fallback never follows half an answer."""

from __future__ import annotations

import time

import numpy as np
import pytest
from waiting import wait_until

from billy.audio.file_device import FileMicrophone
from billy.audio.pcm import Pcm, read_wav, wav_bytes
from billy.conversation.stages import stage
from billy.hearing.end_of_turn import EndOfTurn, Verdict, dangling
from billy.hearing.listening import KEPT_PAUSE_MS, PREFILL_EVERY_FRAMES, Listener
from billy.media.playback import after_leading_silence
from billy.services.client import ServiceError
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient

from billy_harness import TEST_TIMEOUT
from standins import Reply
from text_match import contains_words, words

BEFORE, AFTER = "What is the capital of", "France?"
ANSWER = "Paris is the capital of France."


def _whole_question(heard: str) -> bool:
    """Both halves were heard: the second half's words all there, the first's all but a mis-heard one (whisper
    tiny hears the rendition's "capital of" as "capital look" when the pause before "France" is not the one the
    `halves` fixture checked)."""
    return contains_words(heard, f"{BEFORE} {AFTER}") and set(words(AFTER)) <= set(words(heard))


def _paused(first: Pcm, second: Pcm, pause_s: float) -> bytes:
    gap = np.zeros(int(pause_s * 16000), np.int16)
    return wav_bytes(np.concatenate([first.samples, gap, second.samples]), 16000)


@pytest.fixture(scope="module")
def halves(tts_service, stt_service) -> tuple[Pcm, Pcm]:
    """BEFORE and AFTER in Billy's voice (the same rendering every run), each said in one breath, that whisper hears
    right alone and with a pause: the tests count the pauses between the halves, not whisper's mishearings."""
    tts = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT)
    stt = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT)
    first, second = (read_wav(tts.speak_wav(text)).resampled(16000) for text in (BEFORE, AFTER))
    alone = stt.transcribe(wav_bytes(first.samples, 16000))
    paused = stt.transcribe(_paused(first, second, pause_s=KEPT_PAUSE_MS / 1000))  # as the listener keeps it
    assert words(alone) == words(BEFORE) and words(paused) == words(f"{BEFORE} {AFTER}"), (alone, paused)
    assert _pauses_within(first) == 0 and _pauses_within(second) == 0
    return first, second


def _pauses_within(half: Pcm) -> int:
    """How many pauses the listener finds inside `half` (piper sometimes leaves one after "What")."""
    microphone = FileMicrophone()
    microphone.queue(wav_bytes(half.samples, 16000))
    utterance = Listener(microphone, EndOfTurn(None, silence_ms=500)).listen(timeout_s=10)
    return utterance.resumed if utterance is not None else 0


def test_a_question_with_a_pause_mid_sentence_is_not_cut(tank_factory, llm, halves, models_dir):
    llm.then(Reply(ANSWER))
    tank = tank_factory({"BILLY_MODELS_DIR": str(models_dir), "END_OF_TURN": "smart"})
    turn = tank.ask(_paused(*halves, pause_s=1.0))
    assert turn.utterance.resumed >= 1, "the pause was never taken for a possible end of turn"
    assert _whole_question(turn.result.heard), turn.result.heard
    assert len(tank.turns) == 1 and turn.result.said == ANSWER
    assert _whole_question(llm.requests[-1]["body"]["messages"][-1]["content"])


def test_a_long_pause_is_shortened_in_what_is_transcribed(halves):
    first, second = halves
    microphone = FileMicrophone()
    microphone.queue(_paused(first, second, pause_s=4.0))
    utterance = Listener(microphone, EndOfTurn(None, silence_ms=6000)).listen(timeout_s=10)
    assert utterance is not None and utterance.resumed == 1, "the second half was not part of the turn"
    spoken_s = (len(first.samples) + len(second.samples)) / 16000
    utterance_s = len(utterance.pcm.samples) / utterance.pcm.rate
    # What is kept: both halves and at most KEPT_PAUSE_MS of the 4 s pause (no more than half a second of
    # the lead-in frames and the halves' own trailing quiet besides).
    assert utterance_s < spoken_s + KEPT_PAUSE_MS / 1000 + 0.5, (utterance_s, spoken_s)
    assert utterance_s > spoken_s - 0.5, "speech was cut, not the pause"


def test_work_started_in_the_silence_is_dropped_when_the_user_goes_on(tank_factory, llm, halves):
    # No judge and a long silence: the reply to the first half starts while Billy still listens. The silence
    # must outlast the transcription of the first half, which took up to 5 s beside stress-ng: the longest.
    llm.then(
        Reply("A slow answer to half a question that goes on and on.", word_delay=0.3), Reply(ANSWER, when="France")
    )
    tank = tank_factory({"END_OF_TURN": "silence", "END_OF_SPEECH_MS": "10000"})
    mark = tank.speaker.mark()
    tank.microphone.queue(halves[0])
    tank.press_button()
    wait_until(lambda: llm.requests, "the model started on the first half during the silence")
    drafting_seen_at = time.monotonic()
    assert words(llm.requests[0]["body"]["messages"][-1]["content"]) == words(BEFORE)
    assert tank.billy.state == "listening", "a draft changed Billy's state"
    tank.microphone.queue(halves[1])  # the user goes on
    turn = tank.wait_turn(0)
    wait_until(lambda: llm.requests[0] in llm.hung_up, "the first draft's stream was closed")
    assert turn.utterance.resumed == 1
    assert _whole_question(turn.result.heard), turn.result.heard
    assert _whole_question(llm.requests[1]["body"]["messages"][-1]["content"])
    assert turn.result.said == ANSWER
    # The dropped draft was never heard: nothing played from the time it was seen drafting to the hand-over.
    handed_over = turn.utterance.handed_over_at
    assert not [b for b in tank.speaker.played_since(mark) if b.loud and drafting_seen_at <= b.started < handed_over]


def test_the_engine_is_warmed_with_the_turns_own_prompt_prefix(tank_factory, llm, speak):
    llm.then(Reply(ANSWER))
    tank = tank_factory()
    turn = tank.ask(speak("Where do you live?"))
    assert turn.result.said == ANSWER
    warm, asked = llm.warm_ups[0], llm.requests[0]["body"]
    assert warm["messages"][0] == asked["messages"][0], "the system prompt changed between warm-up and turn"
    assert warm["tools"] == asked["tools"] and warm["max_tokens"] == 1


LONG_QUESTION = "Tell me something about the sea and the fish that live in it."


def test_the_listener_hands_the_speech_so_far_to_prefill_only_while_it_is_spoken(speak):
    microphone = FileMicrophone()
    microphone.queue(speak(LONG_QUESTION))
    handed: list[int] = []  # samples of speech each call saw
    utterance = Listener(microphone, EndOfTurn(None, silence_ms=500)).listen(
        timeout_s=10, prefill=lambda speech: handed.append(len(speech.samples))
    )
    assert utterance is not None
    whole = len(utterance.pcm.samples)
    # A call every PREFILL_EVERY_FRAMES frames of speech, each with more of it, all before the speech ended.
    assert len(handed) >= 2, handed
    assert handed == sorted(set(handed)) and handed[-1] < whole, (handed, whole)
    assert handed[1] - handed[0] >= PREFILL_EVERY_FRAMES * 512


def test_the_model_reads_the_question_while_it_is_spoken(tank_factory, llm, speak):
    llm.then(Reply(ANSWER))
    tank = tank_factory()
    turn = tank.ask(speak(LONG_QUESTION))
    assert turn.result.said == ANSWER
    asked = llm.requests[0]["body"]
    read_in = llm.warm_ups[1:]  # the first is the warm-up at start
    assert read_in, "nothing of the question was read into the model while it was spoken"
    heard = words(asked["messages"][-1]["content"])
    for request in read_in:
        # The very prefix of the turn's request: the same persona, history and tools, then the words so far.
        assert request["messages"][:-1] == asked["messages"][:-1] and request["tools"] == asked["tools"]
        assert request["max_tokens"] == 1
    partials = [words(request["messages"][-1]["content"]) for request in read_in]
    assert any(0 < len(partial) < len(heard) and partial[:2] == heard[:2] for partial in partials), (partials, heard)


def test_a_fragment_under_another_system_prompt_is_not_read_in(tank_factory, llm, speak):
    # The owner's notes are searched for each question and join the system prompt: "Tell me something about the"
    # finds none, "... the North" finds the note. A prefill under that prompt would have the engine read the
    # persona and the tools again, so only the fragments under the prompt it holds are sent.
    llm.then(Reply(ANSWER))
    tank = tank_factory()
    tank.billy.pipeline.toolbox.knowledge.add(
        "sea.md", b"The North Sea near the lighthouse is cold and grey in winter."
    )
    turn = tank.ask(speak("Tell me something about the North Sea and the fish that live in it."))
    asked = llm.requests[0]["body"]
    assert "lighthouse" in asked["messages"][0]["content"], "the note was not found for the whole question"
    held = llm.warm_ups[0]["messages"][0]  # the warm-up's: no note
    read_in = llm.warm_ups[1:]
    assert read_in, "no fragment before 'North' was read in"
    assert all(request["messages"][0] == held for request in read_in), [r["messages"][-1] for r in read_in]
    assert turn.result.said == ANSWER


def test_the_first_piece_is_spoken_before_the_model_is_done_and_the_wait_after_it_is_counted(tank_factory, llm, speak):
    # A slow model: "Paris" is whole once " is" comes, and the rest takes four more words at 0.8 s each.
    llm.then(Reply("Paris is the capital of France.", word_delay=0.8))
    tank = tank_factory()
    turn = tank.ask(speak("What is the capital of France?"))
    assert turn.result.said == "Paris is the capital of France."
    assert turn.result.first_sound_at < llm.finished_at[0], "Billy waited for the whole reply"
    # "Paris" is about half a second of speech: the speaker then waits for "is the capital of France."
    assert turn.result.waited_for_words_s > 1.0, turn.result.waited_for_words_s


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        ("What is the capital of", True),
        ("What is the capital of?", True),
        ("I think, um", True),
        ("Tell me about the sea,", True),
        ("If it rains tomorrow.", True),
        ("If it rains tomorrow, will you sing?", False),
        ("When do you sleep?", False),
        ("What is the capital of France?", False),
        ("Tell me a story.", False),
        ("I was wondering.", True),
        ("I was wondering what fish eat.", False),
        ("", False),
    ],
)
def test_a_transcript_that_stops_mid_sentence_vetoes_the_end_of_turn(transcript, expected):
    assert dangling(transcript) is expected


@pytest.mark.parametrize(
    ("probability", "transcript", "silence_ms", "may_start"),
    [
        (0.9, "Tell me a joke.", 200, True),  # the model is sure it is over
        (0.29, "Tell me something about the sea.", 600, True),  # unsure: the fixed silence
        (0.05, "I was wondering.", 2000, False),  # only an opener: the speaker keeps the floor
        (0.46, "I was wondering.", 2000, False),  # the words overrule an unsure model
        (0.03, "Tell me something about the sea.", 1200, True),  # disputed: a whole sentence, an unfinished voice
        (0.03, "so what I wanted", 2000, False),  # no sentence closed, and it sounds unfinished
        (0.97, "What is the capital of", 2000, False),  # the words overrule a confident model
        (0.02, "What do you like to eat?", 200, True),  # a whole question overrules an unsure one
        (0.9, None, 2000, False),  # the transcript is still coming: never cut before knowing
    ],
)
def test_the_silence_needed_follows_how_sure_the_judge_is(probability, transcript, silence_ms, may_start):
    verdict = Verdict()
    verdict.set_result(probability)
    end_of_turn = EndOfTurn(None, silence_ms=600, complete_ms=200, incomplete_ms=2000)
    assert end_of_turn.silence_needed_ms(verdict, transcript, words_coming=True) == silence_ms
    assert end_of_turn.may_start_reply(verdict, transcript, words_coming=True) is may_start


def test_the_replys_first_sound_starts_without_the_voices_lead_in():
    rate = 16000  # 5 ms windows of 80 samples: the tone starts on one
    tone = (np.sin(np.arange(rate // 2) * 0.1) * 8000).astype(np.int16)
    hiss = np.random.default_rng(0).integers(-20, 20, rate * 40 // 1000).astype(np.int16)  # 40 ms, inaudible
    trimmed = after_leading_silence(np.concatenate([hiss, tone]), rate)
    assert len(trimmed) == len(tone) + rate // 100  # the tone whole, and 10 ms before it
    assert not len(after_leading_silence(hiss, rate))


@pytest.mark.parametrize(
    ("transcript", "speech_s", "silence_ms"),
    [
        ("What?", 0.8, 200),  # one word in a short stretch of speech: the words settle it
        ("What?", 1.8, 2000),  # one word for "What is the capital of": words are missing, the model decides
        ("What is the capital of France?", 1.8, 200),
    ],
)
def test_a_question_mark_settles_the_turn_only_when_the_words_cover_the_speech(transcript, speech_s, silence_ms):
    verdict = Verdict(speech_s)
    verdict.set_result(0.05)  # the model hears it unfinished
    end_of_turn = EndOfTurn(None, silence_ms=600, complete_ms=200, incomplete_ms=2000)
    assert end_of_turn.silence_needed_ms(verdict, transcript, words_coming=True) == silence_ms


def test_a_broken_judge_leaves_the_fixed_silence():
    verdict = Verdict()
    verdict.set_exception(RuntimeError("onnxruntime fell over"))
    end_of_turn = EndOfTurn(None, silence_ms=600, complete_ms=200, incomplete_ms=2000)
    assert end_of_turn.silence_needed_ms(verdict, "Tell me a joke.", words_coming=True) == 600
    assert end_of_turn.silence_needed_ms(None, None, words_coming=False) == 600


class _Client:
    """A stage client that yields `items`, then fails if `fail` (a service dying mid-answer)."""

    def __init__(self, items: list[str], fail: bool) -> None:
        self.items, self.fail, self.calls = items, fail, 0

    def produce(self):
        self.calls += 1
        yield from self.items
        if self.fail:
            raise ServiceError("llm", "connection lost")


def test_the_fallback_answers_only_while_the_primary_has_said_nothing():
    primary, fallback = _Client([], fail=True), _Client(["from the fallback"], fail=False)
    assert list(stage("llm", primary, fallback).stream(lambda c: c.produce())) == ["from the fallback"]
    primary, fallback = _Client(["half an"], fail=True), _Client(["a second answer"], fail=False)
    heard = []
    with pytest.raises(ServiceError):
        for item in stage("llm", primary, fallback).stream(lambda c: c.produce()):
            heard.append(item)
    assert heard == ["half an"] and fallback.calls == 0


def test_a_stage_with_nothing_configured_says_so():
    with pytest.raises(ServiceError, match="no TTS configured"):
        stage("tts", None).ask(lambda client: client.speak_wav("hi"))
