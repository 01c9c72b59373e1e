"""Every setting parsed: `Settings`, read from the environment by `load_settings` (`/etc/billy/billy.env`).

`Settings` has one attribute per setting of settings/schema.py, its variable's name in lower case
(`settings.mqtt_host` is MQTT_HOST), plus the few values that several settings make together. A bad value
raises ConfigError naming the variable, the value seen and what is allowed, so a unit stops with a clear
message; every bad value is reported at once, so a user fixes the file once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import make_dataclass
from pathlib import Path
from typing import Any

from billy.body.pins import wiring
from billy.settings.kinds import ConfigError
from billy.settings.schema import SCHEMA


class _Together:
    """What several settings make together; the attributes themselves come from the schema."""

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
        """The settings by name with secrets masked, for logs and the doctor."""
        shown = {}
        for setting in SCHEMA:
            value = getattr(self, setting.attribute)
            shown[setting.name] = "***" if setting.secret and value else value
        return shown


Settings = make_dataclass(
    "Settings",
    [(setting.attribute, setting.kind.python_type) for setting in SCHEMA],
    bases=(_Together,),
    frozen=True,
    namespace={"__doc__": "Every setting, parsed: one attribute per setting of the schema (MQTT_HOST: mqtt_host)."},
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse every setting from `environ` (default: the process environment); unset ones take their default."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in SCHEMA:
        try:
            values[setting.attribute] = setting.read(environ.get(setting.name, setting.default))
        except ConfigError as error:
            problems.append(str(error))
    if not problems:
        _resolve_button(values, problems)
    if problems:
        raise ConfigError("; ".join(problems))
    return Settings(**values)


# The settings one check spans: the button must not be on a motor pin of the wiring.
CROSS_CHECKED = ("BILLY_MODEL", "BILLY_PINS", "BUTTON_PIN")


def _resolve_button(values: dict[str, Any], problems: list[str]) -> None:
    """The button on the wiring's pin unless BUTTON_PIN names another, never on a motor pin."""
    wired = wiring(values["billy_pins"], values["billy_model"])
    if values["button_pin"] is None:
        values["button_pin"] = wired.button
    elif values["button_pin"] in wired.motor_pins:
        problems.append(
            f"BUTTON_PIN={values['button_pin']} is a motor pin of the {wired.layout} wiring "
            f"(motor pins {', '.join(map(str, wired.motor_pins))}): use another pin, BILLY_PINS=legacy for the "
            f"v1 wiring, or leave it empty for the wiring's button ({wired.button})"
        )
