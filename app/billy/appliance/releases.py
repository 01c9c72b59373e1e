"""Billy's releases side by side on the Pi, and which one the units start.

    /opt/billy/releases/<version>/venv    a release's own venv, its code installed in it
    /opt/billy/releases/<version>/app     the release bundle it was installed from
    /opt/billy/venv -> releases/<version>/venv   what every unit starts (ExecStart=/opt/billy/venv/bin/billy ...)
    /opt/billy/releases/switch.json       written before the link moves; removed once the new release is healthy

A machine installed by Ansible has /opt/billy/venv as a real folder: the first switch moves it into releases/
under its own version, so it is the release an update falls back to. The link is replaced by a rename, so it
always names one release; a power cut between the journal and the confirmation leaves the journal, and
`recover` (at boot, before Billy's units) puts the previous release back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/opt/billy")
KEEP = 2  # the running release and the one before it
COMPLETE = "release.json"  # written last when a release is staged: a folder without it is half made
# A version is a folder name and goes into messages: letters, digits, dots, dashes, pluses, underscores.
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,39}")


class ReleaseError(RuntimeError):
    """The releases on disk are not as an update needs them; the message says what."""


def checked_version(version: object) -> str:
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise ReleaseError(f"{version!r:.60} is not a release version (letters, digits, '.', '-', '+', '_')")
    return version


@dataclass(frozen=True)
class Releases:
    root: Path = ROOT

    @property
    def link(self) -> Path:
        return self.root / "venv"

    @property
    def folder(self) -> Path:
        return self.root / "releases"

    @property
    def journal(self) -> Path:
        return self.folder / "switch.json"

    def current(self) -> Path:
        """The venv the units start."""
        if not self.link.exists():
            raise ReleaseError(f"{self.link} names no venv")
        return self.link.resolve()

    def installed_version(self) -> str:
        return version_of(self.current())

    def place(self, version: str) -> Path:
        return self.folder / checked_version(version)

    def switch(self, to_venv: Path) -> Path:
        """Point the units at `to_venv`; returns the venv they ran before. The journal goes down first."""
        before = self.current()
        if not self.link.is_symlink():
            before = self.place(version_of(before)) / "venv"
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_synced(self.journal, json.dumps({"from": str(before), "to": str(to_venv)}))
        if not self.link.is_symlink():
            # Ansible's venv becomes a release of its own; until the link exists, recover() knows where it went.
            before.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.link, before)
            _write_synced(before.parent / COMPLETE, json.dumps({"version": version_of(before), "from": "ansible"}))
        self._point(to_venv)
        return before

    def confirm(self) -> None:
        """The new release proved healthy: forget the way back, keep it and the one before."""
        journal = self.pending()
        self.journal.unlink(missing_ok=True)
        _sync_folder(self.folder)
        keep = {self.current().parent}
        if journal is not None:
            keep.add(Path(journal["from"]).parent)
        self.prune(keep)

    def roll_back(self) -> Path | None:
        """Point the units back at the release before the switch the journal names; None: no switch pending."""
        journal = self.pending()
        if journal is None:
            return None
        before = Path(journal["from"])
        self._point(before)
        self.journal.unlink()
        _sync_folder(self.folder)
        return before

    def pending(self) -> dict | None:
        try:
            return json.loads(self.journal.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            # A journal cut short by the power: the switch had not begun, so the link never moved.
            self.journal.unlink()
            return None

    def prune(self, keep: set[Path]) -> list[str]:
        """Remove every release folder but `keep`, and any half-staged one; returns the names removed."""
        removed = []
        if not self.folder.is_dir():
            return removed
        for place in sorted(self.folder.iterdir()):
            if place.is_dir() and place not in keep:
                shutil.rmtree(place)
                removed.append(place.name)
        return removed

    def half_made(self) -> list[Path]:
        """Release folders whose staging was cut short (no release.json), the running one never among them."""
        running = self.current().parent
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.is_dir() and p != running and not (p / COMPLETE).exists()]

    def _point(self, venv: Path) -> None:
        temporary = self.root / ".venv.next"
        temporary.unlink(missing_ok=True)
        os.symlink(venv, temporary)
        os.replace(temporary, self.link)
        _sync_folder(self.root)


def version_of(venv: Path) -> str:
    """The version of Billy installed in a venv, from its package metadata (one fact: the package's own)."""
    found = sorted(venv.glob("lib/python3*/site-packages/billy-*.dist-info"))
    if not found:
        raise ReleaseError(f"no Billy installed in {venv}")
    return found[-1].name.removeprefix("billy-").removesuffix(".dist-info")


def _write_synced(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
