"""An owner's personas, wake-up clips and settings from the original: read with the original's meaning, and
what Billy does with them (switching persona by voice, RUN_MODE=dory, the owner's clips first)."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from billy.audio.devices import NoSoundDeviceError, usb_path_card
from billy.audio.pcm import read_wav
from billy.media.sounds import SoundBank
from billy.persona.library import PersonaLibrary
from billy.persona.persona import Persona, level
from billy.settings.kinds import ConfigError
from billy.settings.original import log_original_settings
from billy.settings.read import load_settings

from install_fixture import PERSONA_V1, PERSONA_V2, clip
from standins import Reply

# -- personas -------------------------------------------------------------------------------------------------


def test_v1_and_v2_personas_levels_defaults_and_meta(tmp_path):
    v1, v2 = tmp_path / "v1.ini", tmp_path / "v2.ini"
    v1.write_text(PERSONA_V1)
    v2.write_text(PERSONA_V2)
    old, new = Persona(v1), Persona(v2)
    assert old.version == 1 and new.version == 2
    assert [level(v, 1) for v in (0, 29, 30, 69, 70, 100)] == ["low", "low", "medium", "medium", "high", "high"]
    assert [level(v, 2) for v in (0, 14, 15, 34, 35, 64, 65, 84, 85, 100)] == [
        "min", "min", "low", "low", "med", "med", "high", "high", "max", "max"
    ]  # fmt: skip
    # v2: the eight traits, the original's defaults for those the file leaves out.
    assert new.traits == {
        "humor": 90, "sarcasm": 10, "confidence": 40, "warmth": 60, "curiosity": 50, "verbosity": 20,
        "formality": 50, "honesty": 100,
    }  # fmt: skip
    prompt = new.system_prompt()
    assert "You are Captain Billy, a pirate fish." in prompt and "humor 90/100 (max)" in prompt
    assert "A pirate fish" not in prompt and "ballad" not in prompt and "mouth_articulation" not in prompt
    assert "respectfulness 40/100 (medium)" in old.system_prompt()
    assert new.voice == "ballad" and new.wakeup_phrases == {1: "Arr, who goes there?", 2: "Ahoy, matey!"}


def _pirate(state):
    folder = state / "personas" / "pirate"
    (folder / "wakeup").mkdir(parents=True)
    (folder / "persona.ini").write_text(PERSONA_V2)
    return folder


def test_switch_persona_by_voice_changes_the_prompt_and_is_remembered(tank_factory, llm, speak, tmp_path):
    state = tmp_path / "billy-state"
    _pirate(state)
    switch = Reply(tool_calls=[("switch_persona", json.dumps({"persona": "Captain Billy"}))], when="pirate")
    llm.then(switch, Reply("Arr.", when="yourself"))
    who = speak("Tell me about yourself.")  # made before the session: it must not outlast its 2 s of no speech
    tank = tank_factory(state_dir=state)
    schemas = {tool["function"]["name"]: tool for tool in llm_tools(tank)}
    assert "default, pirate" in schemas["switch_persona"]["function"]["description"]
    turn = tank.ask(speak("Talk like the pirate."))
    assert turn.result.said.startswith("Okay. I'm Captain Billy now.")
    assert (state / "persona-current").read_text().strip() == "pirate"
    tank.microphone.queue(who)
    tank.wait_turn(1)
    assert "You are Captain Billy" in llm.requests[-1]["body"]["messages"][0]["content"]
    # A restarted Billy is still the pirate.
    assert PersonaLibrary(state).persona.name == "pirate"
    assert PersonaLibrary(state).persona.traits["honesty"] == 100


def test_switch_persona_by_billys_own_intent_needs_no_model(tmp_path, tank_factory, llm, speak):
    state = tmp_path / "billy-state"
    _pirate(state)
    tank = tank_factory(state_dir=state)
    turn = tank.ask(speak("Be the pirate, please."))
    assert turn.result.answered_by == "billy" and "I'm Captain Billy now." in turn.result.said
    assert llm.requests == [] and (state / "persona-current").read_text().strip() == "pirate"


def llm_tools(tank) -> list[dict]:
    return tank.billy.pipeline.toolbox.schemas()


def test_an_unknown_persona_is_answered_not_crashed_on(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("switch_persona", json.dumps({"persona": "shark"}))]))
    tank = tank_factory()
    turn = tank.ask(speak("Be a shark."))
    assert turn.result.said.startswith("I don't have a persona called shark. I can be default.")
    assert tank.billy.persona.name == "default"


# -- wake-up clips --------------------------------------------------------------------------------------------


def test_the_owners_wake_up_clips_come_before_the_rendered_ones(tmp_path, sounds_dir):
    bank = SoundBank(sounds_dir)
    rendered = {bank.get(f"wake-{i}").samples.tobytes() for i in (1, 2, 3)}
    assert bank.wake().samples.tobytes() in rendered  # no clip of the owner's: a rendered one
    state = tmp_path / "state"
    (state / "sounds" / "wake-up" / "custom").mkdir(parents=True)
    owned = {
        state / "sounds" / "wake-up" / "hello.wav": clip(hz=300),
        state / "sounds" / "wake-up" / "custom" / "1.wav": clip(hz=350),
    }
    for path, data in owned.items():
        path.write_bytes(data)
    pirate = _pirate(state)
    (pirate / "wakeup" / "1.wav").write_bytes(clip(hz=500))
    bank = SoundBank(state / "sounds")
    library = PersonaLibrary(state)
    default_clips = {read_wav(data).samples.tobytes() for data in owned.values()}
    picked = {bank.wake(library.wakeup_dir("default")).samples.tobytes() for _ in range(40)}
    assert picked == default_clips  # both, at random, and never a rendered one
    pirate_clips = {bank.wake(library.wakeup_dir("pirate")).samples.tobytes() for _ in range(40)}
    assert pirate_clips == {read_wav(clip(hz=300)).samples.tobytes(), read_wav(clip(hz=500)).samples.tobytes()}
    assert np.array_equal(bank.wakeup_clip(1, pirate / "wakeup").samples, read_wav(clip(hz=500)).samples)
    assert bank.wakeup_clip(7, pirate / "wakeup") is None


def test_persona_wakeup_phrases_are_rendered_as_clips(tmp_path, models_dir):
    from billy.cli import main

    state = tmp_path / "state"
    pirate = _pirate(state)
    (pirate / "wakeup" / "2.wav").write_bytes(clip())  # the owner's own clip 2 is never replaced
    os.environ["BILLY_STATE_DIR"] = str(state)
    try:
        argv = ["sounds", "render", "--voice-dir", str(models_dir), "--voice", "en_US-joe-medium"]
        assert main([*argv, "--dir", str(state / "sounds")]) == 0
    finally:
        del os.environ["BILLY_STATE_DIR"]
    assert read_wav((pirate / "wakeup" / "1.wav").read_bytes()).seconds > 0.5
    assert (pirate / "wakeup" / "2.wav").read_bytes() == clip()


# -- settings -------------------------------------------------------------------------------------------------


def test_the_originals_settings_are_read_with_their_meaning():
    settings = load_settings(
        {
            "OPENAI_MODEL": "gpt-realtime-mini",
            "VOICE": "marin",
            "LOCAL_STT_MODEL": "small",
            "LOCAL_TTS_VOICE": "default",
            "SILENCE_THRESHOLD": "1800.5",
            "LOG_LEVEL": "VERBOSE",
            "RUN_MODE": "dory",
        }
    )
    assert (settings.openai_model, settings.voice) == ("gpt-4o-mini", "coral")
    assert (settings.local_stt_model, settings.local_tts_voice) == ("tiny.en", "en_US-joe-medium")
    assert load_settings({"LOCAL_STT_MODEL": "base"}).local_stt_model == "base"  # in the catalogue: kept
    assert settings.silence_threshold == 1800.5 and settings.logging_level == logging.DEBUG
    assert load_settings({"LOG_LEVEL": "warning"}).logging_level == logging.WARNING
    assert load_settings({"DEBUG_MODE": "true"}).logging_level == logging.DEBUG
    with pytest.raises(ConfigError, match="RUN_MODE='goldfish' is not valid: allowed values are normal, dory"):
        load_settings({"RUN_MODE": "goldfish"})
    with pytest.raises(ConfigError, match="LOG_LEVEL='loud' is not valid"):
        load_settings({"LOG_LEVEL": "loud"})


def test_unused_original_settings_are_named_once(caplog):
    caplog.set_level(logging.INFO, logger="billy.settings.original")
    log_original_settings({"PORCUPINE_ACCESS_KEY": "x", "FLASK_PORT": "80", "OPENAI_MODEL": "gpt-4o-realtime-preview"})
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("PORCUPINE_ACCESS_KEY is set but not used by this Billy: Porcupine") for line in lines)
    assert any(line.startswith("FLASK_PORT is set but not used") for line in lines)
    assert "OPENAI_MODEL=gpt-4o-realtime-preview is the original's name; using gpt-4o" in lines
    assert len(lines) == 3


def test_mic_preference_usbpath_finds_the_card_on_that_port(tmp_path):
    # A sysfs tree as the kernel lays it out: /sys/class/sound/cardN/device -> the USB interface's folder.
    sound = tmp_path / "class" / "sound"
    sound.mkdir(parents=True)
    for card, port in ((0, None), (1, "1-1.2"), (2, "1-1.3")):
        device = tmp_path / "devices" / (f"usb1/1-1/{port}/{port}:1.0" if port else "platform/bcm2835_audio")
        device.mkdir(parents=True)
        (sound / f"card{card}").mkdir()
        (sound / f"card{card}" / "device").symlink_to(device)
    assert usb_path_card("usbpath:1-1.3", sound) == "(hw:2,"
    assert usb_path_card("USB Audio", sound) == "USB Audio"
    with pytest.raises(NoSoundDeviceError, match=r"no sound card on USB port '1-1\.4'"):
        usb_path_card("usbpath:1-1.4", sound)


def test_run_mode_dory_answers_once_then_the_session_ends(tank_factory, llm, speak):
    llm.then(Reply("Just keep swimming."))
    tank = tank_factory({"RUN_MODE": "dory", "MIC_TIMEOUT_SECONDS": "30"})
    tank.ask(speak("What do you do all day?"))
    tank.wait_idle(timeout=20)  # well before the 30 s a normal session would keep listening
    states = tank.states
    assert states.count("listening") == 1 and states[-1] == "idle", states


def test_a_personas_voice_goes_to_the_tts_that_has_it():
    from billy.appliance.wiring import use_persona_voice
    from billy.conversation.stages import stage
    from billy.services.tts.client import TtsClient

    settings = load_settings({"VOICE": "ash", "LOCAL_TTS_VOICE": "en_US-joe-medium"})
    local, cloud = TtsClient("http://127.0.0.1:5002/v1"), TtsClient("https://api.openai.com/v1", api_key="sk-x")
    tts = stage("tts", local, cloud)
    use_persona_voice(tts, settings, "ballad")  # the original's personas name Realtime voices
    assert (local.voice, cloud.voice) == ("en_US-joe-medium", "fable")
    use_persona_voice(tts, settings, "en_US-joe-medium")  # a piper voice: the local TTS speaks with it
    assert (local.voice, cloud.voice) == ("en_US-joe-medium", "ash")
    use_persona_voice(tts, settings, "")
    assert (local.voice, cloud.voice) == ("en_US-joe-medium", "ash")
