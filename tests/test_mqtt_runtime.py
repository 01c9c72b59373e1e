"""Billy on MQTT, the whole runtime: a real mosquitto on 127.0.0.1 started by each test, Billy wired to it the way
`billy run` does (`start_billy`), real STT/TTS services and the scripted LLM. What Billy says is checked in the
file-backed speaker, what he reports on the broker through a subscriber."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until

from billy.appliance.states import STATES
from billy.appliance.work import MAX_WAITING as MAX_WAITING_SAYS
from billy.integrations.mqtt.topics import slug
from billy.services.stt.client import SttClient

from billy_harness import TEST_TIMEOUT
from mosquitto import Collector, Mosquitto
from song_fixtures import v2_song
from standins import Reply
from test_mqtt import fuzz_payloads
from text_match import contains_words, words

BILLY_RUN = [sys.executable, "-m", "billy", "run", "--audio", "file", "--gpio", "mock"]
QUESTION = "What do you like to eat?"
STORY = (
    "Once upon a time a fish lived on a kitchen wall. "
    "Every morning he sang to the kettle and the toaster. "
    "The cat did not like his songs at all, but he sang anyway."
)


def in_order(seen: list[str], expected: list[str]) -> bool:
    """`expected` is a subsequence of `seen` (other items may come between)."""
    remaining = iter(seen)
    return all(item in remaining for item in expected)


def say_json(text: str, literal: bool) -> str:
    return json.dumps({"text": text, "literal": literal})


def loud_blocks(tank, mark: int) -> list:
    return [block for block in tank.speaker.played_since(mark) if block.loud]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    directory = tmp_path / "broker"
    directory.mkdir()
    server = Mosquitto(directory)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """Where the harmless shutdown and restart commands leave their files."""
    directory = tmp_path / "marks"
    directory.mkdir()
    return directory


def runtime_env(broker: Mosquitto, marks: Path) -> dict[str, str]:
    return {
        "MQTT_HOST": "127.0.0.1",
        "MQTT_PORT": str(broker.port),
        # Never power anything off: the commands only leave a file the test can look for.
        "BILLY_SHUTDOWN_COMMAND": f"touch {marks / 'shutdown-ran'}",
        "BILLY_RESTART_COMMAND": f"touch {marks / 'restart-ran'}",
        "BILLY_REBOOT_COMMAND": f"touch {marks / 'reboot-ran'}",
        "BILLY_UPDATE_COMMAND": f"touch {marks / 'update-ran'}",
    }


@pytest.fixture
def collector(broker: Mosquitto) -> Iterator[Callable[..., Collector]]:
    made: list[Collector] = []

    def make(topics: list[str]) -> Collector:
        made.append(Collector(broker.port, topics))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def billy_on_mqtt(tank_factory, broker: Mosquitto, marks: Path, llm):
    """A whole Billy in the test process, on the test's broker through the production wiring."""
    llm.default = Reply("Blub.", word_delay=0.0)  # what any unscripted say in character gets: short
    links = []

    def make(env: dict[str, str] | None = None):
        tank = tank_factory({**runtime_env(broker, marks), **(env or {})})
        link = tank.billy.link  # attached by the same wiring as `billy run`
        links.append(link)
        wait_until(lambda: link.subscribed, timeout=60, what="Billy to connect to the broker")
        return tank, link

    yield make
    for link in links:  # offline while the broker still runs (the tanks close after it stops)
        link.stop()


def expected_discovery(traits: dict[str, int]) -> set[str]:
    original = {"state", "shutdown", "restart", "reboot", "listen", "say", "song"}
    extra = {"heard", "said", "song_last", "stop", "volume", "mic_muted", "persona", "timer", "timer_rang", "software"}
    extra |= {"backup", "last_backup"}
    return original | extra | {f"trait_{slug(name)}" for name in traits}


