"""`billy doctor`: one line per configured service (up/down, model, latency), exit 1 if any is down."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .config import Settings
from .service_client import ServiceError, auth_headers
from .stt.client import SttClient
from .tts.client import TtsClient


@dataclass
class Check:
    name: str
    url: str
    up: bool
    detail: str
    latency_ms: float

    def line(self) -> str:
        return f"{self.name:<5} {'up' if self.up else 'DOWN':<5} {self.latency_ms:7.0f} ms  {self.detail}  ({self.url})"


def _timed(name: str, url: str, probe: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail, up = probe(), True
    except (ServiceError, httpx.HTTPError, ValueError, KeyError) as error:
        detail, up = str(error), False
    return Check(name, url, up, detail, (time.monotonic() - started) * 1000)


def check_llm(base_url: str, model: str, api_key: str = "") -> str:
    try:
        response = httpx.get(f"{base_url}/models", headers=auth_headers(api_key), timeout=5)
    except httpx.HTTPError as error:
        raise ServiceError("llm", f"unreachable: {error}") from None
    if response.status_code != 200:
        raise ServiceError("llm", f"HTTP {response.status_code} from /models")
    served = [entry["id"] for entry in response.json().get("data", [])]
    if model not in served:
        raise ServiceError("llm", f"model {model!r} is not served; the server has {', '.join(served) or 'none'}")
    return f"model {model}"


def run_checks(settings: Settings) -> list[Check]:
    stt = SttClient(settings.stt_url)
    tts = TtsClient(settings.tts_url)
    checks = [
        _timed("stt", settings.stt_url, lambda: f"model {stt.health()['model']}"),
        _timed("tts", settings.tts_url, lambda: f"voice {tts.health()['voice']}"),
        _timed("llm", settings.llm_url, lambda: check_llm(settings.llm_url, settings.local_llm_model)),
    ]
    return checks


def doctor(settings: Settings) -> int:
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    return 0 if all(check.up for check in checks) else 1
