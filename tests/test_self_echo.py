"""Billy must not hear himself: a loopback sound card (the microphone hears the speaker, with an output latency
as a real card has) never turns his wake clip or his reply into a question, and his mouth moves with the
sound as it is heard, not as it is written to the card."""

from __future__ import annotations

import numpy as np
import pytest

from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.media.playback import BLOCK_SECONDS

from billy_harness import make_tank
from text_match import contains_words

LATENCY = 0.3  # seconds a sound card holds audio before it is heard: several blocks, as on a USB card


@pytest.fixture
def loopback_tank(tmp_path, sounds_dir, stt_service, tts_service, llm):
    microphone = FileMicrophone()
    speaker = FileSpeaker(latency=LATENCY, loopback=microphone)
    env = {
        "STT_BASE_URL": stt_service.base_url,
        "TTS_BASE_URL": tts_service.base_url,
        "LLM_BASE_URL": llm.base_url,
        "LOCAL_LLM_MODEL": llm.model,
    }
    tank = make_tank(tmp_path / "billy", sounds_dir, env, devices=(microphone, speaker))
    yield tank
    tank.close()


def test_wake_clip_and_reply_are_never_heard_as_questions(loopback_tank, speak, llm):
    turn = loopback_tank.ask(speak("Where do you live?"))
    assert contains_words(turn.result.heard, "where do you live"), turn.result.heard
    assert turn.result.said, "Billy did not answer"
    loopback_tank.wait_idle(timeout=60)  # the session ends in silence: nobody else spoke
    assert len(loopback_tank.turns) == 1, [t.result.heard for t in loopback_tank.turns]
    # And the microphone did hear him: the loopback is live, so the test would catch an echo.
    assert loopback_tank.speaker.first_sound_since(0) is not None


def _best_shift(heard: np.ndarray, mouth: np.ndarray, step: float, widest: float) -> float:
    """The delay (seconds) of the mouth behind the sound at which the two on/off series agree best."""
    reach = int(widest / step)
    scores = {}
    for shift in range(-reach, reach + 1):
        if shift >= 0:
            scores[shift] = float(np.mean(heard[: len(heard) - shift] == mouth[shift:]))
        else:
            scores[shift] = float(np.mean(heard[-shift:] == mouth[: len(mouth) + shift]))
    return max(scores, key=scores.get) * step


def test_the_mouth_moves_with_the_sound_as_it_is_heard(loopback_tank, speak):
    mark = loopback_tank.speaker.mark()
    loopback_tank.ask(speak("Tell me about the sea."))
    loopback_tank.wait_idle(timeout=60)
    blocks = loopback_tank.speaker.played_since(mark)
    moves = [move for move in loopback_tank.timeline.moves() if move.part == "mouth"]
    step = 0.01
    grid = np.arange(blocks[0].started, blocks[-1].started + 1.0, step)
    heard = np.zeros(len(grid), dtype=bool)
    for block in blocks:
        if block.loud:
            heard[(grid >= block.started) & (grid < block.started + len(block.samples) / block.rate)] = True
    mouth = np.zeros(len(grid), dtype=bool)
    for move, following in zip(moves, [*moves[1:], None], strict=True):
        until = following.t if following is not None else grid[-1] + step
        mouth[(grid >= move.t) & (grid < until)] = move.value > 0
    assert heard.any() and mouth.any()
    shift = _best_shift(heard, mouth, step, widest=4 * LATENCY)
    # Written to the card, the mouth would lead the sound by the card's latency; it must follow it instead.
    assert -BLOCK_SECONDS <= shift <= BLOCK_SECONDS, f"the mouth is {shift:+.2f} s off the sound heard"