def assert_discovered(watch: Collector, traits: dict[str, int]) -> None:
    want = expected_discovery(traits)
    watch.wait_for(lambda: set(watch.discovered()) >= want, timeout=60, what="every discovery config")
    found = watch.discovered()
    assert set(found) == want
    for object_id, (component, config) in found.items():
        assert config["unique_id"] == f"billy_{object_id}"  # the original's ids: HA keeps its entities
        assert config["availability_topic"] == "billy/availability"
        assert config["device"]["identifiers"] == ["billy_bass"]
        assert config["device"]["name"] == "Big Mouth Billy Bass"
        assert ("state_topic" if component in ("sensor", "event", "update") else "command_topic") in config, object_id


# -- a spoken turn ------------------------------------------------------------------------------------


def test_a_spoken_turn_moves_the_state_and_reports_the_words(billy_on_mqtt, collector, llm, speak):
    llm.then(Reply("My name is Billy."))
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/state", "billy/heard", "billy/said"])
    turn = tank.ask(speak(QUESTION))
    tank.wait_idle()
    watch.wait_for(lambda: watch.payloads("billy/state")[-1:] == ["idle"], what="billy/state idle after the session")
    states = watch.payloads("billy/state")
    assert in_order(states, ["listening", "thinking", "speaking", "idle"]), states
    assert "error" not in states
    assert turn.result.said == "My name is Billy."
    watch.wait_for(lambda: watch.payloads("billy/said")[-1:] == ["My name is Billy."], what="billy/said")
    assert words(watch.payloads("billy/heard")[-1]) == words(QUESTION)


# -- billy/say ----------------------------------------------------------------------------------------


def test_a_timer_shows_in_home_assistant_and_its_ring_is_an_event(billy_on_mqtt, collector, llm, speak):
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/timer", "billy/timer/rang"])
    watch.wait_for(lambda: watch.payloads("billy/timer")[-1:] == ["None"], what="no timer yet")
    before = time.time()
    tank.ask(speak("Start a pasta timer for three seconds."))

    def running() -> list[str]:  # it may have rung already: the whole history, not the last value
        return [payload for payload in watch.payloads("billy/timer") if payload != "None"]

    watch.wait_for(running, what="the timer's end")
    ends = datetime.fromisoformat(running()[0])
    assert before + 2 <= ends.timestamp() <= time.time() + 4  # the moment it rings, to the second
    watch.wait_for(lambda: watch.payloads("billy/timer/rang"), what="the ring's event")
    assert json.loads(watch.payloads("billy/timer/rang")[0]) == {"event_type": "timer_done", "name": "pasta"}
    assert watch.payloads("billy/timer")[-1] == "None"
    tank.microphone.queue(speak("Stop."))
    tank.wait_idle()
    assert llm.requests == []


def test_say_as_text_and_as_json_makes_billy_speak(billy_on_mqtt, collector, llm, stt_service):
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/said"])

    def said(text: str, timeout: float = 60) -> None:
        watch.wait_for(lambda: watch.payloads("billy/said")[-1:] == [text], timeout=timeout, what=f"said {text!r}")
        tank.wait_idle()

    # As the original: plain text (Home Assistant's "Billy Say" text entity sends it so), JSON without
    # `literal` and JSON with literal true are spoken exactly as written; the language model is not asked.
    for payload, exact in (
        ("Hello from Home Assistant.", "Hello from Home Assistant."),
        (json.dumps({"text": "The washing machine has finished."}), "The washing machine has finished."),
        (say_json("Good morning. The coffee is ready.", True), "Good morning. The coffee is ready."),
    ):
        mark = tank.speaker.mark()
        watch.publish("billy/say", payload)
        said(exact)
        played = tank.speaker.wav_since(mark, gaps=False)
        heard_back = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(played)
        assert contains_words(heard_back, exact), heard_back
    assert llm.requests == []

    # JSON with literal false, and the original's {{prompt}} form: Billy answers it in character.
    for payload, asked, reply in (
        (say_json("Wish the kids good night", False), "Wish the kids good night", "Sleep tight, little ones."),
        ("{{Tell everyone that dinner is ready}} [[nochat]]", "Tell everyone that dinner is ready", "Dinner, humans."),
    ):
        llm.then(Reply(reply))
        count, mark = len(llm.requests), tank.speaker.mark()
        watch.publish("billy/say", payload)
        said(reply)
        assert len(llm.requests) == count + 1
        assert words(llm.requests[-1]["body"]["messages"][-1]["content"]) == words(asked)
        assert loud_blocks(tank, mark), f"nothing audible was played for {payload!r}"


