"""Billy's kitchen timers: started by voice, kept on disk so they survive his own restart, rung when they end.

`TimerBoard` keeps the timers in `timers.json` in the state folder (written whole, atomically, on every change)
and a thread that sleeps until the next one is due, then hands it to `on_ring` (Billy's work queue, where the
ring waits its turn like a song). A timer stays in the file, `ringing`, until its ring has been played
(`rung`): one that ended while Billy was not running, or whose ring was still waiting when he stopped, rings
as soon as he is back.
Times are the wall clock's (a timer set for 17:00 rings at 17:00 after a restart); a paused timer keeps what
was left instead of an end.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
FILE = "timers.json"
MAX_TIMERS = 20  # a flood of "set a timer" cannot grow the file without bound


@dataclass
class Timer:
    id: str
    name: str  # as the owner said it ("pasta"), or ""
    seconds: float  # how long it was set for
    ends_at: float  # the wall clock's time.time() when it rings; 0 while paused
    paused_left: float = 0.0  # the seconds left when it was paused
    language: str = "en"  # the language it was asked in: it rings in that one
    ringing: bool = False  # it ended; its ring is waiting or playing

    @property
    def paused(self) -> bool:
        return self.ends_at == 0

    def left(self, now: float) -> float:
        return self.paused_left if self.paused else max(0.0, self.ends_at - now)


class TimerBoard:
    def __init__(self, state_dir: Path, on_ring: Callable[[Timer], None], clock: Callable[[], float] = time.time):
        self.path = state_dir / FILE
        self.on_ring = on_ring
        self.on_change: list[Callable[[list[Timer]], None]] = []  # MQTT's sensor, for example
        self.clock = clock
        self.started_at = clock()  # a timer that ended before this: it ended while Billy was not running
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._timers = self._load()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="timers", daemon=True)

    def start(self) -> TimerBoard:
        self._thread.start()
        return self

    def close(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(5)

    # -- what the owner asks ----------------------------------------------------------------------------

    def add(self, seconds: float, name: str = "", language: str = "en") -> Timer:
        if seconds <= 0:
            raise ValueError("a timer needs a length")
        timer = Timer(uuid.uuid4().hex[:8], name.strip(), seconds, self.clock() + seconds, language=language)
        with self._wake:
            if len(self._timers) >= MAX_TIMERS:
                raise ValueError(f"{MAX_TIMERS} timers are running already")
            self._timers.append(timer)
            self._changed()
        LOG.info("timer %s (%s) set for %.0f s", timer.id, timer.name or "no name", seconds)
        return timer

    def find(self, name: str = "", seconds: float = 0) -> list[Timer]:
        """The running timers a request means: by name, else by length, else all of them."""
        timers = self.timers()
        if name:
            return [timer for timer in timers if timer.name.lower() == name.strip().lower()]
        if seconds:
            return [timer for timer in timers if abs(timer.seconds - seconds) < 1]
        return timers

    def cancel(self, timers: list[Timer]) -> None:
        with self._wake:
            ids = {timer.id for timer in timers}
            self._timers = [timer for timer in self._timers if timer.id not in ids]
            self._changed()

    def pause(self, timers: list[Timer]) -> None:
        now = self.clock()
        with self._wake:
            for timer in timers:
                if not timer.paused:
                    timer.paused_left, timer.ends_at = timer.left(now), 0
            self._changed()

    def resume(self, timers: list[Timer]) -> None:
        now = self.clock()
        with self._wake:
            for timer in timers:
                if timer.paused:
                    timer.ends_at, timer.paused_left = now + timer.paused_left, 0.0
            self._changed()

    def timers(self) -> list[Timer]:
        """The timers still running or paused (not those ringing)."""
        with self._lock:
            return [timer for timer in self._timers if not timer.ringing]

    def ringing(self) -> list[Timer]:
        """The timers that ended: their ring is waiting its turn or playing."""
        with self._lock:
            return [timer for timer in self._timers if timer.ringing]

    def rung(self, timer_id: str) -> None:
        """A timer's ring has been played (or stopped): it is done."""
        with self._wake:
            self._timers = [timer for timer in self._timers if timer.id != timer_id]
            self._changed()

    # -- keeping and ringing --------------------------------------------------------------------------

    def _changed(self) -> None:
        """Under the lock: write the file, wake the thread, tell the watchers."""
        self._save()
        self._wake.notify_all()
        running = [timer for timer in self._timers if not timer.ringing]
        for watcher in self.on_change:
            watcher(running)

    def _run(self) -> None:
        # Those already ringing when the board starts: their ring was lost with the last run.
        due = [timer for timer in self._timers if timer.ringing]
        with self._wake:
            while not self._stopping:
                now = self.clock()
                due += [t for t in self._timers if not t.paused and not t.ringing and t.ends_at <= now]
                if due:
                    for timer in due:
                        timer.ringing = True
                    self._changed()
                    self._wake.release()
                    try:
                        for timer in due:
                            LOG.info("timer %s (%s) rings", timer.id, timer.name or "no name")
                            self.on_ring(timer)
                    finally:
                        self._wake.acquire()
                    due = []
                    continue
                running = [timer.ends_at for timer in self._timers if not timer.paused and not timer.ringing]
                self._wake.wait(min(running) - now if running else None)

    def _load(self) -> list[Timer]:
        try:
            return [Timer(**entry) for entry in json.loads(self.path.read_text(encoding="utf-8"))]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError) as error:
            LOG.warning("%s is unreadable (%s): starting with no timers", self.path, error)
            return []

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps([asdict(timer) for timer in self._timers]), encoding="utf-8")
        partial.replace(self.path)
