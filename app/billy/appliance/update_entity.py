"""Updates as Home Assistant's MQTT update entity shows them: the installed and offered release, the notes, an
Install button and progress; read from the updater's `update.json`, which only the updater writes.

A small thread in the runtime looks at the file's change time every two seconds and republishes when it
changed, so Home Assistant follows an update's progress until the restart, and the outcome after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from billy import __version__
from billy.appliance.update import STATUS_FILE, Status, read_status

SUMMARY_LIMIT = 255  # Home Assistant's limit for release_summary
TOLD_FILE = "update.told"  # the time of the undone update Billy last told his owner about


def entity_state(status: Status, running: str = __version__) -> dict:
    """The update entity's JSON state. The installed version is the one running: the truth, whatever the file
    says; the notes start with why the last update was undone, when it was."""
    summary = status.notes
    if status.phase in ("failed", "rolled_back") and status.message:
        summary = f"Last update: {status.message}" + (f"\n{summary}" if summary else "")
    return {
        "installed_version": running,
        "latest_version": status.latest or running,
        "title": "Billy",
        "release_summary": summary[:SUMMARY_LIMIT] or None,
        "release_url": status.notes_url or None,
        "in_progress": status.in_progress,
        "update_percentage": status.percent if status.in_progress else None,
    }


class UpdateWatch:
    """Calls `publish(entity_state(...))` now and whenever update.json changes."""

    def __init__(self, state_dir: Path, publish: Callable[[dict], None], pause: float = 2.0) -> None:
        self.path = state_dir / STATUS_FILE
        self.publish = publish
        self.pause = pause
        self._stopped = threading.Event()
        self._seen: float | None = -1.0
        self._thread = threading.Thread(target=self._run, name="update-watch", daemon=True)

    def start(self) -> UpdateWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                changed = self.path.stat().st_mtime_ns
            except OSError:
                changed = None
            if changed != self._seen:
                self._seen = changed
                self.publish(entity_state(read_status(self.path.parent)))
            self._stopped.wait(self.pause)


def undone_update_notice(state_dir: Path) -> str | None:
    """What Billy says once after he came back on his previous release (a failed update, or one the power cut
    short): an owner who pressed Install hears why the old Billy is still talking. None when there is nothing new
    to tell."""
    status = read_status(state_dir)
    told = state_dir / TOLD_FILE
    if status.phase != "rolled_back" or not status.latest:
        return None
    try:
        if told.read_text().strip() == status.at:
            return None
    except OSError:
        pass
    told.write_text(status.at + "\n")
    return f"My update to version {status.latest} did not work, so I went back to version {status.installed}."