def test_a_say_while_billy_talks_is_spoken_after_not_dropped(billy_on_mqtt, collector, llm, speak):
    llm.then(Reply(STORY))
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/said"])
    tank.microphone.queue(speak(QUESTION))
    tank.press_button()
    wait_until(lambda: tank.billy.state == "speaking", what="Billy to speak")
    later = "And now the weather: rain."
    watch.publish("billy/say", say_json(later, True))
    turn = tank.wait_turn(0)
    assert not turn.result.interrupted and words(turn.result.said) == words(STORY)
    watch.wait_for(lambda: watch.payloads("billy/said")[-1:] == [later], timeout=60, what="the say after the turn")
    assert [words(text) for text in watch.payloads("billy/said")] == [words(STORY), words(later)]
    # It was spoken after the story ended, not over it.
    story_end = turn.result.last_sound_at
    assert story_end is not None
    after = [block for block in tank.speaker.played_since() if block.loud and block.started >= story_end]
    assert after, "the say was not heard after the story"
    tank.wait_idle()


# -- garbage in -----------------------------------------------------------------------------------------


def test_fuzzed_payloads_on_every_topic_leave_billy_up_and_speaking(
    billy_on_mqtt, collector, marks, llm, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING)
    tank, link = billy_on_mqtt()
    watch = collector(["billy/said", "billy/volume", "billy/mic_muted"])
    kinds = [
        "billy/say",
        "billy/command",
        "billy/song",
        "billy/wakeup/play",
        "billy/volume/set",
        "billy/mic_muted/set",
        "trait",
    ]
    traits = [*map(slug, tank.billy.persona.traits), "nobody"]
    rng = random.Random(44)
    for payload in fuzz_payloads(rng, 400):
        topic = rng.choice(kinds)
        if topic == "trait":
            topic = f"billy/trait/{rng.choice(traits)}/set"
        # QoS 0 and never the retain flag: a test client must not leave garbage retained on the broker.
        watch.client.publish(topic, payload, qos=0)
    # A good value after the garbage: once Billy shows it, he has been handed every message before it.
    # (Published again if need be: in a flood the link may drop what does not fit its bounded queue.)
    for _ in range(6):
        watch.publish("billy/volume/set", "83")
        with contextlib.suppress(TimeoutError):
            watch.wait_for(lambda: watch.latest().get("billy/volume") == b"83", timeout=60)
            break
    assert watch.latest().get("billy/volume") == b"83", "the volume set after the fuzz never took"
    # Random text that happens to be valid is spoken as written: at most MAX_WAITING_SAYS of it.
    tank.wait_idle(timeout=120)
    assert link.connected and not tank.billy.stopping.is_set()
    ignored = [r.getMessage() for r in caplog.records if "ignored a message on" in r.getMessage()]
    assert len(ignored) > 250, len(ignored)
    # The valid random texts (~40 with this seed) did not all queue up: the backlog of says is bounded.
    assert any("dropped the say asked for" in r.getMessage() for r in caplog.records)
    assert len(llm.requests) <= 2 * MAX_WAITING_SAYS, len(llm.requests)
    assert not any(marks.iterdir())
    assert tank.billy.volume == 83 and all(0 <= v <= 100 for v in tank.billy.persona.traits.values())

    # Put back what the valid part of the fuzz may have changed, then a good say is still spoken.
    watch.publish("billy/mic_muted/set", "OFF")
    watch.wait_for(lambda: watch.latest().get("billy/mic_muted") == b"OFF", what="mic unmuted")
    good = "I survived the storm."
    mark = tank.speaker.mark()
    watch.publish("billy/say", say_json(good, True))
    watch.wait_for(lambda: watch.payloads("billy/said")[-1:] == [good], timeout=60, what="the good say")
    assert loud_blocks(tank, mark), "the good say was not heard"
    tank.wait_idle()


