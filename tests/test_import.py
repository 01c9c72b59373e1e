"""`billy import` on an original install folder: settings, personas, songs and clips in place, checked and
reported; a second run has nothing to do; Billy's own changes are kept unless --force."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from own_wake_fixtures import classifier

from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.settings.importer import read_env_file
from billy.settings.read import load_settings

from install_fixture import write_install

BILLY_IMPORT = [sys.executable, "-m", "billy", "import"]


def billy_import(source: Path, etc: Path, state: Path, *extra: str) -> list[str]:
    done = subprocess.run(
        [*BILLY_IMPORT, str(source), "--etc-dir", str(etc), "--state-dir", str(state), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.splitlines()


def test_import_takes_converts_and_leaves_then_has_nothing_to_do(tmp_path):
    source, etc, state = write_install(tmp_path / "billy-b-assistant"), tmp_path / "etc", tmp_path / "state"
    first = billy_import(source, etc, state)
    took = [line for line in first if line.startswith("took: ")]
    left = [line for line in first if line.startswith("left: ")]
    assert "converted: OPENAI_MODEL=gpt-4o-mini-realtime-preview -> gpt-4o-mini" in first
    # The fork's owner chose the cloud: the Realtime voice he had comes back, with its model.
    assert "converted: USE_LOCAL_MODELS=false -> BRAIN=realtime (the original's cloud voice)" in first
    assert (
        "converted: OPENAI_MODEL=gpt-4o-mini-realtime-preview -> REALTIME_MODEL=gpt-4o-mini-realtime-preview "
        "(the Realtime voice)" in first
    )
    assert "converted: VOICE=ballad -> fable" in first
    assert any(line.startswith("took: .env: ") and "RUN_MODE" in line and "MQTT_PASSWORD" in line for line in took)
    assert any(line.startswith("left: PORCUPINE_ACCESS_KEY (.env): Porcupine") for line in left)
    assert any(line.startswith("left: FLASK_PORT (.env)") for line in left)
    assert any("BILLY_MODEL (.env): BILLY_MODEL='trout' is not valid" in line for line in left)
    assert any("SOMETHING_ELSE (.env): SOMETHING_ELSE is not a Billy setting" in line for line in left)
    assert any("LOCAL_STT_MODEL (.env)" in line and "small would be tiny.en" in line for line in left)
    assert any("USE_LOCAL_MODELS (.env)" in line for line in left)
    assert any("sounds/songs/broken: full.wav cannot be used" in line for line in left)
    assert any("personas/empty: no persona.ini" in line for line in left)

    # Settings: in local.env, readable by the app's own parser, with the original's meaning.
    values = read_env_file(etc / "local.env")
    settings = load_settings(values)
    assert settings.run_mode == "dory" and settings.silence_threshold == 2000.0
    assert settings.openai_model == "gpt-4o-mini" and settings.voice == "fable"
    assert settings.brain == "realtime" and settings.realtime_model == "gpt-4o-mini-realtime-preview"
    assert settings.mic_preference == "usbpath:1-1.3" and settings.mic_timeout_seconds == 8
    assert settings.mqtt_password == 'fish "and" chips' and settings.mqtt_username == "billy"
    assert "HA_TOKEN" not in values and "PORCUPINE_ACCESS_KEY" not in values and "BILLY_MODEL" not in values
    assert oct((etc / "local.env").stat().st_mode & 0o777) == "0o640"

    # Personas, songs and clips where Billy looks for them.
    library = PersonaLibrary(state)
    assert library.names() == ["default", "pirate"]
    assert library.persona.traits["respectfulness"] == 40 and library.persona.version == 1
    assert library.find("Captain Billy") == "pirate"
    songs = SongLibrary(state).songs()
    assert set(songs) == {"tuna_tango", "river_groove"} and songs["tuna_tango"].format == "ini"
    assert (state / "custom_songs" / "tuna_tango" / "drums.wav").is_file()
    assert (state / "songs" / "river_groove" / "metadata.txt").is_file()
    assert (state / "sounds" / "wake-up" / "hello.wav").is_file()
    assert (state / "sounds" / "wake-up" / "custom" / "1.wav").is_file()
    assert (state / "personas" / "pirate" / "wakeup" / "1.wav").is_file()

    second = billy_import(source, etc, state)
    assert not [line for line in second if line.startswith(("took: ", "converted: "))], second
    assert second[-1].startswith("nothing to do: ")
    assert [line for line in second if line.startswith("left: ")] == [
        line for line in left if "(.env)" in line or "broken" in line or "empty" in line
    ]


def test_billys_own_changes_are_kept_unless_forced(tmp_path):
    source, etc, state = write_install(tmp_path / "install"), tmp_path / "etc", tmp_path / "state"
    billy_import(source, etc, state)
    persona = state / "persona.ini"
    persona.write_text(persona.read_text().replace("humor = 85", "humor = 12"))
    local = etc / "local.env"
    local.write_text(
        local.read_text().replace('RUN_MODE="dory"', 'RUN_MODE="normal"').replace("sk-test-not", "sk-billys-own")
    )
    again = billy_import(source, etc, state)
    assert any("persona.ini" in line and "differs and is kept" in line for line in again)
    assert any("RUN_MODE (.env): kept this Billy's 'normal'" in line for line in again)
    assert "OPENAI_API_KEY (.env): kept this Billy's *** (--force to replace)" in [line[6:] for line in again]
    assert not any("sk-" in line for line in again)  # a secret never reaches the report (or Ansible's log)
    assert "humor = 12" in persona.read_text()
    forced = billy_import(source, etc, state, "--force")
    assert any(line.startswith("took: persona.ini") for line in forced)
    assert "humor = 85" in persona.read_text() and read_env_file(local)["RUN_MODE"] == "dory"


def test_the_shipped_default_persona_is_replaced_without_force(tmp_path):
    from billy.persona.persona import DEFAULT_PERSONA

    source, etc, state = write_install(tmp_path / "install"), tmp_path / "etc", tmp_path / "state"
    state.mkdir()
    (state / "persona.ini").write_bytes(DEFAULT_PERSONA.read_bytes())  # what the role lays down first
    lines = billy_import(source, etc, state)
    assert any(line.startswith("took: persona.ini") for line in lines)
    assert "sarcastic singing fish" in (state / "persona.ini").read_text()


def test_the_owners_openwakeword_model_comes_in_as_his_own_wake_word(tmp_path):
    source, etc, state = write_install(tmp_path / "install"), tmp_path / "etc", tmp_path / "state"
    (source / "hey_billy.onnx").write_bytes(classifier(0.0))
    with (source / ".env").open("a") as env:
        env.write("WAKE_WORD_ENABLED=true\nWAKE_WORD_BACKEND=openwakeword\n")
        env.write("WAKE_WORD_OPENWAKEWORD_MODEL_PATH=hey_billy.onnx\nWAKE_WORD_OPENWAKEWORD_THRESHOLD=0.6\n")
    first = billy_import(source, etc, state)
    kept = state / "wakewords" / "hey_billy" / "hey_billy.onnx"
    assert f"took: hey_billy.onnx -> {kept} (it loads and runs)" in first, first
    settings = load_settings(read_env_file(etc / "local.env"))
    assert (settings.wake_word_backend, settings.wake_word_model) == ("openwakeword", str(kept))
    assert settings.wake_word_enabled and settings.wake_word_threshold == 0.6
    assert not [line for line in billy_import(source, etc, state) if line.startswith("took: ")]

    (source / "hey_billy.onnx").write_bytes(b"not a model")  # a broken one is named and left
    broken = billy_import(source, tmp_path / "etc2", tmp_path / "state2")
    assert any(line.startswith("left: hey_billy.onnx: hey_billy.onnx does not load and run") for line in broken)
    assert "WAKE_WORD_MODEL" not in read_env_file(tmp_path / "etc2" / "local.env")


def test_an_original_owner_is_told_how_to_get_the_cloud_voice_back_not_billed_for_it(tmp_path):
    source, etc, state = tmp_path / "billy-b-assistant", tmp_path / "etc", tmp_path / "state"
    source.mkdir()
    (source / ".env").write_text(
        "REALTIME_AI_PROVIDER=xai\nXAI_API_KEY=xai-not-a-real-key\nXAI_MODEL=grok-voice-latest\n"
    )
    lines = billy_import(source, etc, state)
    assert "converted: XAI_MODEL=grok-voice-latest -> REALTIME_MODEL=grok-voice-latest (the Realtime voice)" in lines
    assert any(line.startswith("left: BRAIN: this Billy answers locally; BRAIN=realtime") for line in lines)
    settings = load_settings(read_env_file(etc / "local.env"))
    assert settings.brain == "local" and settings.realtime_model == "grok-voice-latest"
    assert settings.realtime_ai_provider == "xai" and settings.xai_model == "grok-3-mini"
