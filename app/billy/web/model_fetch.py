"""Fetching a catalogue model from the web page: `billy models fetch` in the background (the same checked
download as on the command line), its progress read from the files arriving in the model's folder."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from billy.models.catalogue import find_model


@dataclass
class FetchState:
    name: str
    running: bool
    files_done: int
    files_total: int
    megabytes: float
    message: str  # the command's last line when it ended


class ModelFetches:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, models_dir: Path) -> None:
        find_model(name)  # an unknown name is refused here, with the catalogue's names
        if name in self._running and self._running[name].poll() is None:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"fetch-{name}.log").open("w") as log:
            self._running[name] = subprocess.Popen(
                [sys.executable, "-m", "billy", "models", "fetch", name, "--dir", str(models_dir / name)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def states(self, models_dir: Path) -> list[FetchState]:
        states = []
        for name, process in self._running.items():
            entry, folder = find_model(name), models_dir / name
            present = [folder / file for file in entry.files if (folder / file).is_file()]
            written = sum(path.stat().st_size for path in folder.glob("*") if path.is_file()) if folder.is_dir() else 0
            log = self.log_dir / f"fetch-{name}.log"
            lines = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
            running = process.poll() is None
            message = "" if running or not lines else lines[-1]
            states.append(FetchState(name, running, len(present), len(entry.files), written / 2**20, message))
        return states
