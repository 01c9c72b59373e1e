"""The one way tests wait: for the thing itself to be so, asked again every few milliseconds, never a fixed sleep.

`timeout` only fails a test that hangs; it is never what a test measures. A process the test started may be
given: if it dies meanwhile the wait fails at once, with the end of its log, instead of waiting out the timeout.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

POLL_SECONDS = 0.02
T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str = "the condition",
    timeout: float = 120,
    process: subprocess.Popen | None = None,
    log: Path | None = None,
) -> T:
    """The first true value of `condition()`; TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log is not None else ""
            raise AssertionError(f"waiting for {what}, the process exited with {process.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"waited {timeout:.0f} s for {what}" + (f"; log: {log.read_text()[-3000:]}" if log else "")
            )
        time.sleep(POLL_SECONDS)
    return value
