"""Local settings (/etc/billy/local.env): a boot-partition billy.env applied through `billy settings apply`.

The command runs as a real process against a settings directory laid out as the role lays it out (per-unit env
files and settings-units.json). Each bad-file case must say what is wrong and still apply the good lines.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from billy.settings import local as local_settings
from billy.settings.envfile import parse_env_text
from billy.settings.schema import SCHEMA

REPO = Path(__file__).resolve().parents[1]

UNITS_MAP = {
    "MQTT_HOST": ["billy"],
    "HA_TOKEN": ["billy"],
    "LOCAL_TTS_VOICE": ["billy", "billy-tts"],
    "STT_COMPUTE_TYPE": ["billy-stt"],
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "etc-billy"
    directory.mkdir()
    (directory / "billy.env").write_text('# rendered by Ansible\nMQTT_HOST=""\nLOCAL_TTS_VOICE="en_US-joe-medium"\n')
    (directory / "stt.env").write_text('STT_COMPUTE_TYPE="int8"\n')
    (directory / "settings-units.json").write_text(json.dumps(UNITS_MAP))
    return directory


def apply(config_dir: Path, content: bytes, *extra: str) -> subprocess.CompletedProcess:
    boot = config_dir.parent / "boot"
    boot.mkdir(exist_ok=True)
    (boot / "billy.env").write_bytes(content)
    command = ["settings", "apply", str(boot / "billy.env"), "--config-dir", str(config_dir), *extra]
    return billy(command)


def billy(arguments: list[str]) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if key != "JOURNAL_STREAM"}
    return subprocess.run([sys.executable, "-m", "billy", *arguments], capture_output=True, text=True, env=environ)


def test_known_keys_are_applied_and_only_their_units_named(config_dir):
    run = apply(config_dir, b'MQTT_HOST=192.168.1.20\nLOCAL_TTS_VOICE="en_GB-alan-low"\n')
    assert run.returncode == 0, run.stderr
    assert local_settings.read_overrides(config_dir) == {
        "MQTT_HOST": "192.168.1.20",
        "LOCAL_TTS_VOICE": "en_GB-alan-low",
    }
    assert 'MQTT_HOST="192.168.1.20"' in run.stdout
    assert "billy billy-tts" in run.stdout and "billy-stt" not in run.stdout
    # Ansible's own file is untouched: the override lives in local.env alone.
    assert 'MQTT_HOST=""' in (config_dir / "billy.env").read_text()


def test_applying_the_same_file_again_changes_nothing(config_dir):
    apply(config_dir, b"STT_COMPUTE_TYPE=float32\n")
    before = (config_dir / "local.env").stat().st_mtime_ns
    result = local_settings.apply_file(config_dir.parent / "boot" / "billy.env", config_dir)
    assert result.changed == [] and result.unchanged == ["STT_COMPUTE_TYPE"] and result.units == []
    assert (config_dir / "local.env").stat().st_mtime_ns == before


def test_units_to_restart_come_from_the_map():
    assert local_settings.units_to_restart(["STT_COMPUTE_TYPE"], UNITS_MAP) == ["billy-stt"]
    assert local_settings.units_to_restart(["LOCAL_TTS_VOICE", "MQTT_HOST"], UNITS_MAP) == ["billy", "billy-tts"]
    # A setting the map does not name (an extra one of the runtime's) restarts the runtime alone.
    assert local_settings.units_to_restart(["CHUNK_MS"], UNITS_MAP) == ["billy"]


def test_an_unknown_key_is_named_and_the_good_keys_still_apply(config_dir):
    run = apply(config_dir, b"MQTT_HOTS=broker.lan\nmqtt_host=broker.lan\nMQTT_PORT=1884\n")
    assert run.returncode == local_settings.EXIT_SOME_REJECTED
    assert "billy.env line 1: MQTT_HOTS is not a Billy setting (did you mean MQTT_HOST?)" in run.stderr
    assert "billy.env line 2: mqtt_host is not a Billy setting (did you mean MQTT_HOST?)" in run.stderr
    assert local_settings.read_overrides(config_dir) == {"MQTT_PORT": "1884"}


def test_a_bad_value_gets_the_parsers_message_and_the_good_keys_still_apply(config_dir):
    run = apply(config_dir, b"BILLY_MODEL=trout\nMQTT_PORT=eighty\nMQTT_HOST=broker.lan\n")
    assert run.returncode == local_settings.EXIT_SOME_REJECTED
    assert "line 1: BILLY_MODEL='trout' is not valid: allowed values are modern, classic" in run.stderr
    assert "line 2: MQTT_PORT='eighty' is not valid: expected a whole number from 1 to 65535" in run.stderr
    assert "MQTT_PORT keeps its value" in run.stderr
    assert local_settings.read_overrides(config_dir) == {"MQTT_HOST": "broker.lan"}


def test_windows_line_ends_are_read_with_a_note(config_dir):
    run = apply(config_dir, b"MQTT_HOST=broker.lan\r\nMQTT_PORT=1884\r\n")
    assert run.returncode == 0, run.stderr
    assert "Windows (CRLF) line ends" in run.stdout
    # No carriage return ends up inside a value.
    assert local_settings.read_overrides(config_dir) == {"MQTT_HOST": "broker.lan", "MQTT_PORT": "1884"}


def test_a_byte_order_mark_is_read_with_a_note(config_dir):
    run = apply(config_dir, "\ufeffMQTT_HOST=broker.lan\n".encode())
    assert run.returncode == 0, run.stderr
    assert "byte order mark" in run.stdout
    assert local_settings.read_overrides(config_dir) == {"MQTT_HOST": "broker.lan"}


def test_text_that_is_not_utf8_and_lines_that_are_not_settings_are_named(config_dir):
    run = apply(config_dir, b"MQTT_DEVICE_NAME=Bill\xe9\njust some words hunter2\nMQTT_HOST=broker.lan\n")
    assert "is not UTF-8 text" in run.stderr
    assert "billy.env line 2: not a NAME=value line" in run.stderr and "hunter2" not in run.stderr + run.stdout
    assert local_settings.read_overrides(config_dir)["MQTT_HOST"] == "broker.lan"


def test_secrets_are_never_printed(config_dir):
    content = b'HA_TOKEN="eyJsecret"\nMQTT_PASSWORD=hunter2\nMQTT_PASWORD=hunter3\nOPENAI_API_KEY=sk-abc\n'
    run = apply(config_dir, content, "--scrub")
    output = run.stdout + run.stderr
    for secret in ("eyJsecret", "hunter2", "hunter3", "sk-abc"):
        assert secret not in output
    assert "HA_TOKEN=***" in output and "MQTT_PASWORD is not a Billy setting (did you mean MQTT_PASSWORD?)" in output
    assert local_settings.read_overrides(config_dir)["HA_TOKEN"] == "eyJsecret"
    shown = billy(["settings", "show", "--config-dir", str(config_dir)])
    assert "eyJsecret" not in shown.stdout and "HA_TOKEN=***  # local.env" in shown.stdout


def test_scrub_takes_the_file_off_the_card_and_leaves_a_record_without_secrets(config_dir):
    run = apply(config_dir, b"MQTT_HOST=broker.lan\nMQTT_PASSWORD=hunter2\nBILLY_MODEL=trout\n", "--scrub")
    boot = config_dir.parent / "boot"
    assert not (boot / "billy.env").exists(), run.stderr
    record = (boot / "billy.env.applied").read_text()
    assert 'MQTT_HOST="broker.lan"' in record and "MQTT_PASSWORD=(secret, stored on Billy)" in record
    assert "hunter2" not in record and "# PROBLEM billy.env line 3: BILLY_MODEL='trout'" in record


def test_local_env_is_private_and_round_trips_through_a_shell(config_dir):
    tricky = 'a "quoted" $HOME `x` back\\slash'
    result = local_settings.apply_changes({"MQTT_DEVICE_NAME": tricky}, config_dir)
    assert result.changed == ["MQTT_DEVICE_NAME"] and result.units == ["billy"]
    path = config_dir / "local.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert local_settings.read_overrides(config_dir) == {"MQTT_DEVICE_NAME": tricky}
    # The `billy` wrapper sources it with sh, as systemd's EnvironmentFile= reads it: the value comes back whole.
    echoed = subprocess.run(["sh", "-c", f'. "{path}"; printf %s "$MQTT_DEVICE_NAME"'], capture_output=True, text=True)
    assert echoed.stdout == tricky


def test_none_removes_an_override_and_show_falls_back_to_ansibles_file(config_dir):
    local_settings.apply_changes({"MQTT_HOST": "broker.lan"}, config_dir)
    rows = {name: (value, origin) for name, value, origin in local_settings.effective_settings(config_dir)}
    assert rows["MQTT_HOST"] == ('"broker.lan"', "local.env")
    assert rows["STT_COMPUTE_TYPE"] == ('"int8"', "stt.env") and rows["BILLY_MODEL"] == ('"modern"', "default")
    result = local_settings.apply_changes({"MQTT_HOST": None}, config_dir)
    assert result.changed == ["MQTT_HOST"] and result.units == ["billy"]
    rows = {name: (value, origin) for name, value, origin in local_settings.effective_settings(config_dir)}
    assert rows["MQTT_HOST"] == ('""', "billy.env")


def test_the_boot_partition_example_names_only_settings_billy_accepts():
    example = REPO / "roles" / "billy_app" / "files" / "billy.env.example"
    # What a user gets by taking the # off every setting line (the comment lines have a space after the #).
    uncommented = "\n".join(line[1:] for line in example.read_text().splitlines() if re.match(r"#[A-Z_]+=", line))
    parsed = parse_env_text(uncommented)
    assert len(parsed.lines) == sum(1 for setting in SCHEMA if setting.featured and setting.boot)
    assert not parsed.problems
    for line in parsed.lines:
        assert local_settings.check_value(line.name, line.value) is None, line
