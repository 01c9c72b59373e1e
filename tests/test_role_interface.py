"""The roles' interface (meta/argument_specs.yml): each variable described in its own words. Billy's settings
are generated from the app's schema (tests/test_settings_schema.py checks that part)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parent.parent / "roles"


def _options(role: str) -> dict[str, dict]:
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name: option for entry in specs.values() for name, option in entry.get("options", {}).items()}


@pytest.mark.parametrize("role", sorted(path.name for path in ROLES.iterdir() if (path / "meta").is_dir()))
def test_each_variable_has_a_description_of_its_own(role):
    descriptions = [" ".join(str(option.get("description", "")).split()) for option in _options(role).values()]
    assert all(descriptions), f"{role}: a variable without a description"
    repeated = {text for text in descriptions if descriptions.count(text) > 1}
    assert not repeated, f"{role}: one description pasted over several variables: {repeated}"


def test_the_role_refuses_a_setting_with_a_newline_before_writing_anything(tmp_path):
    """The inventory is the last way in: a value that would become a line of its own stops the play, naming the
    setting and not its (maybe secret) value, before any settings file is written."""
    play = tmp_path / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: billy_app\n        tasks_from: settings\n"
    )
    sneaky = {"billy_app_mqtt_device_name": "Billy\nBILLY_WEB_SYSTEMCTL=/bin/sh", "billy_app_ha_token": "s3cret\r"}
    sneaky["billy_app_config_dir"] = str(tmp_path / "etc-billy")
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(play), "-e", json.dumps(sneaky)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(ROLES), "ANSIBLE_NOCOLOR": "1"},
    )
    assert run.returncode != 0, run.stdout
    assert "MQTT_DEVICE_NAME, HA_TOKEN: a setting is one line of plain text" in run.stdout, run.stdout
    assert "s3cret" not in run.stdout + run.stderr and not (tmp_path / "etc-billy").exists()
