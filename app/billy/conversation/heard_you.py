"""The body's "I heard you": a tail flap the moment the model starts on a turn that sounds complete (during the
end-of-turn silence), or at the hand-over at the latest, then one a second while Billy thinks.

A bigger brain takes a second or more before its first word; a fish that sits still meanwhile looks dead. The
flaps stop when Billy makes any sound (`over()`), which also ends a flap under way at once: the voice wants the
head (on a two-motor fish the tail's own motor) and a song drives the tail on its drum hits.
"""

from __future__ import annotations

import threading
import time

FLAP_S = 0.2
EVERY_S = 1.0


class HeardYou:
    def __init__(self, fish) -> None:
        self.fish = fish
        self.first_motion_at: float | None = None
        self._over = threading.Event()
        self._started = False
        self._lock = threading.Lock()  # a flap's end and `over()` never cross: no stale tail_back in a song

    def start(self, interrupt) -> None:
        """Begin flapping until `over()` or `interrupt` (anything with is_set()); a second start does nothing."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._flap, args=(interrupt,), name="heard-you", daemon=True).start()

    def over(self) -> None:
        with self._lock:
            if not self._over.is_set():
                self._over.set()
                self.fish.tail_back()

    def _flap(self, interrupt: threading.Event) -> None:
        while not interrupt.is_set():
            with self._lock:
                if self._over.is_set():
                    return
                self.first_motion_at = self.first_motion_at or time.monotonic()
                self.fish.tail_out()
            if self._over.wait(FLAP_S):
                return
            with self._lock:
                if self._over.is_set():
                    return
                self.fish.tail_back()
            if self._over.wait(EVERY_S - FLAP_S):
                return
