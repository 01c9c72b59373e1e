"""The web page's test bench: a real `billy web` process over a settings directory laid out as the role lays it
out, a real journal written by systemd-journal-remote, and systemctl replaced by a recorder (on this machine
there is no systemd to restart units; Molecule checks the real one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from billy.devtools.stack import ServiceProcess

PASSWORD = "gills-and-fins"
UNITS_MAP = {
    "BILLY_VOLUME": ["billy"],
    "LOCAL_TTS_VOICE": ["billy", "billy-tts"],
    "STT_COMPUTE_TYPE": ["billy-stt"],
    "MQTT_HOST": ["billy"],
    "BILLY_WEB_MAX_UPLOAD_MB": ["billy-web"],
}
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
# Records each call to a file and answers `is-active` as a running machine would.
SYSTEMCTL = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/systemctl.calls"
if [ "$1" = is-active ]; then shift; for unit in "$@"; do echo active; done; fi
"""


@dataclass
class WebStage:
    web: ServiceProcess
    config_dir: Path
    state_dir: Path
    calls: Path
    journal_dir: Path

    @property
    def url(self) -> str:
        return self.web.url

    def systemctl_calls(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []

    def restarts(self) -> list[str]:
        return [line for line in self.systemctl_calls() if line.startswith("restart")]

    def environment(self) -> dict[str, str]:
        """What a restarted billy.service reads: its env file, then local.env."""
        from billy.settings.local import read_env_file

        return {**read_env_file(self.config_dir / "billy.env"), **read_env_file(self.config_dir / "local.env")}


def write_journal(journal_dir: Path, entries: list[tuple[str, int, str]]) -> None:
    """Entries (unit, priority, message) into a real journal file, as journald would have them."""
    journal_dir.mkdir(parents=True, exist_ok=True)
    now = time.time_ns() // 1000
    export = ""
    for index, (unit, priority, message) in enumerate(entries):
        export += (
            f"__REALTIME_TIMESTAMP={now + index}\n__MONOTONIC_TIMESTAMP={now + index}\n"
            f"_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=billy\n"
            f"_SYSTEMD_UNIT={unit}.service\nPRIORITY={priority}\nMESSAGE={message}\n\n"
        )
    out = journal_dir / f"remote-{now}.journal"
    subprocess.run([JOURNAL_REMOTE, f"--output={out}", "-"], input=export.encode(), check=True, capture_output=True)


def start_web(
    root: Path, state_dir: Path, billy_env: dict[str, str] | None = None, web_env: dict[str, str] | None = None
) -> WebStage:
    """`billy web` over a settings directory whose billy.env holds `billy_env` (where Billy's services are);
    `web_env` is added to the web page's own environment (its web.env on the Pi)."""
    config_dir, bin_dir = root / "etc-billy", root / "bin"
    for folder in (config_dir, bin_dir, state_dir):
        folder.mkdir(parents=True, exist_ok=True)
    runtime = {"BILLY_STATE_DIR": str(state_dir), "BILLY_VOLUME": "80", "LOCAL_TTS_VOICE": "en_US-joe-medium"}
    # The Billy on this stage has the file-backed sound card and mock pins: the doctor checks those.
    runtime.update({"BILLY_AUDIO": "file", "BILLY_GPIO": "mock"})
    runtime.update(billy_env or {})
    (config_dir / "billy.env").write_text("".join(f'{name}="{value}"\n' for name, value in runtime.items()))
    (config_dir / "stt.env").write_text('STT_COMPUTE_TYPE="int8"\n')
    (config_dir / "settings-units.json").write_text(json.dumps(UNITS_MAP))
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(SYSTEMCTL)
    systemctl.chmod(0o755)
    journal = root / "journal"
    write_journal(journal, [("billy", 6, "Billy is ready (modern fish)"), ("billy-tts", 3, "voice file unreadable")])
    env = {
        "BILLY_STATE_DIR": str(state_dir),
        "BILLY_CONFIG_DIR": str(config_dir),
        "BILLY_WEB_SYSTEMCTL": str(systemctl),
        "BILLY_WEB_JOURNAL_DIR": str(journal),
        "BILLY_WEB_MAX_UPLOAD_MB": "2",
        "BILLY_OFFLINE": "1",  # models fetched from the page come from the PyPI packages that carry them
        **(web_env or {}),
    }
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)  # ServiceProcess hands the test's environment to the process
    try:
        web = ServiceProcess([sys.executable, "-m", "billy", "web"], "/api/health", root / "web.log")
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return WebStage(web, config_dir, state_dir, bin_dir / "systemctl.calls", journal)
