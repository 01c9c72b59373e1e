"""Local overrides of Billy's settings: one file, `/etc/billy/local.env`, that every Billy unit reads last.

Ansible renders one environment file per unit and never touches `local.env`, so what a user sets on the Pi
itself (a `billy.env` on the boot partition, the web page) survives the next playbook run. What each of them may
set is the schema's allow-list (`Setting.boot`, `Setting.web`); each value is read by its own kind before
anything is written, the file is replaced atomically, and the answer names the units that read the changed
settings (`settings-units.json`, rendered by the role from the same schema), so only those restart. Secret
values never appear in a message.
"""

from __future__ import annotations

import difflib
import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from billy.settings.envfile import env_text, parse_env_text, quote, read_env_file, write_env_file
from billy.settings.kinds import ConfigError
from billy.settings.read import CROSS_CHECKED, load_settings
from billy.settings.schema import BY_NAME, SECRET_NAMES, Setting

CONFIG_DIR = Path("/etc/billy")
LOCAL_ENV = "local.env"
UNITS_MAP = "settings-units.json"
# A setting the map does not name (the role renders every one it knows) restarts the runtime alone.
DEFAULT_UNITS = ("billy",)
# The per-unit files the role renders, in the order `billy settings show` reports where a value comes from.
UNIT_ENV_FILES = ("billy.env", "stt.env", "tts.env", "web.env")
# A file that some lines of failed to apply: the good ones did, the command tells its caller with this code.
EXIT_SOME_REJECTED = 65
HEADER = (
    "# Billy's local settings (boot partition billy.env, web page): they win over the files Ansible writes.\n"
    "# Change them with `billy settings apply FILE`; `billy_app_reset_local_settings: true` removes them.\n"
)


@dataclass
class ApplyResult:
    """What an apply did: names changed, names already so, messages, and the units that read a changed name."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)


def shown(name: str, value: str) -> str:
    """`NAME="value"` for a message, with a secret's value masked."""
    return f"{name}=***" if name in SECRET_NAMES and value else f"{name}={quote(value)}"


