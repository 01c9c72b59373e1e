"""`billy doctor` on what breaks on a Pi: sound cards, pin library, MQTT login, Home Assistant token, stages,
an unreadable settings file; and `billy --help` with a broken environment."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mosquitto import Mosquitto
from standins import HomeAssistantStandIn

APP = Path(__file__).resolve().parent.parent / "app"


def _doctor(env: dict[str, str], user: str | None = None) -> dict[str, str]:
    """Each line of the doctor's report by check name, and the exit code under "exit"."""
    command = [sys.executable, "-m", "billy", "doctor"]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    # Nothing listens on port 9: the stages are down, which these tests do not look at.
    base = {"LLM_BASE_URL": "http://127.0.0.1:9/v1", "STT_BASE_URL": "http://127.0.0.1:9/v1"}
    base |= {"TTS_BASE_URL": "http://127.0.0.1:9/v1", "BILLY_AUDIO": "file", "BILLY_GPIO": "mock"}
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(APP), **base, **env}
    )
    report = {line.split()[0]: line for line in run.stdout.strip().splitlines()}
    report["exit"] = str(run.returncode)
    return report


def _status(line: str) -> str:
    return line.split()[1]


def test_the_active_stages_follow_use_local_models_and_fallbacks():
    local = _doctor({"LLM_FALLBACK": "openai", "OPENAI_API_KEY": "sk-test"})
    assert (
        "stt http://127.0.0.1:9/v1;" in local["stages"] and "llm http://127.0.0.1:9/v1 then openai" in local["stages"]
    )
    assert _status(local["llm"]) == "FAIL" and local["exit"] == "1"
    cloud = _doctor(
        {"USE_LOCAL_MODELS": "false", "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    assert "stt openai" in cloud["stages"] and "stt" not in cloud and _status(cloud["openai"]) == "FAIL"
    grok = _doctor(
        {
            "USE_LOCAL_MODELS": "false",
            "REALTIME_AI_PROVIDER": "xai",
            "XAI_API_KEY": "xai-test",
            "XAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    assert "llm xai http://127.0.0.1:9/v1;" in grok["stages"] and "stt http://127.0.0.1:9/v1;" in grok["stages"]
    assert _status(grok["xai"]) == "FAIL" and grok["exit"] == "1"


def test_sound_cards_are_found_by_preference_or_named_as_missing(tmp_path):
    assert _status(_doctor({"BILLY_AUDIO_DIR": str(tmp_path)})["sound"]) == "ok"
    # This machine has no sound card: the real device path says so instead of failing later in billy.service.
    real = _doctor({"BILLY_AUDIO": "sounddevice", "MIC_PREFERENCE": "USB"})
    assert _status(real["sound"]) == "FAIL" and "input" in real["sound"] and real["exit"] == "1"


def test_the_pin_library_is_named_or_its_failure_is(tmp_path):
    assert "pin library mock, new wiring" in _doctor({})["gpio"]
    auto = _doctor({"BILLY_GPIO": "auto", "BILLY_PINS": "legacy"})
    assert _status(auto["gpio"]) == "FAIL" and "no GPIO chip" in auto["gpio"]


@pytest.fixture
def broker(tmp_path):
    mosquitto = Mosquitto(tmp_path, users={"billy": "right-password"})
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def test_mqtt_connects_and_logs_in_against_a_real_mosquitto(broker):
    base = {"MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(broker.port), "MQTT_USERNAME": "billy"}
    good = _doctor({**base, "MQTT_PASSWORD": "right-password"})
    assert _status(good["mqtt"]) == "ok" and "as billy" in good["mqtt"]
    bad = _doctor({**base, "MQTT_PASSWORD": "wrong"})
    assert _status(bad["mqtt"]) == "FAIL" and "refused Billy" in bad["mqtt"] and bad["exit"] == "1"
    broker.stop()
    gone = _doctor({**base, "MQTT_PASSWORD": "right-password"})
    assert _status(gone["mqtt"]) == "FAIL" and "unreachable" in gone["mqtt"]


def test_home_assistant_token_is_checked_against_its_api():
    ha = HomeAssistantStandIn(token="good-token", speech="")
    try:
        good = _doctor({"HA_HOST": ha.url, "HA_TOKEN": "good-token"})
        assert _status(good["ha"]) == "ok" and "API running." in good["ha"]
        bad = _doctor({"HA_HOST": ha.url, "HA_TOKEN": "stale"})
        assert _status(bad["ha"]) == "FAIL" and "refused the token" in bad["ha"]
    finally:
        ha.close()


def _doctor_as(user: str, env: dict[str, str]) -> tuple[int, str]:
    """The doctor in a forked child that has become `user`: the interpreter is loaded first, so any user works."""
    import pwd

    from billy.appliance.doctor import doctor
    from billy.settings.read import load_settings

    # Reading the settings imports parts of the standard library lazily (importlib's resource readers, for the
    # model catalogue): done here first, as root, since the child's user may not read the interpreter's own files
    # (a Python under /root). Without it this test passed only after another test had read the catalogue.
    load_settings(dict(os.environ))
    entry = pwd.getpwnam(user)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to the user, report through the pipe, never return into pytest
        code = 3
        try:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.environ.update(env)
            with os.fdopen(write_end, "w") as out, contextlib.redirect_stdout(out):
                code = doctor(load_settings(os.environ))
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_a_user_who_cannot_read_the_settings_file_is_told_so(tmp_path):
    config_dir = tmp_path / "etc-billy"  # as on the Pi: root:billy 0750, the file 0640
    config_dir.mkdir(mode=0o750)
    env_file = config_dir / "billy.env"
    env_file.write_text('MQTT_PASSWORD="secret"\n')
    env_file.chmod(0o640)
    code, output = _doctor_as("nobody", {"BILLY_ENV_FILE": str(env_file)})
    assert code == 1 and output.startswith("settings FAIL") and f"cannot read {env_file}" in output
    assert len(output.strip().splitlines()) == 1  # no checks against defaults that would mislead


def test_help_works_with_a_broken_environment():
    env = {**os.environ, "PYTHONPATH": str(APP), "BILLY_MODEL": "trout", "MQTT_PORT": "eighty"}
    run = subprocess.run([sys.executable, "-m", "billy", "--help"], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "doctor" in run.stdout
    run = subprocess.run([sys.executable, "-m", "billy", "doctor"], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "BILLY_MODEL='trout'" in run.stderr and "MQTT_PORT='eighty'" in run.stderr
