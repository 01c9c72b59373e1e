"""Billy's work queue: what waits its turn to be heard (a conversation, a message, a song, a clip), played one
at a time by his loop.

A press of the button always gets in; of the rest at most MAX_WAITING wait, so a runaway automation flooding
`billy/say` cannot keep him talking for hours or grow memory without bound.
"""

from __future__ import annotations

import logging
import queue
import threading

LOG = logging.getLogger(__name__)
MAX_WAITING = 10
ALWAYS = "press"  # the button: never dropped


class WorkQueue:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.busy = threading.Event()  # set while the loop plays an item
        self.playing: str | None = None  # that item's operation: "press" (a conversation), "song", "ring"...

    def put(self, name: str, arguments: dict) -> None:
        if name != ALWAYS:
            with self._queue.mutex:
                waiting = sum(1 for queued, _ in self._queue.queue if queued != ALWAYS)
            if waiting >= MAX_WAITING:
                LOG.warning("dropped the %s asked for: %d are already waiting", name, waiting)
                return
        self._queue.put((name, arguments))

    def next(self, timeout: float) -> tuple[str, dict] | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def take_waiting(self, name: str) -> dict | None:
        """The arguments of the next item if it is a `name`, taken out of the queue; else None."""
        with self._queue.mutex:
            if self._queue.queue and self._queue.queue[0][0] == name:
                return self._queue.queue.popleft()[1]
        return None

    @property
    def idle(self) -> bool:
        return not self.busy.is_set() and self._queue.empty()
