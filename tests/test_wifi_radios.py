"""Billy's setup network on a booted Debian with three simulated radios (tests/wifi_vm.py): no network, so
Billy opens Billy-Setup by himself; a phone joins it, gets a DHCP offer pointing at Billy, the captive name
server and page answer; a wrong password is refused and said on the page; the right one puts Billy on the home
network, with Billy-Setup closed, the web page back and only the key stored. The same checks as the image's."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from wifi_vm import REPO, boot, prepare, read_file

sys.path.insert(0, str(REPO / "image" / "test"))
from boot_test import wifi_problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and Ansible's chroot connection: root only"),
    pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs qemu-system-x86 (make setup)"),
]


def test_the_setup_network_with_real_radios(tmp_path: Path):
    root, disk = tmp_path / "root", tmp_path / "disk.img"
    root.mkdir()
    prepare(root, disk)
    boot(root, disk, tmp_path / "console.log")
    text = read_file(disk, "/root/figures.json").strip()
    assert text, "the scenario wrote nothing: " + read_file(disk, "/root/scenario.err")[-3000:]
    found = json.loads(text.splitlines()[-1])
    print(json.dumps(found, indent=1))
    problems = wifi_problems(found)
    assert not problems, "\n".join(problems) + "\n" + read_file(disk, "/root/journal.txt")[-4000:]
