"""The original's settings that now do what they say (issue 25, item 3): TURN_EAGERNESS scales the end-of-turn
waits, MOUTH_ARTICULATION (or a persona's mouth_articulation) sets how readily the mouth moves,
HEAD_RETRACT_DELAY_SECONDS keeps the head out after speech, FLAP_ON_BOOT flaps the tail when Billy is ready.
The motors are gpiozero's own MockFactory pins; a whole Billy runs on the real STT and TTS."""

from __future__ import annotations

import logging

import pytest
from waiting import wait_until

from billy.appliance.startup import announce_ready
from billy.appliance.wiring import articulation_of
from billy.body.fish import Fish, make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.persona.persona import Persona
from billy.settings.envfile import read_env_file
from billy.settings.kinds import ConfigError
from billy.settings.original import log_original_settings
from billy.settings.read import load_settings

# What an owner of the original v2.3 has in .env for these (the web page wrote them all).
ORIGINAL_ENV = {
    "TURN_EAGERNESS": "high",
    "MOUTH_ARTICULATION": "7",
    "HEAD_RETRACT_DELAY_SECONDS": "1.5",
    "FLAP_ON_BOOT": "true",
    "NEWS_REQUEST_TIMEOUT_SECONDS": "6",
    "FOLLOW_UP_RETRY_LIMIT": "2",
    "DEFAULT_USER": "guest",
}


def test_the_originals_body_and_turn_settings_are_used_not_named_unused(caplog):
    caplog.set_level(logging.INFO, logger="billy.settings.original")
    log_original_settings(ORIGINAL_ENV)
    assert [record.getMessage() for record in caplog.records] == []
    settings = load_settings(ORIGINAL_ENV)
    assert (settings.turn_eagerness, settings.mouth_articulation) == ("high", 7)
    assert (settings.head_retract_delay_seconds, settings.flap_on_boot) == (1.5, True)
    with pytest.raises(ConfigError, match="TURN_EAGERNESS='eager' is not valid: allowed values are low, medium, high"):
        load_settings({"TURN_EAGERNESS": "eager"})
    with pytest.raises(ConfigError, match="MOUTH_ARTICULATION"):
        load_settings({"MOUTH_ARTICULATION": "11"})


# Every setting issue 25 lists, as an owner's v2.3 `.env` has them (its web page writes the file this way).
ORIGINAL_DOTENV = """\
OPENAI_API_KEY=sk-owner
TURN_EAGERNESS=medium
FOLLOW_UP_RETRY_LIMIT=1
HEAD_RETRACT_DELAY_SECONDS=0.5
MOUTH_ARTICULATION=5
MIC_GAIN=max
AEC_ENABLED=false
FLAP_ON_BOOT=true
STATUS_LED_ENABLED=true
STATUS_LED_BACKEND=spi
STATUS_LED_PIN=18
STATUS_LED_COUNT=1
STATUS_LED_BRIGHTNESS=0.35
DEFAULT_USER=guest
REALTIME_AI_PROVIDER=xai
XAI_API_KEY=xai-owner
XAI_MODEL=grok-voice-latest
PORCUPINE_ACCESS_KEY=pv-owner
"""


def test_an_original_env_names_only_porcupine_unused_and_maps_xais_voice_model(tmp_path, caplog):
    dotenv = tmp_path / ".env"
    dotenv.write_text(ORIGINAL_DOTENV)
    environ = read_env_file(dotenv)
    caplog.set_level(logging.INFO, logger="billy.settings.original")
    log_original_settings(environ)
    lines = [record.getMessage() for record in caplog.records]
    assert [line.split()[0] for line in lines if "not used" in line] == ["PORCUPINE_ACCESS_KEY"], lines
    assert "XAI_MODEL=grok-voice-latest is the original's name; using grok-3-mini" in lines
    settings = load_settings(environ)  # every value is valid here
    assert (settings.realtime_ai_provider, settings.xai_model, settings.status_led_backend) == (
        "xai",
        "grok-3-mini",
        "spi",
    )


# (END_OF_SPEECH_MS, END_OF_TURN_COMPLETE_MS, END_OF_TURN_INCOMPLETE_MS) at their defaults 600, 400 and 2000
EAGERNESS_WAITS = [("high", (360, 240, 1200)), ("medium", (600, 400, 2000)), ("low", (900, 600, 3000))]


@pytest.mark.parametrize(("eagerness", "waits"), EAGERNESS_WAITS)
def test_turn_eagerness_scales_every_end_of_turn_wait(tank_factory, eagerness, waits):
    judge = tank_factory({"TURN_EAGERNESS": eagerness}).billy.listener.end_of_turn
    assert (judge.silence_ms, judge.complete_ms, judge.incomplete_ms) == waits


def _fish(articulation: float) -> Fish:
    fish = Fish("modern", MotionTimeline(), make_pin_factory("mock"))
    fish.articulation = articulation
    return fish


def test_mouth_articulation_sets_which_syllables_open_the_mouth():
    quiet, middling, loud = 0.005, 0.03, 0.07  # RMS fractions of full scale, as playback measures a block
    for articulation, opened in ((10, (True, True, True)), (5, (False, True, True)), (0, (False, False, True))):
        fish = _fish(articulation)
        seen = []
        for loudness in (quiet, middling, loud):
            fish.follow(loudness)
            seen.append(fish.mouth.value > 0)
            fish.close_mouth()
        fish.close()
        assert tuple(seen) == opened, (articulation, seen)


def test_a_personas_mouth_articulation_wins_over_the_setting(tmp_path):
    settings = load_settings({"MOUTH_ARTICULATION": "3"})
    ini = tmp_path / "persona.ini"
    ini.write_text("[META]\nname = Pirate\nmouth_articulation = 9\n")
    assert articulation_of(Persona(ini), settings) == 9
    ini.write_text("[META]\nname = Plain\n")
    assert articulation_of(Persona(ini), settings) == 3
    ini.write_text("[META]\nmouth_articulation = lots\n")
    assert articulation_of(Persona(ini), settings) == 3


def test_the_head_stays_out_after_speech_until_the_delay_or_more_speech():
    fish = _fish(5)
    fish.head_retract_delay = 300  # far longer than this test: speaking again must be what keeps it out
    fish.head_out()
    fish.head_back_after_speech()
    assert fish.head.value > 0
    fish.head_out()  # the next answer starts: the pending retract is cancelled
    fish.head_retract_delay = 0.05
    fish.head_back_after_speech()
    wait_until(lambda: fish.head.value == 0, "the head back after the delay")
    fish.head_retract_delay = 0
    fish.head_out()
    fish.head_back_after_speech()
    assert fish.head.value == 0  # no delay: at once, as before
    fish.close()


def _tail_flaps(tank, since: float) -> int:
    return len([move for move in tank.timeline.moves(since) if move.part == "tail" and move.value > 0])


@pytest.mark.parametrize(("flap_on_boot", "flaps"), [("true", 2), ("false", 0)])
def test_flap_on_boot_flaps_the_tail_as_billy_says_he_is_ready(tank_factory, flap_on_boot, flaps):
    tank = tank_factory({"FLAP_ON_BOOT": flap_on_boot})
    since = tank.timeline.moves()[-1].t if tank.timeline.moves() else 0.0
    announce_ready(tank.billy)  # returns once the ready sound has played
    wait_until(lambda: _tail_flaps(tank, since) >= flaps, f"{flaps} tail flaps")
    assert _tail_flaps(tank, since) == flaps
