"""The whisper engine hears a short question through a window of its own length, and whisper's whole 30 s
window when that is long anyway or the short result is doubtful (real tiny.en, real piper speech)."""

from __future__ import annotations

import numpy as np
import pytest

from billy.audio.pcm import Pcm, read_wav
from billy.services.stt.engine import WhisperEngine
from billy.services.stt.short_window import MARGIN_S, loops

from text_match import contains_words


@pytest.fixture(scope="module")
def engine(models_dir) -> WhisperEngine:
    whisper = WhisperEngine(models_dir / "tiny.en", threads=2)
    whisper.load()
    return whisper


def test_whisper_loops_are_found():
    assert loops([5, 6, 7, 5, 6, 7])  # starting over
    assert loops([5, 6, 7, 8, 5, 6])  # cut off while starting over
    assert loops([1, 2, 3, 4, 5, 6, 7, 8, 7, 8, 7, 8, 7])  # "What is the capital of? France? France? France?"
    assert loops([4, 9, 9, 9])  # one token three times
    assert loops([1, 2, 3, 4, 5, 2, 3, 4, 5])  # four tokens twice
    assert not loops([5, 6, 7, 8])
    assert not loops([5, 6, 7, 5])  # the first word once more is not a loop ("the cat saw the")
    assert not loops([3, 3, 4])  # a word said twice ("no no")
    assert not loops([1, 2, 3, 2, 3, 4])  # a short run twice ("that is, that is")
    assert not loops([])


@pytest.mark.parametrize("question", ["What is your name?", "Tell me something about the sea."])
def test_a_question_is_heard_through_a_window_of_its_own_length(engine, speak, question):
    pcm = read_wav(speak(question))
    transcript = engine.transcribe(pcm)
    assert contains_words(transcript.text, question), transcript.text
    assert transcript.window_s == pytest.approx(pcm.seconds + MARGIN_S, abs=0.02)
    assert transcript.segments[0]["text"] == transcript.text


def test_silence_and_noise_go_to_the_full_window(engine):
    rng = np.random.default_rng(7)
    for samples in (np.zeros(32000), rng.normal(0, 3000, 32000)):
        transcript = engine.transcribe(Pcm(samples.astype("<i2"), 16000))
        assert transcript.window_s == 30.0, transcript  # the short window doubted it; faster-whisper decided


def test_a_long_question_uses_the_full_window(engine, speak):
    question = read_wav(speak("What is your name?"))
    long = Pcm(np.concatenate([question.samples] * int(21 / question.seconds + 1)), question.rate)
    transcript = engine.transcribe(long)
    assert transcript.window_s == 30.0
    assert contains_words(transcript.text, "What is your name? What is your name?")
