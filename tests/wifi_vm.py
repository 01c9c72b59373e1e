"""A Debian machine with real radios for the Wi-Fi setup: trixie amd64 booted in qemu (TCG: this machine's KVM
cannot run a guest kernel), whose kernel has mac80211_hwsim. Its root is a cached debootstrap; on it, the roles'
own Wi-Fi tasks run through Ansible's chroot connection (billy_os: networkd and wpa_supplicant; billy_app: the
setup unit), Billy's app is laid in with a `billy` command, and image/test/wifi_scenario.py runs at boot, writes
its figures on the disk and powers the machine off. The image's own proof is `make image-test`; this is the
fast version `make test` runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "wifi-vm"
RELEASE, MIRROR = "trixie", "http://deb.debian.org/debian"
# What the image has for this (the base's systemd, networkd and python3; the roles' Wi-Fi packages come too, so
# the roles' apt task finds them installed) and a kernel with the simulated radios.
PACKAGES = (
    "systemd,systemd-sysv,systemd-resolved,udev,dbus,kmod,iproute2,procps,python3,python3-yaml,python3-apt,"
    "linux-image-amd64,initramfs-tools,hostapd,iw,wpasupplicant,wireless-regdb"
)
SCENARIO_UNIT = """[Unit]
After=multi-user.target billy-web.service systemd-networkd.service
[Service]
Type=oneshot
ExecStartPre=/bin/sh -c 'until ip route show default | grep -q default; do sleep 1; done'
ExecStart=/bin/sh -c 'python3 /root/wifi_scenario.py 600 > /root/figures.json 2>/root/scenario.err; \
journalctl -b -o cat > /root/journal.txt; sync; systemctl poweroff'
[Install]
WantedBy=multi-user.target
"""
# Billy's web page as far as the setup cares: a unit holding port 80 on every address.
WEB_UNIT = """[Service]
ExecStart=/usr/bin/python3 -m http.server 80 --bind 0.0.0.0
[Install]
WantedBy=multi-user.target
"""
PLAYBOOK = """- hosts: all
  gather_facts: true
  vars: {billy_image_mode: true}
  tasks:
    - {ansible.builtin.import_role: {name: billy_os, tasks_from: wifi}}
    - {ansible.builtin.import_role: {name: billy_app, tasks_from: wifi}}
"""


def base_root() -> Path:
    """The debootstrapped root as a tar, made once per package list."""
    digest = hashlib.sha256(f"{RELEASE} {PACKAGES}".encode()).hexdigest()[:10]
    tar = CACHE / f"root-{RELEASE}-amd64-{digest}.tar"
    if tar.exists():
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / "debootstrap"
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", RELEASE, str(work), MIRROR],
        check=True,
        capture_output=True,
    )
    subprocess.run(["tar", "--numeric-owner", "-C", str(work), "-cf", f"{tar}.part", "."], check=True)
    os.replace(f"{tar}.part", tar)
    shutil.rmtree(work)
    return tar


def prepare(root: Path, disk: Path) -> None:
    subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xf", str(base_root())], check=True)
    playbook = root.parent / "wifi-vm.yml"
    playbook.write_text(PLAYBOOK)
    environ = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible" / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
    }
    run = subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "ansible-playbook"),
            "-c",
            "community.general.chroot",
            "-i",
            f"{root},",
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=environ,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    app = root / "opt" / "billy"
    shutil.copytree(REPO / "app" / "billy", app / "app" / "billy", ignore=shutil.ignore_patterns("__pycache__"))
    (app / "venv" / "bin").mkdir(parents=True, exist_ok=True)
    command = app / "venv" / "bin" / "billy"
    command.write_text('#!/bin/sh\nPYTHONPATH=/opt/billy/app exec python3 -m billy "$@"\n')
    command.chmod(0o755)
    (root / "etc" / "billy").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "billy" / "billy.env").write_text("BILLY_GPIO=mock\n")
    network = root / "etc" / "systemd" / "network"
    shutil.copy(
        REPO / "image" / "build" / "base" / "files" / "etc" / "systemd" / "network" / "20-wired.network", network
    )
    units = root / "etc" / "systemd" / "system"
    (units / "billy-web.service").write_text(WEB_UNIT)
    (units / "wifi-scenario.service").write_text(SCENARIO_UNIT)
    shutil.copy(REPO / "image" / "test" / "wifi_scenario.py", root / "root" / "wifi_scenario.py")
    subprocess.run(
        [
            "chroot",
            str(root),
            "systemctl",
            "enable",
            "systemd-networkd",
            "systemd-resolved",
            "billy-web",
            "wifi-scenario",
        ],
        check=True,
        capture_output=True,
    )
    (root / "etc" / "hostname").write_text("billy\n")
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(root), str(disk), "3G"], check=True)


def boot(root: Path, disk: Path, console: Path, timeout: float = 1800) -> None:
    """Boot until the scenario powers the machine off; fails at once if qemu dies, with the console's end."""
    kernel, initrd = sorted(root.glob("boot/vmlinuz-*"))[-1], sorted(root.glob("boot/initrd.img-*"))[-1]
    with console.open("w") as log:
        qemu = subprocess.Popen(
            [
                "qemu-system-x86_64",
                "-accel",
                "tcg,thread=multi",
                "-cpu",
                "max",
                "-m",
                "1536",
                "-smp",
                "2",
                "-nographic",
                "-no-reboot",
                "-kernel",
                str(kernel),
                "-initrd",
                str(initrd),
                "-append",
                "root=/dev/vda rw console=ttyS0 systemd.show_status=0",
                "-drive",
                f"file={disk},if=virtio,format=raw",
                "-netdev",
                "user,id=n",
                "-device",
                "virtio-net-pci,netdev=n,romfile=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        try:
            code = qemu.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            qemu.kill()
            qemu.wait()
            raise AssertionError(f"the Wi-Fi machine did not finish within {timeout:.0f} s:\n{tail(console)}") from None
    assert code == 0, f"qemu exited with {code}:\n{tail(console)}"


def read_file(disk: Path, path: str) -> str:
    return subprocess.run(["debugfs", "-R", f"cat {path}", str(disk)], capture_output=True, text=True).stdout


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
