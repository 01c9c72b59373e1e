"""Settings: the original `.env` names, defaults that work, and bad values named with what is allowed."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings


def test_defaults_point_at_the_local_services():
    settings = load_settings({})
    assert settings.stt_url == "http://127.0.0.1:5003/v1"
    assert settings.tts_url == "http://127.0.0.1:5002/v1"
    assert settings.llm_url == "http://127.0.0.1:11434/v1"
    assert settings.billy_model == "modern" and settings.billy_pins == "new" and settings.button_pin == 24


def test_original_env_names_are_read():
    settings = load_settings({"BILLY_MODEL": "Classic", "MQTT_HOST": "ha.local", "LOCAL_TTS_PORT": "6002"})
    assert settings.billy_model == "classic" and settings.mqtt_host == "ha.local"
    assert settings.tts_url == "http://127.0.0.1:6002/v1"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("BILLY_MODEL", "trout", "allowed values are modern, classic"),
        ("USE_LOCAL_MODELS", "maybe", "allowed values are 1, true"),
        ("MQTT_PORT", "eighty", "expected a whole number from 1 to 65535"),
        ("MIC_TIMEOUT_SECONDS", "-3", "out of range"),
        ("LLM_BASE_URL", "ollama:11434", "http://"),
    ],
)
def test_bad_values_name_the_variable_and_what_is_allowed(name, value, expected):
    with pytest.raises(ConfigError) as error:
        load_settings({name: value})
    assert f"{name}={value!r}" in str(error.value) and expected in str(error.value)


def test_secrets_are_masked():
    shown = load_settings({"MQTT_PASSWORD": "hunter2", "HA_TOKEN": "abc"}).redacted()
    assert shown["MQTT_PASSWORD"] == "***" and shown["HA_TOKEN"] == "***"


def test_cli_stops_on_a_bad_setting_with_the_message():
    env = {**os.environ, "BILLY_MODEL": "trout"}
    run = subprocess.run([sys.executable, "-m", "billy", "doctor"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "BILLY_MODEL='trout'" in run.stderr


def test_an_api_base_drops_its_slash_but_the_web_page_s_address_keeps_it():
    settings = load_settings({"HA_HOST": "http://ha.lan:8123/", "BILLY_WEB_URL": "http://billy.local:8080/"})
    assert settings.ha_host == "http://ha.lan:8123" and settings.billy_web_url == "http://billy.local:8080/"
