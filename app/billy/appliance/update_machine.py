"""The updater's view of the Pi: systemd restarts Billy's units, and health is what an owner would call working:
every unit active, none crashed since the restart, and the runtime answering on its control socket in a running
state (not `starting`, not `error`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from billy.appliance.control_client import ControlClient, ControlError, socket_path
from billy.appliance.states import STATES
from billy.settings.local import read_units_map
from billy.settings.schema import UNITS

RUNNING = tuple(state for state in STATES if state not in ("starting", "error"))
RUNTIME_UNIT = "billy.service"
# A release that cannot start crashes at every start; one failed start may be the machine's (a cgroup not yet
# removed, seen in nspawn machines). Two crashes since the restart end the wait at once.
CRASHES_THAT_DECIDE = 2


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
        for attempt in range(2):  # a start refused by the machine (status 219/CGROUP) gets a second chance
            done = subprocess.run(["systemctl", "restart", *self.units], capture_output=True, text=True, timeout=600)
            if done.returncode == 0:
                return
            if attempt == 0:
                time.sleep(self.pause * 2)
        raise RuntimeError(f"systemctl restart: {done.stderr.strip() or done.returncode}")

    def wait_healthy(self, seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        restarts = {unit: self._restarts(unit) for unit in self.units}
        while True:
            problem, final = self._problem(restarts)
            if problem is None or final or time.monotonic() >= deadline:
                return problem
            time.sleep(self.pause)

    def _problem(self, restarts: dict[str, int]) -> tuple[str | None, bool]:
        for unit in self.units:
            if self._restarts(unit) - restarts[unit] >= CRASHES_THAT_DECIDE:
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

    def _restarts(self, unit: str) -> int:
        counted = self._property(unit, "NRestarts")
        return int(counted) if counted.isdigit() else 0

    def _last_words(self, unit: str) -> str:
        """What the unit's own processes said last (systemd's lines about it are left out)."""
        done = subprocess.run(
            ["journalctl", f"_SYSTEMD_UNIT={unit}", "-n", "3", "-o", "cat", "--no-pager"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
        return " / ".join(lines)[-300:] or "no log"
