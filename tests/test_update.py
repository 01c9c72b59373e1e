"""Updates with rollback (issue 27): a release bundle from `make release`'s packer, served by a local HTTP server,
installed beside the running release in a real venv (pip, hard links), switched to and proven or undone.

Here the "machine" is a process, not systemd: restarting means starting the venv the link names, and healthy
means that process imports Billy at the offered version. The systemd half (units, NRestarts, the control
socket) is proven on booted Debian in Molecule (molecule/default/verify_update.yml).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from billy.appliance.release_feed import parse_feed
from billy.appliance.releases import ReleaseError, Releases, version_of
from billy.appliance.update import Updater, read_status
from billy.appliance.update_entity import undone_update_notice
from billy.devtools.release import pack

TINY_PYPROJECT = """[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "billy"
dynamic = ["version"]

[tool.setuptools.dynamic]
version = {attr = "billy.__version__"}
"""


def tiny_app(root: Path, broken: bool = False) -> Path:
    """A release's source as small as pip installs it: Billy's package name and version line, no dependencies."""
    (root / "billy").mkdir(parents=True)
    (root / "pyproject.toml").write_text(TINY_PYPROJECT)
    crash = 'raise SystemExit("this release cannot start")\n' if broken else ""
    (root / "billy" / "__init__.py").write_text(f'__version__ = "0.1.0"\n{crash}')
    return root


@pytest.fixture(scope="module")
def base_venv(tmp_path_factory) -> Path:
    """A venv as the role makes it (pip, and setuptools new enough to build wheels) holding Billy 0.1.0."""
    folder = tmp_path_factory.mktemp("base")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "setuptools>=70.1"], check=True)
    released = pack(tiny_app(folder / "src"), "0.1.0", folder / "out")
    shutil.unpack_archive(released.parent / "billy-0.1.0.tar", folder / "unpacked")
    subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index", "--no-build-isolation",
         str(folder / "unpacked")],
        check=True,
    )  # fmt: skip
    return venv


class ProcessMachine:
    """Restart = start the release the link names; healthy = it runs and says the expected version."""

    def __init__(self, releases: Releases, expected: str) -> None:
        self.releases, self.expected, self.started = releases, expected, []

    def restart(self) -> None:
        self.started.append(version_of(self.releases.current()))

    def wait_healthy(self, seconds: float) -> str | None:
        done = subprocess.run(
            [str(self.releases.link / "bin/python"), "-c", "import billy; print(billy.__version__)"],
            capture_output=True, text=True, timeout=seconds, env={"PATH": os.environ["PATH"]},  # the venv's own
        )  # fmt: skip
        if done.returncode != 0:
            return done.stderr.strip().splitlines()[-1]
        return None if done.stdout.strip() == self.expected else f"runs {done.stdout.strip()}"


@pytest.fixture
def fish(tmp_path, base_venv):
    """An Ansible-installed fish: /opt/billy/venv a real folder, as the role leaves it."""
    root, state = tmp_path / "opt", tmp_path / "state"
    root.mkdir()
    state.mkdir()
    subprocess.run(["cp", "-a", str(base_venv), str(root / "venv")], check=True)
    return Releases(root), state


@pytest.fixture
def release_host(tmp_path):
    """The release feed's web server: what `make release` wrote, over real HTTP on loopback."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/latest.json"
    server.shutdown()


def offer(served: Path, tmp_path: Path, version: str, broken: bool = False) -> None:
    pack(tiny_app(tmp_path / f"src-{version}-{broken}", broken), version, served, notes=f"Billy {version}")


def test_an_update_installs_beside_the_running_release_and_keeps_it(fish, release_host, tmp_path):
    releases, state = fish
    served, feed = release_host
    offer(served, tmp_path, "0.2.0")
    machine = ProcessMachine(releases, "0.2.0")
    status = Updater(releases, state, machine, 60).install(feed)
    assert (status.phase, status.installed, status.latest) == ("done", "0.2.0", "0.2.0"), status.message
    assert releases.link.is_symlink() and releases.installed_version() == "0.2.0"
    assert sorted(p.name for p in releases.folder.iterdir()) == ["0.1.0", "0.2.0"]  # Ansible's venv kept as 0.1.0
    assert version_of(releases.folder / "0.1.0" / "venv") == "0.1.0"
    assert releases.pending() is None and read_status(state).phase == "done"
    # Hard links: the new venv shares the old one's unchanged files, so it costs only what changed.
    shared = releases.folder / "0.2.0/venv/pyvenv.cfg"
    assert shared.stat().st_nlink == 2
    # The next one keeps two releases: the running one and the one before.
    offer(served, tmp_path, "0.3.0")
    machine.expected = "0.3.0"
    assert Updater(releases, state, machine, 60).install(feed).phase == "done"
    assert sorted(p.name for p in releases.folder.iterdir()) == ["0.2.0", "0.3.0"]


def test_a_release_that_cannot_start_is_rolled_back_and_says_why(fish, release_host, tmp_path):
    releases, state = fish
    served, feed = release_host
    offer(served, tmp_path, "0.2.0", broken=True)
    machine = ProcessMachine(releases, "0.2.0")
    status = Updater(releases, state, machine, 60).install(feed)
    assert status.phase == "rolled_back" and status.installed == "0.1.0"
    assert "this release cannot start" in status.message and "back on 0.1.0" in status.message
    assert machine.started == ["0.2.0", "0.1.0"]  # the new one tried, then the old one started again
    assert releases.installed_version() == "0.1.0" and releases.pending() is None
    assert machine.wait_healthy(60) == "runs 0.1.0"  # the old release really runs
    # Back on the old release, Billy tells his owner once, after his ready sound.
    told = "My update to version 0.2.0 did not work, so I went back to version 0.1.0."
    assert undone_update_notice(state) == told
    assert undone_update_notice(state) is None


def test_a_bundle_that_is_not_the_one_the_feed_names_changes_nothing(fish, release_host, tmp_path):
    releases, state = fish
    served, feed = release_host
    offer(served, tmp_path, "0.2.0")
    (served / "billy-0.2.0.tar").write_bytes(b"tampered")
    status = Updater(releases, state, ProcessMachine(releases, "0.2.0"), 60).install(feed)
    assert status.phase == "failed" and "is not the one the feed names" in status.message
    assert not releases.link.is_symlink() and not list(releases.folder.glob("*"))  # nothing half made left


def test_a_power_cut_after_the_switch_comes_back_on_the_previous_release(fish, release_host, tmp_path):
    """The updater killed between the switch and the health check: the journal is left, and the boot's
    `recover` puts the release before it back and says so."""
    releases, state = fish
    served, feed = release_host
    offer(served, tmp_path, "0.2.0")

    class PowerCut(ProcessMachine):
        def wait_healthy(self, seconds):
            raise KeyboardInterrupt  # the nearest a test gets to kill -9: nothing after this line runs

    with pytest.raises(KeyboardInterrupt):
        Updater(releases, state, PowerCut(releases, "0.2.0"), 60).install(feed)
    assert releases.installed_version() == "0.2.0" and releases.pending() is not None
    said = Updater(releases, state, ProcessMachine(releases, "0.1.0"), 60).recover()
    assert "back on 0.1.0" in said
    assert releases.installed_version() == "0.1.0" and releases.pending() is None
    assert read_status(state).phase == "rolled_back"


def test_a_half_staged_release_is_cleared_at_boot(fish, release_host, tmp_path):
    releases, state = fish
    half = releases.folder / "0.2.0" / "venv"
    half.mkdir(parents=True)  # staging cut short: no release.json
    (state / "update.json").write_text(json.dumps({"phase": "installing", "percent": 60}))
    said = Updater(releases, state, ProcessMachine(releases, "0.1.0"), 60).recover()
    assert not half.parent.exists() and "cut short while installing" in said
    assert read_status(state).phase == "failed" and releases.installed_version() == "0.1.0"


@pytest.mark.parametrize(
    ("feed", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[]", "must be an object"),
        (b'{"version": "../../etc", "bundle": "b.tar", "sha256": "' + b"a" * 64 + b'"}', "not a release version"),
        (b'{"version": "1.0", "bundle": "b.tar", "sha256": "abc"}', "64 lowercase hex"),
        (b'{"version": "1.0", "bundle": "b\\u0000.tar", "sha256": "' + b"a" * 64 + b'"}', "not a file name"),
        (b'{"version": "1.0", "bundle": "b.tar", "sha256": "' + b"a" * 64 + b'", "notes": "\\u001b[2J"}', "notes"),
        (b'{"version": "1.0", "bundle": "file:///etc/shadow", "sha256": "' + b"a" * 64 + b'"}', "neither"),
    ],
)
def test_a_feed_is_checked_before_anything_is_fetched(feed, reason):
    with pytest.raises(ReleaseError, match=reason):
        parse_feed(feed, "/media/stick/latest.json")


def test_an_unreachable_feed_is_a_clear_failure_and_nothing_moves(fish):
    releases, state = fish
    status = Updater(releases, state, ProcessMachine(releases, "0.2.0"), 60).install("http://127.0.0.1:9/latest.json")
    assert status.phase == "failed" and "cannot read the release feed" in status.message
    assert not releases.link.is_symlink()


def test_an_update_from_a_stick_reads_a_local_feed(fish, tmp_path):
    releases, state = fish
    stick = tmp_path / "stick"
    offer(stick, tmp_path, "0.2.0")
    status = Updater(releases, state, ProcessMachine(releases, "0.2.0"), 60).install(str(stick / "latest.json"))
    assert status.phase == "done" and releases.installed_version() == "0.2.0"


def billy_update(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "billy", "update", *arguments], capture_output=True, text=True, timeout=300,
        env={**os.environ, **env}, check=False,
    )  # fmt: skip


def test_the_command_checks_and_reports_and_a_fish_without_a_feed_has_nothing_to_check(fish, release_host, tmp_path):
    releases, state = fish
    served, feed = release_host
    env = {"BILLY_STATE_DIR": str(state), "BILLY_UPDATE_URL": ""}
    quiet = billy_update("--root", str(releases.root), "check", env=env)
    assert quiet.returncode == 0 and "nothing to check" in quiet.stdout  # the daily timer on a feedless fish
    offer(served, tmp_path, "0.2.0")
    checked = billy_update("--root", str(releases.root), "check", env={**env, "BILLY_UPDATE_URL": feed})
    assert checked.returncode == 0 and "installed 0.1.0, offered 0.2.0" in checked.stdout, checked.stderr
    shown = billy_update("--root", str(releases.root), "status", env=env)
    assert "installed: 0.1.0" in shown.stdout and "offered:   0.2.0" in shown.stdout
    refused = billy_update("--root", str(releases.root), "install", env=env)
    assert refused.returncode == 1 and "no release feed: set BILLY_UPDATE_URL" in refused.stderr
