"""Env files (`NAME=value` lines): read as people write them, written so that no value can escape its line.

The quoting is the role's (templates/unit.env.j2), which both systemd's `EnvironmentFile=` and a POSIX shell
read back. A value with a control character is refused before anything is written: a newline would otherwise
start a line of its own, which every reader takes for a second setting.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from billy.settings.kinds import refuse_control_characters

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


def quote(value: str) -> str:
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
    if "\r" in text:  # systemd's EnvironmentFile= ends a line at a lone CR too: read what systemd reads
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


def env_text(values: Mapping[str, str], header: str = "") -> str:
    """The text of an env file holding `values`, one quoted line each: ConfigError if a value could escape it."""
    for name, value in values.items():
        refuse_control_characters(name, value)
    return header + "".join(f"{name}={quote(value)}\n" for name, value in sorted(values.items()))


def write_env_file(path: Path, text: str) -> None:
    """Replace `path` atomically (readers see the old file or the new one), mode 0640, keeping its owner.

    It may hold secrets: readable by root and the group of its directory (billy) only.
    """
    try:
        owner = path.stat()
        uid, gid = owner.st_uid, owner.st_gid
    except FileNotFoundError:
        uid, gid = os.getuid(), path.parent.stat().st_gid
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
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
