"""The mosquitto role's password file: hashed on the Pi from stdin, never in plain text, and idempotent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from billy.appliance.doctor import CheckFailed, check_mqtt
from billy.settings.read import load_settings

from mosquitto import Mosquitto

SCRIPT = Path(__file__).resolve().parent.parent / "roles" / "mosquitto" / "files" / "set_password.py"


def _set(path: Path, user: str, password: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT.read_text(), str(path)],
        input=f"{user}\n{password}",
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.strip()


def _login(port: int, password: str) -> str:
    settings = load_settings(
        {"MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(port), "MQTT_USERNAME": "billy", "MQTT_PASSWORD": password}
    )
    try:
        return check_mqtt(settings)
    except CheckFailed as error:
        return str(error)


def test_the_hashed_password_logs_in_and_an_unchanged_one_changes_nothing(tmp_path):
    broker = Mosquitto(tmp_path, users={"billy": "first-password"})  # its password file, by mosquitto_passwd
    password_file = tmp_path / "passwords"
    assert _set(password_file, "billy", "first-password") == "ok"  # mosquitto_passwd's own hash is recognised
    assert _set(password_file, "billy", "new password") == "changed"
    assert _set(password_file, "billy", "new password") == "ok"
    assert "new password" not in password_file.read_text() and oct(password_file.stat().st_mode)[-3:] == "640"
    broker.start()
    try:
        assert "connected" in _login(broker.port, "new password")
        assert "refused Billy" in _login(broker.port, "first-password")
    finally:
        broker.stop()
