"""The settings page: every setting of billy.config, grouped as an owner thinks of them, validated by the
app's own parser, saved as local overrides, and the list of units that must restart for the change."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from billy.settings.local import UNIT_ENV_FILES, apply_changes, check_value, read_env_file, read_overrides
from billy.settings.settings import ConfigError, Settings

GROUPS = {
    "Voice and models": [
        "LOCAL_TTS_VOICE", "LOCAL_STT_MODEL", "STT_LANGUAGE", "LOCAL_LLM_MODEL", "LLM_MAX_TOKENS",
        "BILLY_HISTORY_TURNS", "STT_COMPUTE_TYPE", "STT_BEAM_SIZE", "STT_THREADS",
        "TTS_THREADS",
    ],
    "Smart home": [
        "HA_HOST", "HA_TOKEN", "HA_LANG", "MQTT_HOST", "MQTT_PORT", "MQTT_USERNAME", "MQTT_PASSWORD", "MQTT_TLS",
        "MQTT_CA_CERT", "MQTT_TOPIC_PREFIX", "MQTT_DISCOVERY_PREFIX", "MQTT_DEVICE_NAME", "BILLY_WEB_URL",
    ],
    "Hardware": [
        "BILLY_MODEL", "BUTTON_PIN", "BILLY_VOLUME", "MIC_PREFERENCE", "SPEAKER_PREFERENCE", "BILLY_AUDIO",
        "BILLY_GPIO",
    ],
    "Listening": [
        "MIC_TIMEOUT_SECONDS", "SILENCE_THRESHOLD", "VAD_THRESHOLD", "END_OF_SPEECH_MS", "MAX_UTTERANCE_SECONDS",
        "CHUNK_MS",
    ],
    "Hybrid and cloud": [
        "USE_LOCAL_MODELS", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_BASE_URL", "VOICE", "LLM_FALLBACK",
        "STT_FALLBACK", "TTS_FALLBACK", "LLM_BASE_URL", "STT_BASE_URL", "TTS_BASE_URL", "LOCAL_LLM_HOST",
        "LOCAL_LLM_PORT", "LOCAL_STT_HOST", "LOCAL_STT_PORT", "LOCAL_TTS_HOST", "LOCAL_TTS_PORT",
        "LLM_TIMEOUT_SECONDS", "STAGE_TIMEOUT_SECONDS",
    ],
    "Behaviour": ["DEBUG_MODE", "TEXT_ONLY_MODE", "ALLOW_UPDATE_PERSONALITY_INI"],
}  # fmt: skip
OTHER_GROUP = "Everything else"
# Shown, never edited here: commands the units run, paths, and the password (which has its own page). Editing
# them from a browser would turn a web session into running any command as Billy's user.
READ_ONLY = {
    "BILLY_SHUTDOWN_COMMAND",
    "BILLY_RESTART_COMMAND",
    "BILLY_WEB_SYSTEMCTL",
    "BILLY_WEB_JOURNAL_DIR",
    "BILLY_CONFIG_DIR",
    "BILLY_STATE_DIR",
    "BILLY_WEB_PASSWORD",
}
RESET_PREFIX = "reset__"


@dataclass
class Field:
    name: str
    value: str
    default: str
    secret: bool
    local: bool  # overridden on this machine (local.env)
    read_only: bool


def _specs() -> dict[str, dict]:
    return {spec.name.upper(): spec.metadata for spec in fields(Settings)}


def role_values(config_dir: Path) -> dict[str, str]:
    """What the inventory set, over every unit's file."""
    values: dict[str, str] = {}
    for name in reversed(UNIT_ENV_FILES):  # billy.env wins, as `billy settings show` reports
        values.update(read_env_file(config_dir / name))
    return values


def effective(config_dir: Path) -> dict[str, str]:
    return {**role_values(config_dir), **read_overrides(config_dir)}


def grouped(config_dir: Path) -> dict[str, list[Field]]:
    specs, values, local = _specs(), effective(config_dir), read_overrides(config_dir)
    placed = {name for names in GROUPS.values() for name in names}
    layout = {**GROUPS, OTHER_GROUP: [name for name in specs if name not in placed]}
    return {
        group: [
            Field(
                name,
                "" if specs[name]["secret"] else values.get(name, specs[name]["default"]),
                specs[name]["default"],
                specs[name]["secret"],
                name in local,
                name in READ_ONLY,
            )
            for name in names
            if name in specs
        ]
        for group, names in layout.items()
    }


def is_secret_set(config_dir: Path, name: str) -> bool:
    return bool(effective(config_dir).get(name))


@dataclass
class SaveResult:
    changed: list[str]
    units: list[str]


def save(config_dir: Path, form: dict[str, str]) -> SaveResult:
    """Apply a submitted settings form, all or nothing: ConfigError (the parser's words) if any value is bad."""
    specs, values, local = _specs(), effective(config_dir), read_overrides(config_dir)
    changes: dict[str, str | None] = {}
    for key, raw in form.items():
        if key.startswith(RESET_PREFIX):
            name = key.removeprefix(RESET_PREFIX)
            if name in local:
                changes[name] = None  # back to the inventory's value
            continue
        if key == "csrf" or key in READ_ONLY or key in changes:
            continue
        if key not in specs:
            raise ConfigError(f"{key} is not a setting Billy knows")
        if specs[key]["secret"] and raw == "":
            continue  # write-only: an empty box keeps the secret
        if raw != values.get(key, specs[key]["default"]):
            changes[key] = raw
    problems = [problem for name, raw in changes.items() if raw is not None and (problem := check_value(name, raw))]
    if problems:
        raise ConfigError("; ".join(problem.split("; ignored it")[0] for problem in problems))
    result = apply_changes(changes, config_dir, source="web page")
    return SaveResult(sorted(result.changed), result.units)