# -- the process dies, the broker restarts ----------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_runtime_process_dying_makes_the_broker_publish_offline(
    broker, collector, marks, tmp_path, sounds_dir, stt_service, tts_service, llm, how
):
    state_dir = tmp_path / "state"
    shutil.copytree(sounds_dir, state_dir / "sounds")
    env = {
        **os.environ,
        **runtime_env(broker, marks),
        "BILLY_STATE_DIR": str(state_dir),
        "STT_BASE_URL": stt_service.base_url,
        "TTS_BASE_URL": tts_service.base_url,
        "LLM_BASE_URL": llm.base_url,
        "LOCAL_LLM_MODEL": llm.model,
    }
    watch = collector(["billy/#"])
    log_path = tmp_path / "billy-run.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*BILLY_RUN, "--audio-dir", str(tmp_path / "spool")],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def online() -> bool:
            assert process.poll() is None, f"billy run exited with {process.returncode}: {log_path.read_text()}"
            return watch.latest().get("billy/availability") == b"online"

        wait_until(online, timeout=90, what="billy run to come online")
        watch.wait_for(lambda: watch.latest().get("billy/state") == b"idle", what="billy/state idle")
        # The real process answers a say (it goes through its TTS and file speaker).
        watch.publish("billy/say", say_json("Still swimming.", True))
        watch.wait_for(lambda: watch.payloads("billy/said")[-1:] == ["Still swimming."], timeout=60, what="the say")
        process.send_signal(how)
        # SIGKILL: the broker's last will says offline; SIGTERM: Billy says it himself on the way out.
        assert process.wait(15) == (0 if how == signal.SIGTERM else -signal.SIGKILL)
        watch.wait_for(lambda: watch.payloads("billy/availability")[-1:] == ["offline"], timeout=60, what="offline")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_broker_restart_mid_session_billy_talks_on_reconnects_and_republishes(
    billy_on_mqtt, broker, collector, llm, speak
):
    llm.then(Reply(STORY))
    tank, link = billy_on_mqtt()
    tank.microphone.queue(speak(QUESTION))
    tank.press_button()
    wait_until(lambda: tank.billy.state == "speaking", what="Billy to speak")
    broker.stop()
    wait_until(lambda: not link.connected, timeout=60, what="the link to notice the broker is gone")
    # The broker going away does not stop Billy talking.
    turn = tank.wait_turn(0)
    assert not turn.result.interrupted and not turn.result.failed_stage
    assert words(turn.result.said) == words(STORY)
    broker.start()  # no persistence: it forgot every retained message
    wait_until(lambda: link.subscribed, timeout=90, what="Billy to reconnect")
    fresh = collector(["homeassistant/#", "billy/#"])
    assert_discovered(fresh, tank.billy.persona.traits)
    fresh.wait_for(lambda: fresh.latest().get("billy/availability") == b"online", what="online again")
    # The last state, heard and said texts are back too, though the broker forgot them.
    fresh.wait_for(lambda: fresh.latest().get("billy/state", b"").decode() in STATES, what="billy/state")
    fresh.wait_for(lambda: words(fresh.latest().get("billy/said", b"").decode()) == words(STORY), what="said")
    assert words(fresh.latest()["billy/heard"].decode()) == words(QUESTION)
    tank.wait_idle()
    after = "I am back on the network."
    mark = tank.speaker.mark()
    fresh.publish("billy/say", say_json(after, True))
    fresh.wait_for(lambda: fresh.payloads("billy/said")[-1:] == [after], timeout=60, what="a say after the restart")
    assert loud_blocks(tank, mark)
    tank.wait_idle()


