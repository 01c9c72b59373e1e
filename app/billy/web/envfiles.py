"""Billy's settings as the units see them: the role's env files under /etc/billy plus the local overrides.

The role renders one env file per unit (billy.env, stt.env, tts.env, web.env) and settings-units.json (which
units read each setting); the web page and the first-boot settings write local overrides to local.env, which
every unit reads last and Ansible never rewrites. Values are `KEY="value"` lines with `\\`, `"`, `$` and a
backquote escaped, the same quoting as the role's template.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

LOCAL_FILE = "local.env"
UNITS_FILE = "settings-units.json"
DEFAULT_UNITS = ("billy",)  # a setting the map does not name is the runtime's (billy_app_extra_env)
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_ESCAPED = re.compile(r"\\(.)")


def parse_env(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        name, raw = match.groups()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = _ESCAPED.sub(r"\1", raw[1:-1])
        values[name] = raw
    return values


def quote(value: str) -> str:
    return '"' + re.sub(r'([\\"$`])', r"\\\1", value) + '"'


def read_env(path: Path) -> dict[str, str]:
    try:
        return parse_env(path.read_text())
    except FileNotFoundError:
        return {}


def role_values(config_dir: Path) -> dict[str, str]:
    """What the inventory set, over every unit's file (local.env excluded)."""
    values: dict[str, str] = {}
    for path in sorted(config_dir.glob("*.env")):
        if path.name != LOCAL_FILE:
            values.update(read_env(path))
    return values


def read_overrides(config_dir: Path) -> dict[str, str]:
    return read_env(config_dir / LOCAL_FILE)


def write_overrides(config_dir: Path, overrides: dict[str, str]) -> None:
    """Atomically: a unit starting meanwhile reads the old file or the new one, never half of one."""
    lines = ["# Local overrides (the web page, first boot): every Billy unit reads this file last.", ""]
    lines[1:1] = [f"{name}={quote(value)}" for name, value in sorted(overrides.items())]
    handle, partial = tempfile.mkstemp(dir=config_dir, prefix=".local.env.")
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(lines) + "\n")
    os.chmod(partial, 0o640)
    os.replace(partial, config_dir / LOCAL_FILE)


def units_reading(config_dir: Path, names: set[str]) -> list[str]:
    """The units to restart after `names` changed, from the role's map."""
    try:
        readers = json.loads((config_dir / UNITS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        readers = {}
    units: set[str] = set()
    for name in names:
        units.update(readers.get(name, DEFAULT_UNITS))
    return sorted(units)
