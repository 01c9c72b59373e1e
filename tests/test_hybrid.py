"""Hybrid is configuration: OpenAI for every stage, or as one stage's fallback (an OpenAI stand-in)."""

from __future__ import annotations

import json

import pytest

from billy.appliance.wiring import build_clients
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

from standins import OpenAiStandIn, Reply
from text_match import words

KEY = "sk-test-billy"
QUESTION = "What do you like to eat?"


@pytest.fixture
def openai(stt_service, tts_service, llm):
    standin = OpenAiStandIn(KEY, stt_service.base_url, tts_service.base_url, llm.base_url)
    yield standin
    standin.close()


def test_use_local_models_false_sends_every_stage_to_openai(tank_factory, llm, openai, speak):
    llm.then(Reply("I am a fish in the cloud."))
    tank = tank_factory(
        {
            "USE_LOCAL_MODELS": "false",
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": openai.url + "/v1",
            "OPENAI_MODEL": "gpt-4o-mini",
            "VOICE": "ash",
            "STT_BASE_URL": "http://127.0.0.1:9/v1",
            "TTS_BASE_URL": "http://127.0.0.1:9/v1",
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    turn = tank.ask(speak(QUESTION))
    assert words(turn.result.heard) == words(QUESTION) and turn.result.said == "I am a fish in the cloud."
    paths = [request["path"] for request in openai.requests]
    assert paths[0] == "/v1/audio/transcriptions" and "/v1/chat/completions" in paths and "/v1/audio/speech" in paths
    assert all(request["headers"]["Authorization"] == f"Bearer {KEY}" for request in openai.requests)
    chat = json.loads(next(r["body"] for r in openai.requests if r["path"] == "/v1/chat/completions"))
    speech = json.loads(next(r["body"] for r in openai.requests if r["path"] == "/v1/audio/speech"))
    assert chat["model"] == "gpt-4o-mini" and speech["model"] == "tts-1" and speech["voice"] == "ash"
    assert any(block.rate == 24000 and block.loud for block in tank.speaker.played_since())


def test_a_stage_that_is_down_falls_back_to_openai(tank_factory, llm, openai, speak):
    llm.then(Reply("The fallback answers."))
    tank = tank_factory(
        {
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "LLM_FALLBACK": "openai",
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": openai.url + "/v1",
        }
    )
    turn = tank.ask(speak(QUESTION))
    assert turn.result.said == "The fallback answers." and not turn.result.failed_stage
    assert [request["path"] for request in openai.requests] == ["/v1/chat/completions"]


def test_openai_without_a_key_is_a_configuration_error():
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_clients(load_settings({"USE_LOCAL_MODELS": "false"}))
    with pytest.raises(ConfigError, match="TTS_FALLBACK=openai"):
        build_clients(load_settings({"TTS_FALLBACK": "openai"}))