# -- traits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("allow", ["true", "false"])
def test_a_trait_set_over_mqtt_changes_the_next_prompt(billy_on_mqtt, collector, llm, speak, allow):
    tank, _ = billy_on_mqtt({"ALLOW_UPDATE_PERSONALITY_INI": allow})
    ini = tank.state_dir / "persona.ini"
    before = ini.read_text() if ini.exists() else None
    assert tank.billy.persona.traits["humor"] != 7
    watch = collector(["billy/trait/humor"])
    watch.publish("billy/trait/humor/set", "7")
    watch.wait_for(lambda: watch.latest().get("billy/trait/humor") == b"7", what="the humor number to follow")
    llm.then(Reply("Ha. Ha."))
    tank.ask(speak(QUESTION))
    system = llm.requests[-1]["body"]["messages"][0]["content"]
    assert "humor 7/100" in system, system
    if allow == "true":
        assert "humor = 7" in ini.read_text()
    else:
        assert (ini.read_text() if ini.exists() else None) == before
    tank.wait_idle()


# -- commands ---------------------------------------------------------------------------------------------


def test_shutdown_restart_and_reboot_run_the_configured_commands(billy_on_mqtt, collector, marks):
    _, link = billy_on_mqtt()
    watch = collector(["billy/availability"])
    watch.publish("billy/command", "shutdown")
    wait_until(lambda: (marks / "shutdown-ran").exists(), timeout=60, what="the shutdown command")
    assert not (marks / "restart-ran").exists()
    watch.publish("billy/command", "restart-billy")  # the original's payload; " Restart" works too
    wait_until(lambda: (marks / "restart-ran").exists(), timeout=60, what="the restart command")
    watch.publish("billy/command", "reboot")
    wait_until(lambda: (marks / "reboot-ran").exists(), timeout=60, what="the reboot command")
    # Running the command is all Billy does: the unit it names does the rest.
    assert link.connected and watch.latest().get("billy/availability") == b"online"


def test_the_update_entity_follows_the_updater_and_its_install_button_starts_it(billy_on_mqtt, collector, marks):
    """Home Assistant's update entity: the installed and offered release from the updater's update.json, its
    progress as the file changes, and the Install button (payload_install on billy/command) runs the update."""
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/update", "homeassistant/update/billy/software/config"])
    watch.wait_for(lambda: {"billy/update", "homeassistant/update/billy/software/config"} <= set(watch.latest()),
                   timeout=60, what="the update entity")  # fmt: skip
    assert json.loads(watch.latest()["homeassistant/update/billy/software/config"])["payload_install"] == "update"
    first = json.loads(watch.latest()["billy/update"])
    assert first["installed_version"] == first["latest_version"] and first["in_progress"] is False
    status = tank.state_dir / "update.json"
    status.write_text(json.dumps({"latest": "9.9.9", "notes": "Sings in tune", "phase": "downloading", "percent": 20}))
    watch.wait_for(lambda: b'"update_percentage": 20' in watch.latest().get("billy/update", b""), timeout=60,
                   what="the update's progress")  # fmt: skip
    offered = json.loads(watch.latest()["billy/update"])
    assert (offered["latest_version"], offered["in_progress"], offered["release_summary"]) == (
        "9.9.9",
        True,
        "Sings in tune",
    )
    watch.publish("billy/command", "update")
    wait_until(lambda: (marks / "update-ran").exists(), timeout=60, what="the update command")