def read_overrides(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """The local overrides now in force."""
    return read_env_file(config_dir / LOCAL_ENV)


def role_values(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """What the inventory set, over every unit's file (billy.env wins, as `billy settings show` reports)."""
    values: dict[str, str] = {}
    for name in reversed(UNIT_ENV_FILES):
        values.update(read_env_file(config_dir / name))
    return values


def effective_values(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """The text of every setting a unit would be started with now: the inventory's, then the local ones."""
    return {**role_values(config_dir), **read_overrides(config_dir)}


def read_units_map(config_dir: Path = CONFIG_DIR) -> dict[str, list[str]]:
    """Which units read each setting, as the role rendered it; empty when it is not there (not provisioned)."""
    try:
        return json.loads((config_dir / UNITS_MAP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def units_to_restart(names: list[str], units_map: Mapping[str, list[str]]) -> list[str]:
    """The units that read any of `names`, each once, in a stable order."""
    units: set[str] = set()
    for name in names:
        units.update(units_map.get(name, DEFAULT_UNITS))
    return sorted(units)


def may_set(setting: Setting, web: bool) -> str | None:
    """Why the web page (`web`) or a billy.env file may not set `setting`; None when it may."""
    if setting.web or (setting.boot and not web):
        return None
    where = "the web page" if web else "a billy.env file"
    if setting.boot:
        return f"{setting.name} cannot be changed from {where}: set it in the boot partition's billy.env"
    return f"{setting.name} cannot be changed from {where}: it is set in the Ansible inventory ({setting.variable})"


def check_value(name: str, value: str, web: bool = False, context: Mapping[str, str] | None = None) -> str | None:
    """The problem with `NAME=value` in the app's own words (None if it is fine); a secret is never echoed.

    `web`: the web page asks, whose allow-list is shorter than a billy.env file's. `context`: the other values in
    force, for the checks that span settings (the button against the wiring's motor pins).
    """
    setting = BY_NAME.get(name)
    if setting is None:
        close = difflib.get_close_matches(name.upper(), BY_NAME, n=1)
        return f"{name} is not a Billy setting" + (f" (did you mean {close[0]}?)" if close else "")
    if refused := may_set(setting, web):
        return refused
    context = context or {}
    try:
        setting.read(value)
        if name in CROSS_CHECKED:
            load_settings({**{key: context[key] for key in CROSS_CHECKED if key in context}, name: value})
    except ConfigError as error:
        message = str(error)
        if setting.secret:
            message = message.replace(repr(value), "***").replace(repr(value.strip()), "***")
        return f"{message}; {name} keeps its value"
    return None


def write_overrides(values: Mapping[str, str], config_dir: Path = CONFIG_DIR) -> None:
    """Replace local.env atomically; ConfigError, and nothing written, if a value could escape its line."""
    write_env_file(config_dir / LOCAL_ENV, env_text(values, HEADER))


def apply_changes(
    changes: Mapping[str, str | None], config_dir: Path = CONFIG_DIR, source: str = "settings", web: bool = False
) -> ApplyResult:
    """Check each change on its own and write the good ones at once (None removes an override)."""
    context = effective_values(config_dir)
    good: dict[str, str | None] = {}
    problems = []
    for name, value in changes.items():
        problem = None if value is None else check_value(name, value, web, context)
        if problem:
            problems.append(f"{source}: {problem}; ignored it")
        else:
            good[name] = value
    result = _merge(good, config_dir)
    result.problems[:0] = problems
    return result


def apply_file(path: Path, config_dir: Path = CONFIG_DIR) -> ApplyResult:
    """Apply a `billy.env`: every good line, each bad one named in a message; the last of a repeated name wins."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    parsed = parse_env_text(text, path.name)
    context = effective_values(config_dir)
    good: dict[str, str | None] = {}
    problems = list(parsed.problems)
    if "\ufffd" in text:
        problems.append(f"{path.name}: is not UTF-8 text; save it as UTF-8 (letters outside ASCII were garbled)")
    for line in parsed.lines:
        problem = check_value(line.name, line.value, context={**context, **good})
        if problem:
            problems.append(f"{path.name} line {line.number}: {problem}; ignored it")
        else:
            good[line.name] = line.value
    result = _merge(good, config_dir)
    result.problems[:0] = problems
    result.notes[:0] = parsed.notes
    return result


def _merge(good: Mapping[str, str | None], config_dir: Path) -> ApplyResult:
    result = ApplyResult()
    current = read_overrides(config_dir)
    wanted = dict(current)
    for name, value in good.items():
        if value is None:
            wanted.pop(name, None)
        else:
            wanted[name] = result.accepted[name] = value
        if wanted.get(name) != current.get(name):
            result.changed.append(name)
        elif value is not None:
            result.unchanged.append(name)
    if result.changed:
        write_overrides(wanted, config_dir)
    result.units = units_to_restart(result.changed, read_units_map(config_dir))
    return result


def restart_units(units: list[str]) -> None:
    """Restart the units that are running (`try-restart`): at boot, before they start, this restarts nothing.

    Queued without waiting: the boot-time caller is ordered before these units, so waiting could deadlock.
    """
    if units:
        units = [f"{unit}.service" for unit in units]
        subprocess.run(["systemctl", "--no-block", "try-restart", *units], check=True)


def effective_settings(config_dir: Path = CONFIG_DIR) -> list[tuple[str, str, str]]:
    """(NAME, value as shown, where it comes from) for every setting: local.env, a unit's file, or the default."""
    sources: list[tuple[str, dict[str, str]]] = [(LOCAL_ENV, read_overrides(config_dir))]
    sources += [(name, read_env_file(config_dir / name)) for name in UNIT_ENV_FILES]
    rows = []
    for name, setting in BY_NAME.items():
        origin, value = "default", setting.default
        for file_name, values in sources:
            if name in values:
                origin, value = file_name, values[name]
                break
        rows.append((name, shown(name, value).split("=", 1)[1], origin))
    return rows


def scrub_boot_file(path: Path, result: ApplyResult) -> Path:
    """Take a world-readable boot-partition `billy.env` off the card once applied, leaving a record.

    The record, `<name>.applied`, keeps what the user can read back without harm: the non-secret values that
    applied and every message; the original's bytes are overwritten before it is deleted, since deleting a file
    on FAT leaves its data in place.
    """
    record = path.with_name(path.name + ".applied")
    lines = [f"# Applied to Billy at boot. Secrets were moved off this card. Put a new {path.name} here to change."]
    lines += [f"# NOTE {message}" for message in result.notes]
    lines += [f"# PROBLEM {message}" for message in result.problems]
    lines += [
        f"{name}=" + ("(secret, stored on Billy)" if name in SECRET_NAMES else quote(value))
        for name, value in result.accepted.items()
    ]
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    size = path.stat().st_size
    with path.open("r+b") as stream:
        stream.write(b"\0" * size)
        stream.flush()
        os.fsync(stream.fileno())
    path.unlink()
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return record
