"""Home Assistant's own intent engine before the LLM (HA_CONVERSATION), against a stand-in that speaks its
conversation API on a real socket; the STT and TTS are Billy's real services."""

from __future__ import annotations

import pytest

from standins import HomeAssistantStandIn, Reply
from text_match import contains_words

TOKEN = "long-lived-token"
COMMAND = "Switch on the kitchen light."
DONE = "Turned on the kitchen light."


@pytest.fixture
def home():
    server = HomeAssistantStandIn(token=TOKEN, intents={"switch on the kitchen light": DONE})
    yield server
    server.close()


def _env(home: HomeAssistantStandIn, mode: str = "first") -> dict[str, str]:
    return {"HA_HOST": home.url, "HA_TOKEN": TOKEN, "HA_CONVERSATION": mode}


def test_a_home_command_handled_by_home_assistant_is_spoken_with_no_llm_request(tank_factory, llm, home, speak):
    tank = tank_factory(_env(home))
    turn = tank.ask(speak(COMMAND))
    assert [r["path"] for r in home.requests] == ["/api/conversation/process"]
    assert contains_words(home.requests[0]["body"]["text"], "switch on the kitchen light")
    assert home.requests[0]["body"]["language"] == "en"
    assert turn.result.answered_by == "home assistant"
    assert turn.result.said == DONE
    assert turn.result.first_sound_at is not None
    assert llm.requests == []


def test_a_chat_question_goes_on_to_the_llm(tank_factory, llm, home, speak):
    llm.then(Reply("I like to swim all day."))
    tank = tank_factory(_env(home))
    turn = tank.ask(speak("What do you like to do all day?"))
    assert len(home.requests) == 1  # asked first, answered no_intent_match
    assert len(llm.requests) == 1
    assert turn.result.answered_by == ""
    assert turn.result.said == "I like to swim all day."


def test_llm_only_mode_never_asks_the_intent_engine_but_keeps_the_tool(tank_factory, llm, home, speak):
    tank = tank_factory(_env(home, "llm"))
    tank.ask(speak(COMMAND))
    assert home.requests == []
    tools = [tool["function"]["name"] for tool in llm.requests[0]["body"]["tools"]]
    assert "smart_home_command" in tools


def test_off_mode_has_no_home_assistant_at_all(tank_factory, llm, home, speak):
    tank = tank_factory(_env(home, "off"))
    tank.ask(speak(COMMAND))
    assert home.requests == []
    tools = [tool["function"]["name"] for tool in llm.requests[0]["body"]["tools"]]
    assert "smart_home_command" not in tools


def test_home_assistant_down_the_llm_answers(tank_factory, llm, home, speak):
    home.close()
    llm.then(Reply("The house is not answering, but I am."))
    tank = tank_factory(_env(home))
    turn = tank.ask(speak(COMMAND))
    assert len(llm.requests) == 1
    assert turn.result.said == "The house is not answering, but I am."
    assert not turn.result.failed_stage
