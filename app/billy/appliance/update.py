"""`billy update`: install a new release beside the running one, switch to it, and come back by itself if it
does not prove healthy.

One run (`billy-update.service`, as root, started from Home Assistant's Install button, the web page or the
shell): read the feed, download the bundle and check its SHA-256, stage the release in its own folder (a venv
made from the running one by hard links, so a new venv costs only what changed, then the bundle installed into
it), switch the units to it, restart them and wait up to `BILLY_UPDATE_HEALTH_SECONDS` for every unit to be
active and the runtime to answer in a running state. Healthy: the previous release is kept, older ones removed.
Not healthy (or a crash on the way): the previous release comes back and the status says why. A power cut or a
killed updater leaves the switch journal, and `billy update recover` at the next boot finishes the way back.

Progress and outcome go to `update.json` in the state folder, which the runtime (MQTT's update entity) and the
web page read; only the updater writes it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from billy.appliance.release_feed import Release, fetch_bundle, read_feed
from billy.appliance.releases import COMPLETE, ReleaseError, Releases, version_of

STATUS_FILE = "update.json"
LOG = logging.getLogger(__name__)


class Machine(Protocol):
    """What the updater needs of the system: restart Billy's units, and say whether they came back healthy."""

    def restart(self) -> None: ...

    def wait_healthy(self, seconds: float) -> str | None:
        """None when healthy within `seconds`, else the reason it is not."""


@dataclass
class Status:
    """What `update.json` holds; `in_progress` phases are the ones an updater is running through."""

    installed: str = ""
    latest: str = ""
    notes: str = ""
    notes_url: str = ""
    phase: str = "idle"
    percent: int = 0
    message: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    RUNNING = ("checking", "downloading", "installing", "switching", "health")

    @property
    def in_progress(self) -> bool:
        return self.phase in self.RUNNING


def read_status(state_dir: Path) -> Status:
    try:
        raw = json.loads((state_dir / STATUS_FILE).read_text())
        return Status(**{key: raw[key] for key in Status.__dataclass_fields__ if key in raw})
    except (OSError, ValueError, TypeError):
        return Status()


