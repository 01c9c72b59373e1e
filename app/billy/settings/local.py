"""Local overrides of Billy's settings: one file, `/etc/billy/local.env`, that every Billy unit reads last.

Ansible renders one environment file per unit and never touches `local.env`, so what a user sets on the Pi
itself (a `billy.env` on the boot partition, the web page) survives the next playbook run. Proposed changes are
checked by the app's own parser (`config.load_settings`), written atomically, and answered with the units that
read them (`settings-units.json`, rendered by the role from the same map as the env files), so only those
restart. Secret values never appear in a message.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from billy.settings.settings import ConfigError, Settings, load_settings

CONFIG_DIR = Path("/etc/billy")
LOCAL_ENV = "local.env"
UNITS_MAP = "settings-units.json"
# The runtime reads every setting (its env file also carries the inventory's extra ones): a setting the map
# does not name restarts it alone.
DEFAULT_UNITS = ("billy",)
# The per-unit files the role renders, in the order `billy settings show` reports where a value comes from.
UNIT_ENV_FILES = ("billy.env", "stt.env", "tts.env", "web.env")
# A file that some lines of failed to apply: the good ones did, the command tells its caller with this code.
EXIT_SOME_REJECTED = 65

KNOWN = {spec.name.upper(): spec for spec in fields(Settings)}
SECRET_NAMES = frozenset(name for name, spec in KNOWN.items() if spec.metadata["secret"])
_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")
_ESCAPED = re.compile(r"\\(.)")


@dataclass(frozen=True)
class EnvLine:
    """One `NAME=value` line of an env file, with where it was for messages."""

    number: int
    name: str
    value: str


@dataclass
class ParsedEnv:
    lines: list[EnvLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
    return f"{name}=***" if name in SECRET_NAMES and value else f"{name}={_quote(value)}"


def _quote(value: str) -> str:
    # The role's quoting (unit.env.j2), which both systemd's EnvironmentFile= and a POSIX shell read back.
    for char in ("\\", '"', "$", "`"):
        value = value.replace(char, "\\" + char)
    return f'"{value}"'


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return _ESCAPED.sub(r"\1", raw[1:-1])
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1]
    # Unquoted: a comment after blanks ends the value, as people write them (`MQTT_PORT=1883  # my broker`).
    return re.split(r"\s+#", raw, maxsplit=1)[0]


def parse_env_text(text: str, source: str = "settings") -> ParsedEnv:
    """Read `NAME=value` lines; a UTF-8 byte order mark or Windows line ends are read anyway, with a note."""
    parsed = ParsedEnv()
    if text.startswith("\ufeff"):
        text = text[1:]
        parsed.notes.append(
            f"{source}: starts with a UTF-8 byte order mark (an editor such as Notepad adds one); "
            "ignored it, the settings were read"
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        parsed.notes.append(f"{source}: has Windows (CRLF) line ends; read them as plain line ends")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            # The line may hold a secret: say where it is, never what it says.
            parsed.problems.append(f"{source} line {number}: not a NAME=value line; ignored it")
            continue
        parsed.lines.append(EnvLine(number, match["name"], _unquote(match["value"])))
    return parsed


def read_env_file(path: Path) -> dict[str, str]:
    """The values of an env file (the last one wins for a repeated name); an absent file is empty."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    return {line.name: line.value for line in parse_env_text(text, path.name).lines}


def read_overrides(config_dir: Path = CONFIG_DIR) -> dict[str, str]:
    """The local overrides now in force."""
    return read_env_file(config_dir / LOCAL_ENV)


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


def check_value(name: str, value: str) -> str | None:
    """The problem with `NAME=value` in the app's own words (None if it is fine); a secret is never echoed."""
    if name not in KNOWN:
        close = difflib.get_close_matches(name.upper(), KNOWN, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{name} is not a Billy setting{hint}; ignored it"
    try:
        load_settings({name: value})
    except ConfigError as error:
        message = str(error)
        if name in SECRET_NAMES:
            message = message.replace(repr(value), "***")
        return f"{message}; ignored it, {name} keeps its value"
    return None


def write_overrides(values: Mapping[str, str], config_dir: Path = CONFIG_DIR) -> None:
    """Replace local.env atomically: readers see the old file or the new one, never half of it."""
    path = config_dir / LOCAL_ENV
    body = "".join(f"{name}={_quote(value)}\n" for name, value in sorted(values.items()))
    text = (
        "# Billy's local settings (boot partition billy.env, web page): they win over the files Ansible writes.\n"
        "# Change them with `billy settings apply FILE`; `billy_app_reset_local_settings: true` removes them.\n"
    ) + body
    # It may hold secrets: readable by root and the group of the settings directory (billy) only.
    try:
        owner = path.stat()
        uid, gid = owner.st_uid, owner.st_gid
    except FileNotFoundError:
        uid, gid = os.getuid(), config_dir.stat().st_gid
    handle, scratch = tempfile.mkstemp(prefix=".local.env.", dir=config_dir)
    try:
        os.fchmod(handle, 0o640)
        if os.getuid() == 0:
            os.fchown(handle, uid, gid)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def apply_changes(
    changes: Mapping[str, str | None], config_dir: Path = CONFIG_DIR, source: str = "settings"
) -> ApplyResult:
    """Check each change on its own and write the good ones at once (None removes an override)."""
    good: dict[str, str | None] = {}
    problems = []
    for name, value in changes.items():
        problem = None if value is None else check_value(name, value)
        if problem:
            problems.append(f"{source}: {problem}")
        else:
            good[name] = value
    result = _merge(good, config_dir)
    result.problems[:0] = problems
    return result


def apply_file(path: Path, config_dir: Path = CONFIG_DIR) -> ApplyResult:
    """Apply a `billy.env`: every good line, each bad one named in a message; the last of a repeated name wins."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    parsed = parse_env_text(text, path.name)
    good: dict[str, str | None] = {}
    problems = list(parsed.problems)
    if "\ufffd" in text:
        problems.append(f"{path.name}: is not UTF-8 text; save it as UTF-8 (letters outside ASCII were garbled)")
    for line in parsed.lines:
        problem = check_value(line.name, line.value)
        if problem:
            problems.append(f"{path.name} line {line.number}: {problem}")
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
    for name, spec in KNOWN.items():
        origin, value = "default", spec.metadata["default"]
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
        f"{name}=" + ("(secret, stored on Billy)" if name in SECRET_NAMES else _quote(value))
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
