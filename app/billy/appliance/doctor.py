"""`billy doctor`: one line per thing that breaks on a Pi, exit 1 if any fails.

The settings file itself, the active stages (after USE_LOCAL_MODELS and the fallbacks) and each one's health,
the sound cards that MIC_PREFERENCE / SPEAKER_PREFERENCE pick, the GPIO pin library, the MQTT broker (connect
and log in) and Home Assistant (the token). Billy's start-up waits on the same stage checks (`stage_checks`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from billy.services.client import ServiceError, auth_headers
from billy.services.llm.cloud import chosen_brain, speech_in_cloud
from billy.services.llm.ollama_brain import BOOT_UNIT
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient
from billy.settings.read import Settings

ENV_FILE_VARIABLE = "BILLY_ENV_FILE"  # set by the `billy` wrapper to the file it meant to read


class CheckFailed(Exception):
    """A check's clear reason for failing."""


@dataclass
class Check:
    name: str
    up: bool
    detail: str
    latency_ms: float

    def line(self) -> str:
        return f"{self.name:<8} {'ok' if self.up else 'FAIL':<5} {self.latency_ms:7.0f} ms  {self.detail}"


def run_check(name: str, probe: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail, up = probe(), True
    except (CheckFailed, ServiceError, httpx.HTTPError, RuntimeError, OSError, ValueError, KeyError) as error:
        detail, up = str(error), False
    return Check(name, up, detail, (time.monotonic() - started) * 1000)


def check_llm(base_url: str, model: str, api_key: str = "", boot_unit: Path = BOOT_UNIT) -> str:
    try:
        response = httpx.get(f"{base_url}/models", headers=auth_headers(api_key), timeout=5)
    except httpx.HTTPError as error:
        raise ServiceError("llm", f"unreachable: {error}") from None
    if response.status_code != 200:
        raise ServiceError("llm", f"HTTP {response.status_code} from /models")
    served = [entry["id"] for entry in response.json().get("data", [])]
    if model not in served:
        fetching = f"; {boot_unit.name} fetches it (journalctl -u {boot_unit.stem})" if boot_unit.exists() else ""
        served_text = ", ".join(served) or "none"
        raise ServiceError("llm", f"model {model!r} is not served; the server has {served_text}{fetching}")
    return f"model {model} ({base_url})"


def _stages(settings: Settings) -> list[tuple[str, str]]:
    """(stage, where) for each stage Billy uses first, with its fallback named."""
    local = {"stt": settings.stt_url, "llm": settings.llm_url, "tts": settings.tts_url}
    if not settings.use_local_models:
        brain = chosen_brain(settings)
        cloud_speech = f"openai {settings.openai_base_url}" if speech_in_cloud(settings) else None
        return [
            ("stt", cloud_speech or local["stt"]),
            ("llm", f"{brain.provider} {brain.base_url}"),
            ("tts", cloud_speech or local["tts"]),
        ]
    fallbacks = {"stt": settings.stt_fallback, "llm": settings.llm_fallback, "tts": settings.tts_fallback}
    return [
        (name, local[name] + (f" then {fallbacks[name]}" if fallbacks[name] != "none" else ""))
        for name in ("stt", "llm", "tts")
    ]


def stage_checks(settings: Settings) -> list[tuple[str, Callable[[], str]]]:
    """The health of each stage Billy uses first (the local service, or the cloud without local models)."""
    if not settings.use_local_models:
        brain = chosen_brain(settings)
        return [(brain.provider, lambda: check_llm(brain.base_url, brain.model, brain.api_key))]
    stt, tts = SttClient(settings.stt_url), TtsClient(settings.tts_url)
    return [
        ("stt", lambda: f"model {stt.health()['model']} ({settings.stt_url})"),
        ("tts", lambda: f"voice {tts.health()['voice']} ({settings.tts_url})"),
        ("llm", lambda: check_llm(settings.llm_url, settings.local_llm_model)),
    ]


def check_sound(settings: Settings) -> str:
    if settings.billy_audio == "file":
        return f"file-backed sound device in {settings.billy_audio_dir} (BILLY_AUDIO=file)"
    import sounddevice

    from billy.audio.devices import find_device

    def name(preference: str, kind: str) -> str:
        index = find_device(preference, kind)
        device = sounddevice.query_devices(index, kind)
        how = f"matches {preference!r}" if preference else "the default"
        return f"{kind} {device['name']!r} ({how})"

    return f"{name(settings.mic_preference, 'input')}, {name(settings.speaker_preference, 'output')}"


def check_gpio(settings: Settings) -> str:
    from billy.body.pins import describe_pin_factory, make_pin_factory

    kind = "mock" if os.environ.get("GPIOZERO_PIN_FACTORY", "") == "mock" else settings.billy_gpio
    factory = make_pin_factory(kind)
    try:
        return f"pin library {describe_pin_factory(factory)}, {settings.billy_pins} wiring"
    finally:
        factory.close()


def check_mqtt(settings: Settings, timeout: float = 5) -> str:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"billy-doctor-{os.getpid()}")
    if settings.mqtt_username:
        client.username_pw_set(settings.mqtt_username, settings.mqtt_password or None)
    if settings.mqtt_tls:
        client.tls_set(ca_certs=settings.mqtt_ca_cert or None)
    answered, result = threading.Event(), {}

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        result["reason"] = reason_code
        answered.set()

    client.on_connect = on_connect
    where = f"{settings.mqtt_host}:{settings.mqtt_port}"
    try:
        client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10)
    except OSError as error:
        raise CheckFailed(f"broker {where} unreachable: {error}") from None
    client.loop_start()
    try:
        if not answered.wait(timeout):
            raise CheckFailed(f"broker {where} did not answer the connection within {timeout:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()
    reason = result["reason"]
    if reason.is_failure:
        raise CheckFailed(f"broker {where} refused Billy: {reason} (check MQTT_USERNAME and MQTT_PASSWORD)")
    user = settings.mqtt_username or "anonymous"
    return f"connected to {where} as {user}"


def check_home_assistant(settings: Settings) -> str:
    response = httpx.get(
        f"{settings.ha_host}/api/", headers={"Authorization": f"Bearer {settings.ha_token}"}, timeout=5
    )
    if response.status_code == 401:
        raise CheckFailed(f"{settings.ha_host} refused the token (HTTP 401): set HA_TOKEN to a long-lived token")
    if response.status_code != 200:
        raise CheckFailed(f"{settings.ha_host}/api/ answered HTTP {response.status_code}")
    return f"{settings.ha_host}: {response.json().get('message', 'answered')} (token accepted)"


def unreadable_env_file() -> str | None:
    """The settings file the wrapper meant to read, if this user cannot read it (then defaults would mislead)."""
    path = os.environ.get(ENV_FILE_VARIABLE, "")
    if not path:
        return None
    try:
        Path(path).open("rb").close()
    except PermissionError:  # the file, or /etc/billy itself (mode 0750), is closed to this user
        return path
    except OSError:
        return None
    return None


def run_checks(settings: Settings) -> list[Check]:
    checks = [Check("stages", True, "; ".join(f"{name} {where}" for name, where in _stages(settings)), 0.0)]
    checks += [run_check(name, probe) for name, probe in stage_checks(settings)]
    checks.append(run_check("sound", lambda: check_sound(settings)))
    checks.append(run_check("gpio", lambda: check_gpio(settings)))
    if settings.mqtt_host:
        checks.append(run_check("mqtt", lambda: check_mqtt(settings)))
    if settings.ha_host:
        checks.append(run_check("ha", lambda: check_home_assistant(settings)))
    return checks


def doctor(settings: Settings) -> int:
    path = unreadable_env_file()
    if path is not None:
        print(f"settings FAIL  cannot read {path} as this user: run `sudo billy doctor` (defaults would mislead)")
        return 1
    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    return 0 if all(check.up for check in checks) else 1
