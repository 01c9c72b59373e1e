"""The machine under the web page: service control through systemctl (polkit allows exactly Billy's units to
Billy's user, never sudo), the journal of Billy's units, CPU load, temperature and memory."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from billy.settings.schema import UNITS

LEVELS = {"error": 3, "warning": 4, "info": 6, "debug": 7}
POWER_VERBS = ("reboot", "poweroff")
UPDATE_UNIT = "billy-update.service"


class ServiceControlError(RuntimeError):
    """systemctl refused or failed; the message carries its words."""


class Services:
    def __init__(self, systemctl: str) -> None:
        self.systemctl = shlex.split(systemctl)

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.systemctl, *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise ServiceControlError(f"systemctl {' '.join(args)}: {done.stderr.strip() or done.returncode}")

    def restart(self, units: list[str]) -> None:
        unknown = [unit for unit in units if unit not in UNITS]
        if unknown:
            raise ServiceControlError(f"not one of Billy's units: {', '.join(unknown)}")
        if units:
            # --no-block: the page answers at once; billy-web restarting itself would otherwise cut its reply
            self._run("restart", "--no-block", *(f"{unit}.service" for unit in units))

    def start_update(self) -> None:
        """billy-update.service (polkit lets Billy's user start exactly it): installs what the feed offers."""
        self._run("start", "--no-block", UPDATE_UNIT)

    def power(self, verb: str) -> None:
        if verb not in POWER_VERBS:
            raise ServiceControlError(f"{verb!r}: expected {' or '.join(POWER_VERBS)}")
        self._run(verb)

    def states(self) -> dict[str, str]:
        done = subprocess.run(
            [*self.systemctl, "is-active", *(f"{unit}.service" for unit in UNITS)],
            capture_output=True,
            text=True,
            timeout=10,
        )
        words = (done.stdout.split() + ["unknown"] * len(UNITS))[: len(UNITS)]
        return dict(zip(UNITS, words, strict=True))


@dataclass
class LogLine:
    time: str
    unit: str
    level: str
    message: str
    cursor: str = ""  # journald's position of the entry: the live view goes on from the last one shown

    def text(self) -> str:
        return f"{self.time} {self.unit} {self.level}: {self.message}"


def check_log_filter(unit: str, level: str) -> None:
    """ValueError naming what is allowed, unless `unit` is one of Billy's (or empty) and `level` a known one."""
    if unit and unit not in UNITS:
        raise ValueError(f"not one of Billy's units: {unit!r:.60}; the units are {', '.join(UNITS)}")
    if level and level not in LEVELS:
        raise ValueError(f"unknown level {level!r:.60}: one of {', '.join(LEVELS)}")


def journal_command(
    journal_dir: str, units: list[str], level: str, lines: int, follow: bool, after: str = "", since: float = 0
) -> list[str]:
    """`after` (a cursor) or `since` (a UNIX time) start a live view where the page left off, so an entry
    written between the page and its stream is neither lost nor shown twice; else the last `lines` entries."""
    command = ["journalctl", "--output=json", "--no-pager"]
    if after:
        command.append(f"--after-cursor={after}")
    elif since:
        command.append(f"--since=@{since:.6f}")
    else:
        command.append(f"--lines={lines}")
    if journal_dir:
        command.append(f"--directory={journal_dir}")
    for unit in units or UNITS:
        check_log_filter(unit, level)
        command.append(f"--unit={unit}.service")
    if level:
        command.append(f"--priority={LEVELS[level]}")
    if follow:
        command.append("--follow")
    return command


def parse_journal_line(raw: str) -> LogLine | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    micros = int(entry.get("__REALTIME_TIMESTAMP", 0))
    stamp = datetime.fromtimestamp(micros / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")
    names = {number: name for name, number in LEVELS.items()}
    priority = int(entry.get("PRIORITY", 6))
    level = names.get(priority, "error" if priority < 3 else "notice" if priority == 5 else "info")
    message = entry.get("MESSAGE", "")
    if isinstance(message, list):  # journald sends non-UTF-8 messages as a byte array
        message = bytes(message).decode(errors="replace")
    unit = str(entry.get("_SYSTEMD_UNIT", entry.get("UNIT", ""))).removesuffix(".service")
    return LogLine(stamp, unit, level, message, str(entry.get("__CURSOR", "")))


def read_journal(journal_dir: str, units: list[str], level: str, lines: int = 200) -> list[LogLine]:
    done = subprocess.run(
        journal_command(journal_dir, units, level, lines, follow=False), capture_output=True, text=True, timeout=30
    )
    parsed = (parse_journal_line(raw) for raw in done.stdout.splitlines())
    return [line for line in parsed if line is not None]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_figures() -> dict:
    """CPU load (1 min average) and cores, SoC temperature, memory in use: the dashboard's health row."""
    load = _read("/proc/loadavg").split()
    cores = os.cpu_count() or 1
    temp = _read("/sys/class/thermal/thermal_zone0/temp").strip()
    memory = {}
    for line in _read("/proc/meminfo").splitlines():
        name, _, rest = line.partition(":")
        memory[name] = int(rest.split()[0]) if rest.split() else 0
    total, available = memory.get("MemTotal", 0), memory.get("MemAvailable", 0)
    return {
        "load": float(load[0]) if load else None,
        "cores": cores,
        "temperature_c": round(int(temp) / 1000, 1) if temp.isdigit() else None,
        "memory_percent": round((total - available) / total * 100) if total else None,
        "memory_mb": round((total - available) / 1024) if total else None,
    }