class Updater:
    def __init__(self, releases: Releases, state_dir: Path, machine: Machine, health_seconds: float) -> None:
        self.releases = releases
        self.state_dir = state_dir
        self.machine = machine
        self.health_seconds = health_seconds
        self.status = read_status(state_dir)

    def check(self, feed: str) -> Status:
        """Read the feed and record what it offers (the daily timer, the web page's Check)."""
        release = read_feed(feed)
        self._offer(release)
        return self._write(phase="idle" if not self.status.in_progress else self.status.phase)

    def install(self, feed: str) -> Status:
        self.recover()
        self._write(phase="checking", percent=0, message="")
        try:
            release = read_feed(feed)
            self._offer(release)
            if release.version == self.status.installed:
                return self._write(phase="done", percent=100, message=f"{release.version} is already installed")
            venv = self._stage(release)
        except (ReleaseError, OSError, subprocess.SubprocessError, tarfile.TarError) as error:
            self._clear_staging()
            return self._write(phase="failed", percent=0, message=f"not installed: {error}")
        return self._switch(release, venv)

    def recover(self) -> str:
        """After a power cut or a killed updater: back to the release before an unconfirmed switch, no half-made
        release left. Returns what it did ("" when there was nothing to do)."""
        said = ""
        half = self.releases.pending()
        if half is not None:
            before = self.releases.roll_back()
            said = f"an update to {Path(half['to']).parent.name} was cut short; back on {before.parent.name}"
        self._clear_staging()
        if said or self.status.in_progress:
            said = said or f"an update was cut short while {self.status.phase}; nothing had changed"
            self._write(phase="rolled_back" if half else "failed", percent=0, message=said)
        return said

    def _offer(self, release: Release) -> None:
        self.status.installed = self.releases.installed_version()
        self.status.latest, self.status.notes, self.status.notes_url = release.version, release.notes, release.notes_url

    def _stage(self, release: Release) -> Path:
        place = self.releases.place(release.version)
        if place.exists():
            shutil.rmtree(place)  # an older try, or the release two back: staged afresh
        self._write(phase="downloading", percent=0)
        bundle = fetch_bundle(release, place / "bundle.tar", lambda p: self._progress("downloading", p * 40 // 100))
        self._write(phase="installing", percent=40)
        _unpack(bundle, place / "app")
        venv = place / "venv"
        subprocess.run(["cp", "-a", "--link", str(self.releases.current()), str(venv)], check=True)
        _repoint_scripts(venv, (self.releases.link, self.releases.current()))
        self._write(phase="installing", percent=60)
        # Dependencies already in the venv are kept (no download unless the release needs a new one); the
        # release's own code is installed over the hard links, which pip replaces rather than rewrites.
        done = subprocess.run(
            [str(venv / "bin/python"), "-m", "pip", "install", "--no-build-isolation", "--no-input",
             "--disable-pip-version-check", "--upgrade-strategy", "only-if-needed", str(place / "app")],
            capture_output=True, text=True, env={**os.environ, "PYPI": "1"},
        )  # fmt: skip
        if done.returncode != 0:
            raise ReleaseError(f"pip could not install {release.version}: {_last_line(done.stderr or done.stdout)}")
        if version_of(venv) != release.version:
            raise ReleaseError(f"the bundle installs version {version_of(venv)}, the feed said {release.version}")
        bundle.unlink()
        (place / COMPLETE).write_text(json.dumps({"version": release.version, "sha256": release.sha256}))
        return venv

    def _switch(self, release: Release, venv: Path) -> Status:
        self._write(phase="switching", percent=80)
        before = self.releases.switch(venv)
        try:
            self.machine.restart()
            self._write(phase="health", percent=90)
            problem = self.machine.wait_healthy(self.health_seconds)
        except (OSError, subprocess.SubprocessError, RuntimeError) as error:
            problem = str(error)
        if problem is None:
            self.releases.confirm()
            return self._write(phase="done", percent=100, installed=release.version, message="")
        self.releases.roll_back()
        LOG.error("Release %s is not healthy (%s): back on %s", release.version, problem, before.parent.name)
        message = f"{release.version} did not come back healthy ({problem}); back on {version_of(before)}"
        try:
            self.machine.restart()
        except (OSError, subprocess.SubprocessError, RuntimeError) as error:
            message += f"; restarting it failed too: {error}"
        return self._write(phase="rolled_back", percent=0, installed=version_of(before), message=message)

    def _clear_staging(self) -> None:
        for place in self.releases.half_made():
            shutil.rmtree(place)

    def _progress(self, phase: str, percent: int) -> None:
        if percent >= self.status.percent + 5:  # a write every 5 %, not every chunk
            self._write(phase=phase, percent=percent)

    def _write(self, **changes) -> Status:
        for key, value in changes.items():
            setattr(self.status, key, value)
        self.status.at = datetime.now(UTC).isoformat(timespec="seconds")
        if not self.status.installed:
            self.status.installed = self.releases.installed_version()
        path = self.state_dir / STATUS_FILE
        temporary = path.with_name(STATUS_FILE + ".tmp")
        fields = {key: getattr(self.status, key) for key in Status.__dataclass_fields__}
        temporary.write_text(json.dumps(fields, indent=1))
        temporary.chmod(0o644)
        os.replace(temporary, path)
        LOG.info("update: %s %d%% %s", self.status.phase, self.status.percent, self.status.message)
        return self.status


def _unpack(bundle: Path, into: Path) -> None:
    """A release bundle holds the app's source: regular files and folders under relative names, nothing else."""
    with tarfile.open(bundle) as archive:
        members = archive.getmembers()
        for member in members:
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                raise ReleaseError(f"the bundle holds {member.name!r:.80}, which a release may not")
        if not any(Path(m.name).name == "pyproject.toml" and len(Path(m.name).parts) <= 2 for m in members):
            raise ReleaseError("the bundle holds no pyproject.toml: it is not a Billy release")
        into.mkdir(parents=True)
        archive.extractall(into, members=members)
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not (into / "pyproject.toml").exists():
        for entry in list(entries[0].iterdir()):  # a bundle packed with a top folder
            entry.rename(into / entry.name)
        entries[0].rmdir()


def _repoint_scripts(venv: Path, old_prefixes: tuple[Path, ...]) -> None:
    """The copied venv's scripts name the old venv's python: name this one's, writing new files (never through
    a hard link, which would change the running release too)."""
    for script in (venv / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        head = script.read_bytes()[:256]
        for old in old_prefixes:
            prefix = f"#!{old}/bin/python".encode()
            if head.startswith(prefix):
                text = script.read_bytes().replace(prefix, f"#!{venv}/bin/python".encode(), 1)
                fresh = script.with_name(script.name + ".new")
                fresh.write_bytes(text)
                fresh.chmod(script.stat().st_mode & 0o777)
                os.replace(fresh, script)
                break


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
