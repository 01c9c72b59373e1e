"""Barge-in and failures: each ends with a clip or a short answer, and the next question works."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from waiting import wait_until

from billy.audio.pcm import Pcm
from billy.devtools.stack import ServiceProcess

from standins import Reply
from text_match import words

QUESTION = "What do you like to eat?"
NEXT = "How old are you?"
LONG = " ".join(f"This is sentence number {n} of a long story about the sea." for n in range(1, 9))


def _wait_state(tank, state: str, timeout: float = 120) -> None:
    wait_until(lambda: tank.billy.state == state, f"{state} (states {tank.states[-8:]})", timeout)


def test_button_while_speaking_stops_audio_and_motors_and_listens_again(tank_factory, llm, speak):
    llm.then(Reply(LONG), Reply("Five hundred years."))
    speak(NEXT)  # made (and cached) before the session: it must not outlast its 2 s of no speech
    tank = tank_factory()
    tank.microphone.queue(speak(QUESTION))
    tank.press_button()
    _wait_state(tank, "speaking")
    mark = tank.speaker.mark()
    wait_until(lambda: any(b.loud for b in tank.speaker.played_since(mark)), "Billy to be heard")
    tank.press_button()  # gpiozero calls the handler in this thread: the interrupt is set when it returns
    pressed = time.monotonic()
    _wait_state(tank, "listening")
    # The player checks the interrupt before each block, so at most the block already past that check may
    # start after the press: an order of events, whatever the machine's load.
    after_press = [b for b in tank.speaker.played_since(mark) if b.started > pressed]
    assert len(after_press) <= 1, f"{len(after_press)} blocks played after the press"
    assert tank.billy.fish.motors_off
    first = tank.turns[0]
    assert first.result.interrupted and len(first.result.said) < len(LONG)
    tank.microphone.queue(speak(NEXT))
    second = tank.wait_turn(1)
    assert words(second.result.heard) == words(NEXT) and second.result.said == "Five hundred years."


def _fault_then_recovery(tank, speak, stage: str) -> None:
    mark = tank.speaker.mark()
    turn = tank.ask(speak(QUESTION))
    assert turn.result.failed_stage == stage, turn.result
    assert "error" in tank.states
    assert any(b.loud for b in tank.speaker.played_since(mark)), "no error clip was played"
    assert tank.billy.fish.motors_off


@pytest.mark.parametrize("stage", ["stt", "tts"])
def test_a_dead_service_plays_the_prerendered_clip_and_the_next_question_works(
    stage, tank_factory, llm, speak, models_dir, tmp_path
):
    args = {
        "stt": ["stt-server", "--model-dir", str(models_dir / "tiny.en")],
        "tts": ["tts-server", "--voice-dir", str(models_dir)],
    }
    service = ServiceProcess.billy(args[stage], tmp_path / f"{stage}.log")
    tank = tank_factory({f"{stage.upper()}_BASE_URL": service.base_url})
    service.stop()
    _fault_then_recovery(tank, speak, stage)
    tank.wait_idle()
    restarted = ServiceProcess.billy(args[stage], tmp_path / f"{stage}-again.log", port=service.port)
    try:
        llm.then(Reply("I am Billy."))
        turn = tank.ask(speak(QUESTION))
        assert words(turn.result.heard) == words(QUESTION) and turn.result.said == "I am Billy."
    finally:
        restarted.stop()


def test_llm_timing_out_plays_the_error_clip_and_the_next_question_works(tank_factory, llm, speak):
    llm.then(Reply("Too late.", hang=4), Reply("On time."))
    tank = tank_factory({"LLM_TIMEOUT_SECONDS": "1"})
    _fault_then_recovery(tank, speak, "llm")
    tank.wait_idle()
    assert tank.ask(speak(QUESTION)).result.said == "On time."


def test_llm_down_plays_the_error_clip(tank_factory, speak):
    tank = tank_factory({"LLM_BASE_URL": "http://127.0.0.1:9/v1"})
    _fault_then_recovery(tank, speak, "llm")


def test_malformed_tool_call_plays_a_clip_and_the_next_question_works(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("update_personality", '{"humor": ')]), Reply(tool_calls=[("launch_rocket", "{}")]))
    llm.then(Reply("All good."))
    speak(NEXT)  # made (and cached) before the session: it must not outlast its 2 s of no speech
    tank = tank_factory()
    _fault_then_recovery(tank, speak, "tool")
    tank.microphone.queue(speak(NEXT))
    assert tank.wait_turn(1).result.failed_stage == "tool"
    tank.microphone.queue(speak(QUESTION))
    assert tank.wait_turn(2).result.said == "All good."


def test_an_empty_transcript_gets_the_not_heard_clip_and_no_llm_call(tank_factory, llm):
    tank = tank_factory()
    mark = tank.speaker.mark()
    result = tank.billy.pipeline.turn(Pcm(np.zeros(16000, dtype=np.int16), 16000), threading.Event())
    assert result.heard.strip().lower() in ("", "you", "[blank_audio]") and result.said == ""
    assert any(b.loud for b in tank.speaker.played_since(mark))
    assert llm.requests == []