def test_the_back_up_button_keeps_a_backup_on_the_fish_and_says_when(billy_on_mqtt, collector, tmp_path):
    """Home Assistant's Back up button: an archive in BILLY_BACKUP_DIR, the oldest beyond BILLY_BACKUPS_KEPT
    removed, and the Last backup sensor (a timestamp with the file and size as attributes) updated."""
    shelf = tmp_path / "backups"
    shelf.mkdir()
    for old in ("billy-backup-20200101-000000.tar", "billy-backup-20210101-000000.tar", "keep-me.tar"):
        (shelf / old).write_bytes(b"old")
    tank, _ = billy_on_mqtt({"BILLY_BACKUP_DIR": str(shelf), "BILLY_BACKUPS_KEPT": "2"})
    (tank.state_dir / "persona.ini").write_text("[PERSONALITY]\nhumor = 90\n")
    watch = collector(["billy/backup", "homeassistant/sensor/billy/last_backup/config"])
    watch.wait_for(lambda: "billy/backup" in watch.latest(), timeout=60, what="the last backup at start")
    assert json.loads(watch.latest()["billy/backup"])["file"] == "billy-backup-20210101-000000.tar"
    config = json.loads(watch.latest()["homeassistant/sensor/billy/last_backup/config"])
    assert config["device_class"] == "timestamp" and config["state_topic"] == "billy/backup"
    watch.publish("billy/command", "backup")
    watch.wait_for(lambda: b"20210101" not in watch.latest().get("billy/backup", b"20210101"), timeout=60,
                   what="the new backup")  # fmt: skip
    last = json.loads(watch.latest()["billy/backup"])
    assert last["problem"] == "" and last["kept"] == 2 and last["made"].endswith("+00:00")
    assert sorted(path.name for path in shelf.iterdir()) == sorted([last["file"], "billy-backup-20210101-000000.tar",
                                                                    "keep-me.tar"])  # fmt: skip
    with tarfile.open(shelf / last["file"]) as archive:
        assert "state/persona.ini" in archive.getnames()


def test_power_commands_switched_off_are_refused(billy_on_mqtt, collector, marks):
    billy_on_mqtt({"BILLY_MQTT_POWER_COMMANDS": "false"})
    watch = collector(["billy/said"])
    watch.publish("billy/command", "shutdown")
    watch.publish("billy/command", "reboot")
    watch.publish("billy/command", "restart-billy")
    wait_until(lambda: (marks / "restart-ran").exists(), timeout=15, what="the restart command")
    # Commands are handled in order: the refused ones came first, so they are not merely late.
    assert sorted(path.name for path in marks.iterdir()) == ["restart-ran"]


def test_listen_starts_a_session_and_ends_it(billy_on_mqtt, collector):
    tank, _ = billy_on_mqtt({"MIC_TIMEOUT_SECONDS": "60"})
    watch = collector(["billy/state"])
    watch.publish("billy/command", "listen")
    wait_until(lambda: tank.billy.state == "listening", timeout=15, what="Billy to listen")
    watch.publish("billy/command", "listen")  # the original's toggle: a second listen ends the session
    tank.wait_idle(timeout=15)
    watch.wait_for(lambda: watch.payloads("billy/state")[-1:] == ["idle"], what="idle")


def test_a_song_asked_over_mqtt_plays_and_is_reported(billy_on_mqtt, collector):
    tank, _ = billy_on_mqtt()
    v2_song(tank.state_dir / "custom_songs")
    watch = collector(["billy/state", "billy/song/last"])
    mark = tank.speaker.mark()
    watch.publish("billy/song", json.dumps({"song": "fishy dance"}))  # a keyword of "Tuna Tango"
    watch.wait_for(lambda: watch.latest().get("billy/song/last") == b"tuna_tango", what="billy/song/last")
    tank.wait_idle(timeout=30)
    watch.wait_for(lambda: watch.payloads("billy/state")[-1:] == ["idle"], what="idle")
    assert in_order(watch.payloads("billy/state"), ["playing_song", "idle"])
    played = sum(len(block.samples) / block.rate for block in tank.speaker.played_since(mark))
    assert played >= 3.9, played  # the whole 4 s song
    watch.publish("billy/song", "bohemian rhapsody")  # unknown: logged, Billy carries on
    watch.publish("billy/say", "Still here.")
    watch.wait_for(lambda: tank.billy.state == "idle" and watch.payloads("billy/state")[-1:] == ["idle"], what="idle")


