"""What the motors did, as (time, part, value) rows: the demo's motion.csv and the tests' evidence."""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Move:
    t: float  # time.monotonic()
    part: str  # mouth, head or tail
    value: float  # 0 = off, up to 1 = full power


class MotionTimeline:
    def __init__(self) -> None:
        self._moves: list[Move] = []
        self._lock = threading.Lock()

    def record(self, part: str, value: float) -> None:
        with self._lock:
            last = next((m for m in reversed(self._moves) if m.part == part), None)
            if last is None or last.value != value:
                self._moves.append(Move(time.monotonic(), part, round(value, 3)))

    def moves(self, since: float = 0.0) -> list[Move]:
        with self._lock:
            return [move for move in self._moves if move.t >= since]

    def write_csv(self, path: Path, origin: float) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["time_s", "motor", "value"])
            for move in self.moves(origin):
                writer.writerow([f"{move.t - origin:.3f}", move.part, move.value])
