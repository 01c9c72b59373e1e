"""The settings page: every setting of the schema in its group, with its label, description and allowed values;
what a browser may change is the schema's allow-list (`Setting.web`), and only what it offers.

A save is all or nothing: each value is read by the setting's own kind, a setting the browser may not change
refuses the whole form (a normal page never sends one: those fields are shown, not editable), and a secret stays
with the host it was typed for (changing HA_HOST needs HA_TOKEN typed again). Good values become local
overrides, and the answer names the units that read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from billy.hearing.own_wake_words import own_wake_models
from billy.models.catalogue import load_catalogue
from billy.settings.kinds import ConfigError, Flag
from billy.settings.local import apply_changes, check_value, effective_values, may_set, read_overrides
from billy.settings.read import Settings, load_settings
from billy.settings.schema import BY_NAME, GROUPS, SCHEMA, Offer, Setting

RESET_PREFIX = "reset__"


@dataclass
class Field:
    setting: Setting
    value: str  # "" for a secret: it is write-only
    local: bool  # overridden on this machine (local.env)
    choices: tuple[str, ...]  # a dropdown's options; empty: a text box

    @property
    def editable(self) -> bool:
        return self.setting.web

    @property
    def flag(self) -> bool:
        return isinstance(self.setting.kind, Flag)


def offered(setting: Setting, settings: Settings, current: str) -> tuple[str, ...]:
    """What the page offers for `setting`: its kind's choices, or what is on this Billy; always the value now."""
    choices = setting.kind.choices()
    if setting.offer is Offer.VOICES:
        installed = (path.stem for path in settings.tts_voice_dir.rglob("*.onnx")) if settings.tts_voice_dir else ()
        choices = (*_catalogue("piper"), *installed)
    elif setting.offer is Offer.WAKE_MODELS:
        choices = (*choices, *(str(path) for path in own_wake_models(settings.billy_state_dir)))
    elif setting.offer is Offer.STT_MODELS:
        folder = settings.models_dir
        installed = (path.parent.name for path in folder.glob("*/model.bin")) if folder.is_dir() else ()
        choices = (*_catalogue("whisper"), *installed)
    if choices and current not in choices:
        choices = (*choices, current)
    return tuple(dict.fromkeys(choices))


def _catalogue(kind: str) -> list[str]:
    return [entry.name for entry in load_catalogue().values() if entry.kind == kind]


def _settings_of(values: Mapping[str, str]) -> Settings:
    """The settings in force, for what the page offers; the defaults if those do not parse."""
    try:
        return load_settings(values)
    except ConfigError:
        return load_settings({})


def grouped(config_dir: Path) -> dict[str, list[Field]]:
    values, local = effective_values(config_dir), read_overrides(config_dir)
    settings = _settings_of(values)
    groups: dict[str, list[Field]] = {group: [] for group in GROUPS}
    for setting in SCHEMA:
        current = values.get(setting.name, setting.default)
        choices = offered(setting, settings, current) if setting.web else ()
        shown = "" if setting.secret else current
        groups[setting.group].append(Field(setting, shown, setting.name in local, choices))
    return groups


def secrets_set(config_dir: Path) -> set[str]:
    values = effective_values(config_dir)
    return {setting.name for setting in SCHEMA if setting.secret and values.get(setting.name)}


@dataclass
class SaveResult:
    changed: list[str]
    units: list[str]


def save(config_dir: Path, form: Mapping[str, str]) -> SaveResult:
    """Apply a submitted settings form, all or nothing: ConfigError naming every refused value."""
    values, local = effective_values(config_dir), read_overrides(config_dir)
    changes = _changes(form, values, local)
    problems = _refusals(changes, form, values)
    if problems:
        raise ConfigError("; ".join(problems))
    result = apply_changes(changes, config_dir, source="web page", web=True)
    return SaveResult(sorted(result.changed), result.units)


def _changes(form: Mapping[str, str], values: Mapping[str, str], local: Mapping[str, str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for key, raw in form.items():
        name = key.removeprefix(RESET_PREFIX)
        if key == "csrf":
            continue
        setting = BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{name} is not a setting Billy knows")
        if refused := may_set(setting, web=True):
            raise ConfigError(refused)
        if key.startswith(RESET_PREFIX):
            if name in local:
                changes[name] = None  # back to the inventory's value
        elif setting.secret and raw == "":
            continue  # an empty secret box keeps the secret
        elif name not in changes and not _same(setting, raw, values.get(name, setting.default)):
            changes[name] = raw
    return changes


def _same(setting: Setting, raw: str, current: str) -> bool:
    """The form sends every field: one that means what is in force (`true` for `1`) changes nothing."""
    if raw == current:
        return True
    try:
        return setting.read(raw) == setting.read(current)
    except ConfigError:
        return False


def _refusals(changes: Mapping[str, str | None], form: Mapping[str, str], values: Mapping[str, str]) -> list[str]:
    settings = _settings_of(values)
    context = {**values, **{name: value for name, value in changes.items() if value is not None}}
    problems = []
    for name, value in changes.items():
        if value is None:
            continue
        setting = BY_NAME[name]
        choices = offered(setting, settings, values.get(name, setting.default))
        if choices and value not in choices:
            problems.append(f"{name}={value!r:.60} is not one of the choices offered: {', '.join(choices)}")
        elif problem := check_value(name, value, web=True, context=context):
            problems.append(problem)
    for secret in SCHEMA:
        moved = [name for name in secret.secret_for if name in changes]
        if moved and values.get(secret.name) and not form.get(secret.name):
            problems.append(
                f"changing {' and '.join(moved)} would send {secret.name} somewhere new: type {secret.name} again "
                "with it (a secret only goes where it was typed for)"
            )
    return problems