def test_wakeup_clips_and_personas_over_mqtt(billy_on_mqtt, collector, llm, speak):
    tank, _ = billy_on_mqtt()
    pirate = tank.state_dir / "personas" / "pirate"
    (pirate / "wakeup").mkdir(parents=True)
    (pirate / "persona.ini").write_text(
        "[PERSONALITY]\nhumor = 90\n[META]\nname = Captain Billy\nvoice = ballad\n"
        "instructions = You are a pirate fish.\n[WAKEUP]\n1 = Arr, who goes there?\n"
    )
    clip = tank.billy.sounds.get("wake-1")
    (pirate / "wakeup" / "1.wav").write_bytes(clip.to_wav())
    watch = collector(["billy/persona", "homeassistant/select/billy/persona/config"])
    watch.publish("billy/persona/set", "captain billy")  # its [META] name works as well as its folder
    watch.wait_for(lambda: watch.latest().get("billy/persona") == b"pirate", what="billy/persona")
    options = json.loads(watch.latest()["homeassistant/select/billy/persona/config"])["options"]
    assert options == ["default", "pirate"]
    assert tank.billy.persona.traits["humor"] == 90 and tank.billy.persona.traits["honesty"] == 100  # v2 defaults
    mark = tank.speaker.mark()
    watch.publish("billy/wakeup/play", json.dumps({"index": 1}))
    wait_until(lambda: len(tank.speaker.played_since(mark)) > 0, what="the wake-up clip")
    tank.wait_idle()
    played = np.concatenate([block.samples for block in tank.speaker.played_since(mark)])
    assert len(played) == len(clip.samples)
    llm.then(Reply("Arr."))
    tank.ask(speak(QUESTION))
    assert "You are a pirate fish." in llm.requests[-1]["body"]["messages"][0]["content"]
    assert (tank.state_dir / "persona-current").read_text().strip() == "pirate"
    tank.wait_idle()


def test_stop_command_cuts_billy_off(billy_on_mqtt, collector):
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/state"])
    mark = tank.speaker.mark()
    watch.publish("billy/say", say_json(STORY, True))
    wait_until(lambda: any(block.loud for block in tank.speaker.played_since(mark)), what="Billy to be heard")
    watch.publish("billy/command", "stop")
    assert tank.billy.interrupt.wait(30), "the stop command never interrupted Billy"
    stopped_at = time.monotonic()
    tank.wait_idle()
    # The player checks the interrupt before each block: at most the block already past that check may start
    # after it. The story would take many more blocks, so this also proves it was cut short.
    late = [block for block in tank.speaker.played_since(mark) if block.started > stopped_at]
    assert len(late) <= 1, f"{len(late)} blocks played after stop"
    assert tank.billy.fish.motors_off
    watch.wait_for(lambda: watch.payloads("billy/state")[-1:] == ["idle"], what="idle")


def test_the_microphone_muted_over_mqtt_stops_the_button_starting_a_session(billy_on_mqtt, collector):
    tank, _ = billy_on_mqtt()
    watch = collector(["billy/mic_muted"])
    watch.publish("billy/mic_muted/set", "ON")
    watch.wait_for(lambda: watch.latest().get("billy/mic_muted") == b"ON", what="the switch to show ON")
    assert tank.billy.mic_muted
    states = len(tank.states)
    tank.press_button()
    # Work is taken in order: once a message queued after the press is spoken, the press was handled.
    tank.billy.perform("say", {"text": "after the press", "literal": True, "interactive": False})
    wait_until(lambda: "speaking" in tank.states[states:], what="the message queued after the press")
    tank.wait_idle()
    handled = tank.states[states:]
    assert "listening" not in handled[: handled.index("speaking")]
    watch.publish("billy/mic_muted/set", "off")
    watch.wait_for(lambda: watch.latest().get("billy/mic_muted") == b"OFF", what="the switch to show OFF")
    tank.press_button()
    wait_until(lambda: tank.billy.state == "listening", timeout=60, what="Billy to listen once unmuted")
    tank.wait_idle()
