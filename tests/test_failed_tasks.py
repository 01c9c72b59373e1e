"""scripts/failed_tasks.py: a failed Molecule run names its failed task and Ansible's words in its last lines
(CI keeps only the tail of the output). The log comes from a real failing ansible-playbook run, in colour and
framed as Molecule 25 frames it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _failing_play_output(tmp_path: Path) -> str:
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: A task that works.\n      ansible.builtin.debug:\n        msg: fine\n"
        "    - name: A task that fails but is ignored.\n      ansible.builtin.fail:\n        msg: never mind\n"
        "      ignore_errors: true\n"
        "    - name: Install the base packages.\n      ansible.builtin.fail:\n"
        "        msg: Failed to lock apt for exclusive operation\n"
    )
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(play)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_FORCE_COLOR": "1", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"},
    )
    assert run.returncode == 2, run.stdout + run.stderr
    return run.stdout


def test_the_failed_task_and_its_message_are_the_last_lines(tmp_path):
    framed = "".join(f"  \x1b[2m│\x1b[0m {line}\n" for line in _failing_play_output(tmp_path).splitlines())
    log = tmp_path / "molecule.log"
    log.write_text(
        "INFO     default ➜ create: Executed: Successful\n"
        "INFO     default ➜ converge: Starting\n" + framed + "ERROR    Molecule executed 1 scenario (1 failed)\n"
    )
    run = subprocess.run(
        [sys.executable, str(SCRIPTS / "failed_tasks.py"), str(log)], capture_output=True, text=True, check=True
    )
    lines = run.stdout.splitlines()
    assert lines[1] == "default converge / Install the base packages.", run.stdout
    assert lines[2].startswith("fatal: [localhost]: FAILED!"), run.stdout
    assert "Failed to lock apt for exclusive operation" in run.stdout
    assert "never mind" not in run.stdout and "\x1b" not in run.stdout
    assert len(lines) <= 8


def test_a_step_that_failed_without_a_task_says_so(tmp_path):
    log = tmp_path / "molecule.log"
    log.write_text("INFO     default ➜ create: Executed: Failed\n")
    run = subprocess.run(
        [sys.executable, str(SCRIPTS / "failed_tasks.py"), str(log)], capture_output=True, text=True, check=True
    )
    assert "No task failed" in run.stdout
