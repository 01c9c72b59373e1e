"""Billy's settings, read from the environment (`/etc/billy/billy.env` on the Pi).

The names are those of the original project's `.env` and of its local-models fork, so an old file keeps
working; new settings carry the `BILLY_` prefix or name the stage they belong to. A bad value raises
`ConfigError` naming the variable, the value seen and what is allowed, so a unit stops with a clear message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from billy.languages import language_code
from billy.models import defaults
from billy.settings import original as original_settings

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")
OPENAI_BASE_URL_DEFAULT = "https://api.openai.com/v1"


class ConfigError(ValueError):
    """A setting has a value Billy cannot use."""


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ConfigError(f"{name}={raw!r} is not valid: allowed values are {', '.join(allowed)}")
        return value

    return parse


def _boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not valid: allowed values are {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS[:-1])}"
    )


def _number(kind: type, low: float | None = None, high: float | None = None) -> Callable[[str, str], Any]:
    def parse(name: str, raw: str) -> Any:
        try:
            value = kind(raw.strip())
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not valid: expected {_describe(kind, low, high)}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{name}={raw!r} is out of range: expected {_describe(kind, low, high)}")
        return value

    return parse


def _describe(kind: type, low: float | None, high: float | None) -> str:
    noun = "a whole number" if kind is int else "a number"
    if low is not None and high is not None:
        return f"{noun} from {low:g} to {high:g}"
    if low is not None:
        return f"{noun} of at least {low:g}"
    return noun


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name}={raw!r} is not valid: expected a URL starting with http:// or https://")
    return value


def _voice_map(name: str, raw: str) -> dict[str, str]:
    """`TTS_VOICES=de=de_DE-thorsten-medium,fr=fr_FR-siwis-medium` -> {"de": ..., "fr": ...}."""
    voices = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, _, voice = item.partition("=")
        if not code.strip() or not voice.strip():
            raise ConfigError(f"{name}={raw!r} is not valid: expected pairs such as de=de_DE-thorsten-medium")
        voices[language_code(code)] = voice.strip()
    return voices


def _wyoming_uri(name: str, raw: str) -> str:
    value = raw.strip()
    if value and not (value.startswith("tcp://") and value.rsplit(":", 1)[-1].isdigit()):
        raise ConfigError(f"{name}={raw!r} is not valid: expected tcp://HOST:PORT (a Wyoming server), or empty")
    return value


def _optional(parse: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """Empty means "not set"; anything else must parse."""
    return lambda name, raw: parse(name, raw) if raw.strip() else ""


def _mapped(mapping: Callable[[str], str]) -> Callable[[str, str], str]:
    """A name from the original's `.env` that this Billy spells differently (original_settings says which)."""
    return lambda name, raw: mapping(raw.strip())


