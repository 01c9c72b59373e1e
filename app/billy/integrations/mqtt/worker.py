"""A thread that runs handler calls one at a time, in arrival order, off paho's network thread.

A slow handler (Billy thinking of what to say) must never stall the MQTT keepalive, and a flood of messages
must never grow memory without bound: the queue is bounded and what does not fit is dropped with a log line.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, name: str, size: int = 64) -> None:
        self.name = name
        self._queue: queue.Queue[tuple[str, Callable[[], None]] | None] = queue.Queue(maxsize=size)
        self._closed = threading.Event()
        # Daemon: a handler that never returns must not keep the process alive after stop().
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, topic: str, call: Callable[[], None]) -> None:
        if self._closed.is_set():
            return
        try:
            self._queue.put_nowait((topic, call))
        except queue.Full:
            log.warning("Dropped a message on %s: %d calls are already waiting", topic, self._queue.maxsize)

    def stop(self, timeout: float = 2.0) -> None:
        """Finish the running call (up to `timeout`), drop the waiting ones."""
        self._closed.set()
        # With a full queue the thread sees _closed after its current call instead.
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        # A handler may stop the link itself (shutdown); a thread cannot wait for itself.
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._closed.is_set():
            item = self._queue.get()
            if item is None or self._closed.is_set():
                return
            topic, call = item
            try:
                call()
            except Exception:
                log.exception("The handler for a message on %s failed", topic)
