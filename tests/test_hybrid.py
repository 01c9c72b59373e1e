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


def _openai_shaped(key: str, stt_service, tts_service, llm):
    standin = OpenAiStandIn(key, stt_service.base_url, tts_service.base_url, llm.base_url)
    yield standin
    standin.close()


@pytest.fixture
def openai(stt_service, tts_service, llm):
    yield from _openai_shaped(KEY, stt_service, tts_service, llm)


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


XAI_KEY = "xai-test-billy"


@pytest.fixture
def xai(stt_service, tts_service, llm):
    """xAI's chat API is OpenAI's protocol with its own key; the same stand-in speaks it."""
    yield from _openai_shaped(XAI_KEY, stt_service, tts_service, llm)


def test_the_originals_xai_provider_thinks_in_grok_while_ears_and_voice_stay_local(tank_factory, llm, xai, speak):
    llm.then(Reply("Grok says blub."))
    tank = tank_factory(
        {
            "USE_LOCAL_MODELS": "false",
            "REALTIME_AI_PROVIDER": "xai",
            "XAI_API_KEY": XAI_KEY,
            "XAI_MODEL": "grok-voice-latest",  # the original's default, a voice model with no chat API
            "XAI_BASE_URL": xai.url + "/v1",
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    turn = tank.ask(speak(QUESTION))
    assert words(turn.result.heard) == words(QUESTION) and turn.result.said == "Grok says blub."
    assert [request["path"] for request in xai.requests] == ["/v1/chat/completions"]  # heard and spoken here
    assert xai.requests[0]["headers"]["Authorization"] == f"Bearer {XAI_KEY}"
    assert json.loads(xai.requests[0]["body"])["model"] == "grok-3-mini"
    assert any(block.loud for block in tank.speaker.played_since())


def test_xai_as_the_fallback_when_the_local_model_is_down(tank_factory, llm, xai, openai, speak):
    llm.then(Reply("The other cloud answers."))
    tank = tank_factory(
        {
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "LLM_FALLBACK": "xai",
            "XAI_API_KEY": XAI_KEY,
            "XAI_BASE_URL": xai.url + "/v1",
            "XAI_MODEL": "grok-4",
            "OPENAI_API_KEY": KEY,  # set, but not asked: the owner chose xAI
            "OPENAI_BASE_URL": openai.url + "/v1",
        }
    )
    turn = tank.ask(speak(QUESTION))
    assert turn.result.said == "The other cloud answers." and not turn.result.failed_stage
    assert json.loads(xai.requests[0]["body"])["model"] == "grok-4" and openai.requests == []


def test_with_an_openai_key_too_xai_thinks_and_openai_hears_and_speaks(tank_factory, llm, xai, openai, speak):
    llm.then(Reply("Two clouds, one fish."))
    env = {"USE_LOCAL_MODELS": "false", "REALTIME_AI_PROVIDER": "xai", "XAI_API_KEY": XAI_KEY}
    env |= {"XAI_BASE_URL": xai.url + "/v1", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai.url + "/v1"}
    env |= {name: "http://127.0.0.1:9/v1" for name in ("STT_BASE_URL", "TTS_BASE_URL", "LLM_BASE_URL")}
    turn = tank_factory(env).ask(speak(QUESTION))
    assert turn.result.said == "Two clouds, one fish."
    assert [request["path"] for request in xai.requests] == ["/v1/chat/completions"]
    assert {request["path"] for request in openai.requests} == {"/v1/audio/transcriptions", "/v1/audio/speech"}


def test_a_cloud_without_its_key_names_the_key_to_set():
    with pytest.raises(ConfigError, match="USE_LOCAL_MODELS=false uses xai but XAI_API_KEY is empty"):
        build_clients(load_settings({"USE_LOCAL_MODELS": "false", "REALTIME_AI_PROVIDER": "xai"}))
    with pytest.raises(ConfigError, match="LLM_FALLBACK=xai uses xai but XAI_API_KEY is empty"):
        build_clients(load_settings({"LLM_FALLBACK": "xai", "OPENAI_API_KEY": KEY}))
    with pytest.raises(ConfigError, match="REALTIME_AI_PROVIDER='grok' is not valid: allowed values are openai, xai"):
        load_settings({"REALTIME_AI_PROVIDER": "grok"})
