"""Backups kept on the fish: Home Assistant's *Back up* button (and `billy/command` `backup`) makes one here, the
newest `BILLY_BACKUPS_KEPT` stay, and the web page's System page lists them for download.

The folder is `BILLY_BACKUP_DIR` (the inventory's: a USB stick or a network share mounted there survives the
card; the default, `backups/` in Billy's state folder, survives a bad update or a wrong click, not a dead
card). Only names this module made are ever served or removed: `billy-backup-YYYYMMDD-HHMMSS.tar`, looked up
in the folder.
"""

from __future__ import annotations

import datetime
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from billy.appliance.backup import back_up

LOG = logging.getLogger(__name__)
NAME = re.compile(r"billy-backup-\d{8}-\d{6}\.tar")


@dataclass(frozen=True)
class Kept:
    name: str
    made: str  # ISO 8601 with the time zone: Home Assistant's timestamp sensor
    size: int


class BackupShelf:
    def __init__(self, folder: Path, state_dir: Path, config_dir: Path, keep: int) -> None:
        self.folder, self.state_dir, self.config_dir, self.keep = folder, state_dir, config_dir, keep

    @classmethod
    def of(cls, settings) -> BackupShelf:
        folder = settings.billy_backup_dir or settings.billy_state_dir / "backups"
        return cls(folder, settings.billy_state_dir, settings.billy_config_dir, settings.billy_backups_kept)

    def make(self) -> Kept:
        """One more backup (no secrets: it sits on a disk), then the oldest beyond `keep` removed."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = time.strftime("billy-backup-%Y%m%d-%H%M%S.tar")
        holds = back_up(self.state_dir, self.config_dir, self.folder / name)
        LOG.info("backup %s made: %s", name, ", ".join(holds))
        for old in self.kept()[self.keep :]:
            (self.folder / old.name).unlink(missing_ok=True)
            LOG.info("backup %s removed (BILLY_BACKUPS_KEPT=%d)", old.name, self.keep)
        return self.kept()[0]

    def kept(self) -> list[Kept]:
        """The backups in the folder, newest first."""
        try:
            paths = [path for path in self.folder.iterdir() if NAME.fullmatch(path.name) and path.is_file()]
        except OSError:
            return []
        found = []
        for path in sorted(paths, key=lambda path: path.name, reverse=True):
            stat = path.stat()
            made = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC).isoformat(timespec="seconds")
            found.append(Kept(path.name, made, stat.st_size))
        return found

    def path_of(self, name: str) -> Path:
        """A kept backup's file; LookupError for any other name (nothing outside the list is ever served)."""
        if not NAME.fullmatch(name) or not (self.folder / name).is_file():
            raise LookupError(f"no backup named {name!r:.60}")
        return self.folder / name

    def entity(self, problem: str = "") -> dict:
        """Home Assistant's *Last backup* sensor: when (None: never), the file, its size, how many are kept."""
        kept = self.kept()
        newest = kept[0] if kept else None
        return {
            "made": newest.made if newest else None,
            "file": newest.name if newest else "",
            "size_mb": round(newest.size / 1e6, 2) if newest else 0,
            "kept": len(kept),
            "folder": str(self.folder),
            "problem": problem,
        }