def _setting(default: str, parse: Callable[[str, str], Any] = _text, secret: bool = False) -> Any:
    return field(default=None, metadata={"default": default, "parse": parse, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Every setting, parsed. Field names are the environment variable names in lower case."""

    # The fish and its body
    billy_model: str = _setting("modern", _choice("modern", "classic"))
    # The wiring (body/pins.py): new (one pin per motor) or legacy; an empty BUTTON_PIN means the wiring's button
    billy_pins: str = _setting("new", _choice("new", "legacy"))
    button_pin: int = _setting("", lambda n, r: _number(int, 0, 27)(n, r) if r.strip() else None)
    billy_volume: int = _setting("80", _number(int, 0, 100))
    # Audio devices and listening
    mic_preference: str = _setting("")
    speaker_preference: str = _setting("")
    mic_timeout_seconds: float = _setting("5", _number(float, 0.5, 300))
    silence_threshold: float = _setting("0", _number(float, 0, 32767))
    chunk_ms: int = _setting("32", _number(int, 10, 200))
    vad_threshold: float = _setting("0.5", _number(float, 0.05, 0.95))
    end_of_speech_ms: int = _setting("600", _number(int, 100, 10000))
    max_utterance_seconds: float = _setting("20", _number(float, 1, 120))
    # End of turn (latency): smart = Smart Turn v3 decides, with these silences; silence = END_OF_SPEECH_MS only
    end_of_turn: str = _setting("smart", _choice("smart", "silence"))
    # 400: the drafted reply (started when the turn sounded complete) is ready about 0.5 s after the end of speech
    # here, so a longer wait would be the first sound's floor; LiveKit and OpenAI's server VAD wait 500, Pipecat
    # 200 after Smart Turn says complete. A question with a longer pause after a complete-sounding phrase is cut.
    end_of_turn_complete_ms: int = _setting("400", _number(int, 100, 5000))
    end_of_turn_incomplete_ms: int = _setting("2000", _number(int, 100, 10000))
    # Hardware-less hosts: a file-backed sound device (inbox/outbox spool) and gpiozero's MockFactory
    billy_audio: str = _setting("sounddevice", _choice("sounddevice", "file"))
    billy_audio_dir: Path = _setting("/var/lib/billy/audio", lambda n, r: Path(r.strip()))
    billy_gpio: str = _setting("auto", _choice("auto", "mock"))
    # Behaviour
    debug_mode: bool = _setting("false", _boolean)
    text_only_mode: bool = _setting("false", _boolean)
    allow_update_personality_ini: bool = _setting("true", _boolean)
    billy_state_dir: Path = _setting("/var/lib/billy", lambda n, r: Path(r.strip()))
    billy_models_dir: Path = _setting("", lambda n, r: Path(r.strip()) if r.strip() else None)
    billy_history_turns: int = _setting("8", _number(int, 0, 100))
    # Cloud (the original project's names)
    openai_api_key: str = _setting("", secret=True)
    openai_model: str = _setting("gpt-4o-mini", _mapped(original_settings.openai_chat_model))
    openai_base_url: str = _setting(OPENAI_BASE_URL_DEFAULT, _url)
    voice: str = _setting("ash", _mapped(original_settings.openai_tts_voice))
    # Local models (the local-models fork's names)
    use_local_models: bool = _setting("true", _boolean)
    local_llm_host: str = _setting("127.0.0.1")
    local_llm_port: int = _setting("11434", _number(int, 1, 65535))
    local_llm_model: str = _setting("qwen2.5:1.5b")
    local_tts_host: str = _setting("127.0.0.1")
    local_tts_port: int = _setting("5002", _number(int, 1, 65535))
    local_tts_voice: str = _setting(defaults.VOICE, _mapped(original_settings.local_tts_voice))
    local_stt_host: str = _setting("127.0.0.1")
    local_stt_port: int = _setting("5003", _number(int, 1, 65535))
    local_stt_model: str = _setting(defaults.STT_MODEL, _mapped(original_settings.local_stt_model))
    stt_language: str = _setting("en")
    # The STT and TTS services themselves
    billy_stt_model_dir: Path = _setting("", lambda n, r: Path(r.strip()) if r.strip() else None)
    stt_compute_type: str = _setting("int8", _choice("int8", "int8_float32", "int16", "float32", "default"))
    stt_beam_size: int = _setting("1", _number(int, 1, 10))
    stt_threads: int = _setting("0", _number(int, 0, 64))
    stt_max_seconds: float = _setting("120", _number(float, 1, 3600))
    billy_tts_voice_dir: Path = _setting("", lambda n, r: Path(r.strip()) if r.strip() else None)
    tts_max_chars: int = _setting("4000", _number(int, 1, 100000))
    tts_threads: int = _setting("1", _number(int, 0, 64))  # one core: the model writes on the others; 0: all
    # Per stage: an explicit OpenAI-style base URL (ending in /v1) beats host/port; a fallback is none or openai
    llm_base_url: str = _setting("", _url)
    stt_base_url: str = _setting("", _url)
    tts_base_url: str = _setting("", _url)
    llm_fallback: str = _setting("none", _choice("none", "openai"))
    stt_fallback: str = _setting("none", _choice("none", "openai"))
    tts_fallback: str = _setting("none", _choice("none", "openai"))
    llm_timeout_seconds: float = _setting("30", _number(float, 1, 600))
    llm_max_tokens: int = _setting("200", _number(int, 16, 8192))
    stage_timeout_seconds: float = _setting("20", _number(float, 1, 600))
    # MQTT (empty host: MQTT off)
    mqtt_host: str = _setting("")
    mqtt_port: int = _setting("1883", _number(int, 1, 65535))
    mqtt_username: str = _setting("")
    mqtt_password: str = _setting("", secret=True)
    mqtt_tls: bool = _setting("false", _boolean)
    mqtt_ca_cert: str = _setting("")
    mqtt_topic_prefix: str = _setting("billy")
    mqtt_discovery_prefix: str = _setting("homeassistant")
    mqtt_device_name: str = _setting("Big Mouth Billy Bass")
    mqtt_max_payload_bytes: int = _setting("4096", _number(int, 64, 1048576))
    # Home Assistant
    ha_host: str = _setting("", _url)
    ha_token: str = _setting("", secret=True)
    ha_lang: str = _setting("en")
    # What shutdown/restart over MQTT runs (a unit the role installs; tests use a harmless command)
    billy_shutdown_command: str = _setting("systemctl poweroff")
    billy_restart_command: str = _setting("systemctl restart billy.service")
    billy_web_url: str = _setting("http://billy.local/")
    # Voice: Home Assistant's intents before the LLM, voices per language, wake word, Wyoming (billy.home_first,
    # billy.languages, billy.wakeword, billy.wyoming)
    ha_conversation: str = _setting("first", _choice("first", "llm", "off"))
    tts_voices: dict = _setting("", _voice_map)
    wake_word_enabled: bool = _setting("false", _boolean)
    wake_word_backend: str = _setting("microwakeword", _choice("microwakeword", "openwakeword"))
    wake_word_model: str = _setting("okay_nabu")
    wake_word_threshold: float = _setting("0", _number(float, 0, 1))
    wake_word_cooldown_seconds: float = _setting("4", _number(float, 0, 60))
    stt_wyoming_uri: str = _setting("", _wyoming_uri)
    tts_wyoming_uri: str = _setting("", _wyoming_uri)
    stt_wyoming_port: int = _setting("0", _number(int, 0, 65535))
    tts_wyoming_port: int = _setting("0", _number(int, 0, 65535))
    # The web page (billy web): its address, its first password (hashed on first use, then ignored), where the
    # unit env files and local overrides live, the largest upload, the commands it runs for service control
    billy_web_host: str = _setting("0.0.0.0")
    billy_web_port: int = _setting("80", _number(int, 1, 65535))
    billy_web_password: str = _setting("", secret=True)
    billy_config_dir: Path = _setting("/etc/billy", lambda n, r: Path(r.strip()))
    billy_web_max_upload_mb: int = _setting("200", _number(int, 1, 4096))
    billy_web_systemctl: str = _setting("systemctl")
    billy_web_journal_dir: str = _setting("")
    # The original's settings (issue 12): its run mode, log level and power commands; reboot as it runs it
    run_mode: str = _setting("normal", _choice("normal", "dory"))
    log_level: str = _setting("", _optional(_choice("debug", "verbose", "info", "warning", "error", "critical")))
    billy_mqtt_power_commands: bool = _setting("true", _boolean)
    billy_reboot_command: str = _setting("systemctl reboot")

    @property
    def logging_level(self) -> int:
        """LOG_LEVEL (the original's `verbose` is debug here), else DEBUG_MODE."""
        if self.log_level:
            return logging.DEBUG if self.log_level == "verbose" else getattr(logging, self.log_level.upper())
        return logging.DEBUG if self.debug_mode else logging.INFO

    @property
    def models_dir(self) -> Path:
        return self.billy_models_dir or self.billy_state_dir / "models"

    @property
    def stt_model_dir(self) -> Path:
        return self.billy_stt_model_dir or self.models_dir / self.local_stt_model

    @property
    def tts_voice_dir(self) -> Path:
        return self.billy_tts_voice_dir or self.models_dir

    @property
    def stt_url(self) -> str:
        return self.stt_base_url or f"http://{self.local_stt_host}:{self.local_stt_port}/v1"

    @property
    def tts_url(self) -> str:
        return self.tts_base_url or f"http://{self.local_tts_host}:{self.local_tts_port}/v1"

    @property
    def llm_url(self) -> str:
        return self.llm_base_url or f"http://{self.local_llm_host}:{self.local_llm_port}/v1"

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked, for logs and the doctor."""
        shown = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.metadata["secret"] and value:
                value = "***"
            shown[spec.name.upper()] = value
        return shown


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse every known variable from `environ` (default: the process environment).

    All bad values are reported together, so a user fixes the file once.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in fields(Settings):
        name = spec.name.upper()
        raw = environ.get(name, spec.metadata["default"])
        try:
            values[spec.name] = spec.metadata["parse"](name, raw)
        except ConfigError as error:
            problems.append(str(error))
    if not problems:
        _resolve_button(values, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return Settings(**values)


def _resolve_button(values: dict[str, Any], problems: list[str]) -> None:
    """The button on the wiring's pin unless BUTTON_PIN names another, never on a motor pin."""
    from billy.body.pins import wiring

    wired = wiring(values["billy_pins"], values["billy_model"])
    if values["button_pin"] is None:
        values["button_pin"] = wired.button
    elif values["button_pin"] in wired.motor_pins:
        problems.append(
            f"BUTTON_PIN={values['button_pin']} is a motor pin of the {wired.layout} wiring "
            f"(motor pins {', '.join(map(str, wired.motor_pins))}): use another pin, BILLY_PINS=legacy for the "
            f"v1 wiring, or leave it empty for the wiring's button ({wired.button})"
        )
