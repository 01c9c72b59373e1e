"""The updater's view of the Pi: systemd restarts Billy's units, and health is what an owner would call working:
every unit active, none crashed since the restart, and the runtime answering on its control socket in a running
state (not `starting`, not `error`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from billy.appliance.control import ControlClient, ControlError, socket_path
from billy.appliance.states import STATES
from billy.settings.local import read_units_map
from billy.settings.schema import UNITS

RUNNING = tuple(state for state in STATES if state not in ("starting", "error"))
RUNTIME_UNIT = "billy.service"


def units_of_this_machine(config_dir: Path) -> list[str]:
    """Billy's units here, as the role rendered them (settings-units.json), runtime last."""
    readers = read_units_map(config_dir)
    units = sorted({unit for names in readers.values() for unit in names}) or list(UNITS)
    return [f"{unit}.service" for unit in sorted(units, key=lambda unit: unit == "billy")]


class SystemdMachine:
    def __init__(self, units: list[str], state_dir: Path, pause: float = 2.0) -> None:
        self.units = units
        self.control = ControlClient(socket_path(state_dir), timeout=5)
        self.pause = pause

    def restart(self) -> None:
        done = subprocess.run(["systemctl", "restart", *self.units], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"systemctl restart: {done.stderr.strip() or done.returncode}")

    def wait_healthy(self, seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        restarts = {unit: self._property(unit, "NRestarts") for unit in self.units}
        while True:
            problem, final = self._problem(restarts)
            if problem is None or final or time.monotonic() >= deadline:
                return problem
            time.sleep(self.pause)

    def _problem(self, restarts: dict[str, str]) -> tuple[str | None, bool]:
        for unit in self.units:
            if self._property(unit, "NRestarts") != restarts[unit]:
                return f"{unit} crashed: {self._last_words(unit)}", True
            state = self._property(unit, "ActiveState")
            if state == "failed":
                return f"{unit} failed: {self._last_words(unit)}", True
            if state != "active":
                return f"{unit} is {state}", False
        if RUNTIME_UNIT not in self.units:
            return None, True
        try:
            state = self.control.request("status").get("state")
        except ControlError as error:
            return str(error), False
        if state in RUNNING:
            return None, True
        return f"Billy is {state}", False

    def _property(self, unit: str, name: str) -> str:
        done = subprocess.run(
            ["systemctl", "show", "--value", "-p", name, unit], capture_output=True, text=True, timeout=30
        )
        return done.stdout.strip()

    def _last_words(self, unit: str) -> str:
        done = subprocess.run(
            ["journalctl", "-u", unit, "-n", "3", "-o", "cat", "--no-pager"], capture_output=True, text=True, timeout=30
        )
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        return " / ".join(lines)[-300:] or "no log"
