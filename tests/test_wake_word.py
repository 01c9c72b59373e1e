"""The wake word on the file-backed microphone, with the speaker looped back into it: a spoken wake phrase
starts a session; Billy saying the phrase himself does not wake him; someone saying it while he talks stops him."""

from __future__ import annotations

import time

import numpy as np
import pytest
from waiting import wait_until

from billy.audio.file_device import SPEECH_LEVEL
from billy.audio.pcm import Pcm, read_wav

from standins import Reply
from text_match import contains_words

WAKE = {"WAKE_WORD_ENABLED": "true", "WAKE_WORD_MODEL": "okay_nabu"}
TIMEOUT = 60
# At the same level as Billy's voice, what the echo canceller leaves of him (about 11 dB under the phrase) masks
# "okay nabu" in about one run of eight, depending on which of his words it falls on (detector 0.66-0.99,
# cutoff 0.85); 3 dB louder it scores 0.94 or more on the same recordings. `make bench-wake` measures the rate
# at equal level.
RAISED_VOICE_DB = 3.0


def _ask_after_the_wake_up_clip(tank, question: bytes) -> None:
    """With the wake word on, the microphone is live (the watcher reads it all the time): speak once Billy listens."""
    tank.press_button()
    wait_until(lambda: tank.billy.state == "listening", "session")
    tank.microphone.queue(question)


def _raised(wav: bytes, db: float) -> Pcm:
    pcm = read_wav(wav)
    louder = pcm.samples.astype(np.float64) * 10 ** (db / 20)
    return Pcm(np.clip(louder, -32768, 32767).astype(np.int16), pcm.rate)


def _talked_for(tank, mark: int, seconds: float) -> bool:
    """Billy's sound since `mark` has been heard for `seconds`."""
    started = tank.speaker.first_sound_since(mark)
    return started is not None and time.monotonic() > started + seconds


def test_a_spoken_wake_phrase_starts_a_session(tank_factory, llm, speak):
    llm.then(Reply("I heard you."))
    tank = tank_factory(WAKE, loopback=True)
    question = speak("Where do you live?")
    tank.microphone.queue(speak("Okay Nabu."))
    wait_until(lambda: "listening" in tank.states, "session")
    assert len(tank.billy.wake_word.detections) == 1
    tank.microphone.queue(question)
    turn = tank.wait_turn(0)
    assert contains_words(turn.result.heard, "where do you live"), turn.result.heard
    assert turn.result.said == "I heard you."


def test_billy_saying_the_wake_phrase_himself_does_not_wake_him(tank_factory, llm, speak):
    llm.then(Reply("Okay Nabu. Okay Nabu. That is what the smart speakers are called."))
    tank = tank_factory(WAKE, loopback=True)
    _ask_after_the_wake_up_clip(tank, speak("What are smart speakers called?"))
    turn = tank.wait_turn(0)
    tank.wait_idle()
    watcher = tank.billy.wake_word
    # He did say it, and the microphone heard him at full level (the loopback is live): the test could fail.
    assert watcher.said_by_billy, "the wake phrase was not found in what Billy played"
    assert watcher.echo.heard_rms > SPEECH_LEVEL, "the microphone never heard Billy: the loopback is not working"
    # Heard at all, it was taken for his own (an echo); never for someone waking him.
    assert not watcher.detections and not turn.result.interrupted
    assert tank.states.count("listening") == 2  # the question, then the follow-up that timed out


def test_the_wake_phrase_from_someone_else_stops_billy_talking(tank_factory, llm, speak):
    long_reply = " ".join(["Let me tell you about the river where I grew up, it was long and wide."] * 6)
    llm.then(Reply(long_reply, word_delay=0.01))
    tank = tank_factory(WAKE, loopback=True)
    wake = _raised(speak("Okay Nabu."), RAISED_VOICE_DB)
    _ask_after_the_wake_up_clip(tank, speak("Tell me about the river."))
    wait_until(lambda: tank.billy.state == "speaking", "speech")
    mark = tank.speaker.mark()  # his reply from here on
    # Said while he talks (a second into his reply, as the echo canceller has taken in his voice), a little
    # louder than him at the microphone, as someone calls over a talking fish.
    wait_until(lambda: _talked_for(tank, mark, 1.0), "a second of his reply")
    tank.microphone.queue(wake)
    turn = tank.wait_turn(0)
    watcher = tank.billy.wake_word
    why = f"echo cancelled by {watcher.echo.cancelled_db:.1f} dB, taken for his own: {len(watcher.echoes)}"
    assert turn.result.interrupted, why
    assert len(watcher.detections) == 1, why


def test_with_aec_off_the_wake_word_waits_until_billy_has_finished(tank_factory, llm, speak):
    """AEC_ENABLED=false, the original's default: no canceller, so nothing is heard while he talks."""
    llm.then(Reply("Let me tell you about the river where I grew up. It was long and wide and full of friends."))
    tank = tank_factory({**WAKE, "AEC_ENABLED": "false"}, loopback=True)
    assert tank.billy.wake_word.canceller is None
    wake = _raised(speak("Okay Nabu."), RAISED_VOICE_DB)
    _ask_after_the_wake_up_clip(tank, speak("Tell me about the river."))
    wait_until(lambda: tank.billy.state == "speaking", "speech")
    mark = tank.speaker.mark()
    wait_until(lambda: _talked_for(tank, mark, 1.0), "a second of his reply")
    tank.microphone.queue(wake)  # as loud as the call that stops him with the canceller on
    turn = tank.wait_turn(0)
    assert not turn.result.interrupted and not tank.billy.wake_word.detections
    tank.wait_idle()
    tank.microphone.queue(wake)  # he has finished: the same call wakes him
    wait_until(lambda: tank.billy.wake_word.detections, "the wake word once he is quiet")


def test_an_unknown_wake_word_model_is_a_clear_error(tank_factory):
    from billy.settings.kinds import ConfigError

    with pytest.raises(ConfigError, match=r"WAKE_WORD_MODEL='hey_billy' is not valid: .*okay_nabu"):
        tank_factory({**WAKE, "WAKE_WORD_MODEL": "hey_billy"})
