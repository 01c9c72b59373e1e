"""The same loop against llama.cpp's server with a real GGUF model, and `billy doctor` against real services.

The model is the offline default, SmolLM2 135M Instruct, run with its catalogue profile (billy.llm.profile): too
small to know much, so what it says is checked for form (plain sentences, no loop, no stage directions), not facts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from billy.devtools.stack import GGUF_ALIAS, ServiceProcess, start_llama_server
from billy.services.llm.client import ChatClient

QUESTION = "What do you like to eat?"


@pytest.fixture(scope="session")
def llama(models_dir, tmp_path_factory) -> Iterator[ServiceProcess]:
    server = start_llama_server(models_dir, tmp_path_factory.mktemp("llama") / "llm.log")
    yield server
    server.stop()


def repeated_phrases(text: str) -> list[tuple[str, ...]]:
    """Three-word phrases said three times or more: the loop a small model falls into on a bad prompt."""
    words = [word.strip(".,!?;:'\"").lower() for word in text.split()]
    phrases = Counter(zip(words, words[1:], words[2:], strict=False))
    return [phrase for phrase, count in phrases.items() if count >= 3]


def test_closed_loop_with_llama_cpp_and_the_real_model(tank_factory, llama, speak):
    tank = tank_factory({"LLM_BASE_URL": llama.base_url, "LOCAL_LLM_MODEL": GGUF_ALIAS})
    turn = tank.ask(speak(QUESTION), timeout=120)
    tank.wait_idle(60)
    said = turn.result.said
    assert turn.result.failed_stage == "" and said.strip()
    assert not repeated_phrases(said) and not set("*#`") & set(said), said
    assert any(block.loud for block in tank.speaker.played_since())
    assert turn.first_sound_s is not None and turn.first_sound_s > 0
    assert tank.billy.fish.motors_off


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "billy", "doctor"], capture_output=True, text=True, env={**os.environ, **env}, timeout=60
    )


def test_doctor_prints_one_line_per_service_and_fails_when_one_is_down(stt_service, tts_service, llama, tmp_path):
    env = {
        "STT_BASE_URL": stt_service.base_url,
        "TTS_BASE_URL": tts_service.base_url,
        "LLM_BASE_URL": llama.base_url,
        "LOCAL_LLM_MODEL": GGUF_ALIAS,
        "BILLY_AUDIO": "file",
        "BILLY_AUDIO_DIR": str(tmp_path),
        "BILLY_GPIO": "mock",
    }
    healthy = _doctor(env)
    lines = healthy.stdout.strip().splitlines()
    assert healthy.returncode == 0, healthy.stdout
    assert [line.split()[:2] for line in lines] == [
        ["stages", "ok"],
        ["stt", "ok"],
        ["tts", "ok"],
        ["llm", "ok"],
        ["sound", "ok"],
        ["gpio", "ok"],
    ]
    assert "tiny.en" in lines[1] and "en_US-joe-medium" in lines[2] and GGUF_ALIAS in lines[3]
    broken = _doctor({**env, "LLM_BASE_URL": "http://127.0.0.1:9/v1", "LOCAL_LLM_MODEL": GGUF_ALIAS})
    assert broken.returncode == 1 and "llm      FAIL" in broken.stdout
    wrong_model = _doctor({**env, "LOCAL_LLM_MODEL": "qwen2.5:1.5b"})
    assert wrong_model.returncode == 1 and "is not served" in wrong_model.stdout


def test_reading_ahead_leaves_the_words_so_far_in_the_cache_and_nothing_after_them(llama):
    """What Billy reads into the model while the question is spoken is what the turn's request reuses, whole:
    the words so far, not the reply's opening the template puts after them, nor a token of a reply."""
    client = ChatClient(llama.base_url, GGUF_ALIAS)
    system = {"role": "system", "content": f"You are Billy, a fish on a wall ({uuid.uuid4()})."}  # nothing cached
    so_far = [system, {"role": "user", "content": "What is the capital of"}]
    whole = [system, {"role": "user", "content": "What is the capital of France?"}]

    held = client.read_ahead(so_far)

    rendered = _post(llama, "/apply-template", {"messages": so_far})["prompt"]
    words_end = rendered.rindex("What is the capital of") + len("What is the capital of")
    assert held == len(_tokens(llama, rendered[:words_end])) < len(_tokens(llama, rendered))
    asked = _post(llama, "/v1/chat/completions", {"messages": whole, "max_tokens": 1})["timings"]
    assert asked["cache_n"] == held  # the turn's request read only what came after the words so far
    whole_prompt = _post(llama, "/apply-template", {"messages": whole})["prompt"]
    assert asked["prompt_n"] == len(_tokens(llama, whole_prompt)) - held


def test_reading_ahead_without_a_template_server_warms_the_chat_up(llm):
    """Ollama and the clouds have no /apply-template: the chat request reads the words in, then always."""
    client = ChatClient(llm.base_url, "billy-test")
    for words in ("What is the", "What is the capital of"):
        assert client.read_ahead([{"role": "user", "content": words}]) is None
    assert [body["messages"][-1]["content"] for body in llm.warm_ups] == ["What is the", "What is the capital of"]
    assert all(body["max_tokens"] == 1 for body in llm.warm_ups)


def _post(server: ServiceProcess, path: str, body: dict) -> dict:
    response = httpx.post(server.base_url.removesuffix("/v1") + path, json=body, timeout=120)
    response.raise_for_status()
    return response.json()


def _tokens(server: ServiceProcess, text: str) -> list[int]:
    return _post(server, "/tokenize", {"content": text, "add_special": True, "parse_special": True})["tokens"]
