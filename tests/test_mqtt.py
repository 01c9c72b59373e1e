"""The MQTT link against a real mosquitto: discovery, say ordering, fuzzing, last will, broker restarts, traits,
credentials. Each test starts its own broker on a free port on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_until

from billy.appliance.operations import COMMAND_VERBS
from billy.integrations.mqtt.link import MqttLink
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

from mosquitto import Collector, Mosquitto

PASSWORD = "fish-Pa55word-8d1f"
TRAITS = {"humor": 70, "sarcasm": 40, "Honesty level": 90}
PERSONAS = ("default", "pirate")


class Recorder:
    """MqttHandlers that record every call; `say` can be made slow to prove ordering and non-blocking."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.traits = dict(TRAITS)
        self.volume = 80
        self.mic_muted = False
        self.say_delay = 0.0
        self._lock = threading.Lock()

    def _record(self, *call: object) -> None:
        with self._lock:
            self.calls.append(call)

    def of(self, kind: str) -> list[tuple]:
        with self._lock:
            return [call[1:] for call in self.calls if call[0] == kind]

    def perform(self, name: str, arguments: dict) -> None:
        """An operation (billy.appliance.operations), recorded as the call Billy would make of it."""
        if name == "say":
            time.sleep(self.say_delay)
            self._record("say", arguments["text"], arguments["literal"])
            if arguments["interactive"]:
                self._record("interactive", arguments["text"])
        elif name in COMMAND_VERBS.values():
            self._record("command", name)
        elif name == "trait":
            self.traits[arguments["name"]] = arguments["value"]
            self._record("set_trait", arguments["name"], arguments["value"])
        elif name == "volume":
            self.volume = arguments["value"]
            self._record("set_volume", self.volume)
        elif name == "mute":
            self.mic_muted = arguments["muted"]
            self._record("set_mic_muted", self.mic_muted)
        elif name == "song":
            self._record("play_song", arguments["name"])
        elif name == "wakeup":
            self._record("play_wakeup", arguments["index"], arguments["persona"])
        elif name == "persona":
            self._record("set_persona", arguments["name"])


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


def mqtt_env(broker: Mosquitto, **extra: str) -> dict[str, str]:
    return {"MQTT_HOST": "127.0.0.1", "MQTT_PORT": str(broker.port), **extra}


def make_link(broker: Mosquitto, recorder: Recorder, **extra: str) -> MqttLink:
    return MqttLink(
        load_settings(mqtt_env(broker, **extra)),
        recorder,
        lambda: dict(recorder.traits),
        lambda: recorder.volume,
        lambda: recorder.mic_muted,
        lambda: list(PERSONAS),
        lambda: PERSONAS[0],
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def link(broker: Mosquitto, recorder: Recorder) -> Iterator[MqttLink]:
    link = make_link(broker, recorder)
    link.start()
    wait_until(lambda: link.subscribed, what="the link to connect")
    link.publish_state("idle")
    yield link
    link.stop()


@pytest.fixture
def client(broker: Mosquitto) -> Iterator[Collector]:
    collector = Collector(broker.port, ["billy/#"])
    yield collector
    collector.close()


ORIGINAL_ENTITIES = {
    # The original's: an owner's Home Assistant knows them by these unique_ids (billy_<object id>).
    "state": ("sensor", "billy/state", "state_topic"),
    "shutdown": ("button", "billy/command", "command_topic"),
    "restart": ("button", "billy/command", "command_topic"),
    "reboot": ("button", "billy/command", "command_topic"),
    "listen": ("button", "billy/command", "command_topic"),
    "say": ("text", "billy/say", "command_topic"),
    "song": ("text", "billy/song", "command_topic"),
}
EXPECTED_ENTITIES = {
    # object id -> (component, the topic the entity is about, key of that topic)
    **ORIGINAL_ENTITIES,
    "heard": ("sensor", "billy/heard", "state_topic"),
    "said": ("sensor", "billy/said", "state_topic"),
    "song_last": ("sensor", "billy/song/last", "state_topic"),
    "stop": ("button", "billy/command", "command_topic"),
    "persona": ("select", "billy/persona/set", "command_topic"),
    "volume": ("number", "billy/volume/set", "command_topic"),
    "mic_muted": ("switch", "billy/mic_muted/set", "command_topic"),
    "trait_humor": ("number", "billy/trait/humor/set", "command_topic"),
    "trait_sarcasm": ("number", "billy/trait/sarcasm/set", "command_topic"),
    "trait_honesty_level": ("number", "billy/trait/honesty_level/set", "command_topic"),
    "timer": ("sensor", "billy/timer", "state_topic"),
    "timer_rang": ("event", "billy/timer/rang", "state_topic"),
    "software": ("update", "billy/update", "state_topic"),
    "backup": ("button", "billy/command", "command_topic"),
    "last_backup": ("sensor", "billy/backup", "state_topic"),
}
REQUIRED_KEYS = {
    "sensor": {"state_topic"},
    "event": {"state_topic", "event_types"},
    "text": {"command_topic"},
    "button": {"command_topic"},
    "number": {"command_topic"},
    "switch": {"command_topic"},
    "select": {"command_topic", "options"},
    "update": {"state_topic", "command_topic", "payload_install"},
}
PRESSED = {"restart": "restart-billy"}  # the original's payload for its restart button


def assert_discovery(collector: Collector) -> None:
    collector.wait_for(lambda: len(collector.discovered()) >= len(EXPECTED_ENTITIES), what="every discovery config")
    found = collector.discovered()
    assert set(found) == set(EXPECTED_ENTITIES)
    unique_ids = set()
    for object_id, (component, config) in found.items():
        want_component, topic, key = EXPECTED_ENTITIES[object_id]
        assert component == want_component, object_id
        assert REQUIRED_KEYS[component] <= set(config), object_id
        assert config[key] == topic, object_id
        assert config["availability_topic"] == "billy/availability"
        assert config["unique_id"] == f"billy_{object_id}"
        unique_ids.add(config["unique_id"])
        device = config["device"]
        assert device["identifiers"] == ["billy_bass"]
        assert device["model"] == "Billy Bassistant"
        assert device["name"] == "Big Mouth Billy Bass"
        assert device["sw_version"] and device["manufacturer"]
        assert device["configuration_url"].startswith("http")
        if component == "number":
            assert (config["min"], config["max"], config["state_topic"]) == (0, 100, topic.removesuffix("/set"))
        if component == "button":
            assert config["payload_press"] == PRESSED.get(object_id, object_id)
        if component == "select":
            assert config["options"] == list(PERSONAS) and config["state_topic"] == "billy/persona"
        if component == "switch":
            assert (config["state_topic"], config["payload_on"], config["payload_off"]) == (
                "billy/mic_muted",
                "ON",
                "OFF",
            )
    assert len(unique_ids) == len(found)


def test_discovery_and_state_are_retained_on_the_broker(link: MqttLink, broker: Mosquitto, client: Collector) -> None:
    link.publish_state("thinking")
    link.publish_heard("what is the weather")
    link.publish_said("wet, I hope")
    # Said went out last on the link's one connection: once a client already there has it, the broker holds
    # the rest too. (A client subscribing earlier gets a message still on its way live, not retained.)
    client.wait_for(lambda: client.latest().get("billy/said") == b"wet, I hope", what="billy/said at the broker")
    # A client arriving now gets everything from the broker's retained store.
    late = Collector(broker.port, ["homeassistant/#", "billy/#"])
    try:
        assert_discovery(late)
        late.wait_for(lambda: late.latest().get("billy/said") == b"wet, I hope", what="billy/said")
        latest = late.latest()
        assert latest["billy/availability"] == b"online"
        assert latest["billy/state"] == b"thinking"
        assert latest["billy/heard"] == b"what is the weather"
        assert latest["billy/volume"] == b"80"
        assert latest["billy/mic_muted"] == b"OFF"
        assert latest["billy/trait/honesty_level"] == b"90"
        assert all(message.retain for message in late.messages)
    finally:
        late.close()
    with pytest.raises(ValueError, match="unknown state"):
        link.publish_state("dancing")


def test_say_keeps_order_and_waits_its_turn(link: MqttLink, recorder: Recorder, client: Collector) -> None:
    recorder.say_delay = 0.4
    client.publish("billy/say", "Hello there")
    client.publish("billy/say", json.dumps({"text": "I am a fish", "literal": True}))
    client.publish("billy/say", '  {"text": "  in character  ", "literal": false}  ')
    client.publish("billy/command", " STOP\n")
    # `stop` runs while the first say is still busy: a slow say never holds back a command.
    wait_until(lambda: recorder.of("command") == [("stop",)], what="stop")
    assert len(recorder.of("say")) < 3
    wait_until(lambda: len(recorder.of("say")) == 3, what="three says")
    # Plain text is spoken as written (literal), as the original does; only literal false goes to the model.
    assert recorder.of("say") == [("Hello there", True), ("I am a fish", True), ("in character", False)]


def test_retained_commands_are_not_replayed(broker: Mosquitto, recorder: Recorder, client: Collector) -> None:
    client.publish("billy/command", "shutdown", retain=True)
    client.publish("billy/say", "stale words", retain=True)
    link = make_link(broker, recorder)
    link.start()
    try:
        wait_until(lambda: link.subscribed, what="connect")
        client.publish("billy/say", "fresh words")
        wait_until(lambda: recorder.of("say") == [("fresh words", True)], what="the fresh say")
        assert recorder.of("command") == []
    finally:
        link.stop()


FUZZ_MQTT_PAYLOADS = int(os.environ.get("FUZZ_MQTT_PAYLOADS", "400"))  # 10,000 in `make fuzz`
FUZZ_OUT = os.environ.get("FUZZ_OUT", "")
FUZZ_TOPICS = [  # every topic Billy reads, and trait names he does not have
    "billy/say",
    "billy/command",
    "billy/volume/set",
    "billy/mic_muted/set",
    "billy/trait/humor/set",
    "billy/trait/unknown/set",
    "billy/trait/été /set",
    "billy/song",
    "billy/wakeup/play",
    "billy/persona/set",
]


def fuzz_payloads(rng: random.Random, count: int) -> list[bytes]:
    fixed = [
        b"",
        b" ",
        b"\xff\xfe\x00",
        b"\xc3\x28",
        b"{",
        b'{"text": ',
        b"{}",
        b'{"text": ""}',
        b'{"text": 42}',
        b'{"text": null}',
        b'{"text": ["a"]}',
        b'{"text": "hi", "literal": "yes"}',
        b'{"text": "hi", "literal": 1}',
        b'{"text": NaN}',
        b'{"text": "x", "literal": Infinity}',
        b"NaN",
        b"nan",
        b"inf",
        b"-1",
        b"-0.5",
        b"101",
        b"100.0001",
        b"1e2",
        b"1_0",
        b"0x10",
        "٤٢".encode(),
        b"ON ON",
        b"on\x00",
        b"shutdown now",
        b"SHUTDOWN\x00",
        b"[" * 3000 + b"]" * 3000,
        b'{"a":' * 900 + b"1" + b"}" * 900,
        b"x" * 4097,
        b"y" * 200_000,
        b"say \x01\x02\x03",
        json.dumps({"text": "z" * 5000}).encode(),
    ]
    payloads = list(fixed)
    while len(payloads) < count:
        kind = rng.randrange(4)
        if kind == 0:
            payloads.append(rng.randbytes(rng.randrange(1, 300)))
        elif kind == 1:
            payloads.append(json.dumps(rng.choice([None, True, 3.5, [], {"literal": False}, {"text": {}}])).encode())
        elif kind == 2:
            payloads.append(str(rng.uniform(-1e6, 1e6)).encode())
        else:
            payloads.append(("{" * rng.randrange(1, 50) + rng.choice(['"text"', "'", ":", ","])).encode())
    return payloads[:count]


def test_fuzzed_payloads_are_ignored_and_the_link_stays_up(
    link: MqttLink, recorder: Recorder, client: Collector, broker: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """Every topic Billy reads gets FUZZ_MQTT_PAYLOADS malformed payloads (400 in `make test`, 10,000 in
    `make fuzz`), some retained, so a Billy connecting later receives them from the broker's store too."""
    caplog.set_level(logging.WARNING, logger="billy.integrations.mqtt")
    count = FUZZ_MQTT_PAYLOADS
    rng = random.Random(4)
    topics = FUZZ_TOPICS
    rss_before = _rss_kib()
    retained = 0
    for index, payload in enumerate(fuzz_payloads(rng, count)):
        retain = index % 10 == 0
        retained += retain
        client.client.publish(rng.choice(topics), payload, qos=0, retain=retain)
        if index % 500 == 499:  # let the link keep up rather than have the broker drop a slow subscriber
            checkpoint = (f"checkpoint {index}", True)
            client.publish("billy/say", checkpoint[0])
            wait_until(lambda c=checkpoint: c in recorder.of("say"), timeout=60, what="a checkpoint")
    client.publish("billy/say", "still here")
    wait_until(lambda: ("still here", True) in recorder.of("say"), timeout=60, what="the good say after the fuzz")
    assert link.connected
    # A second Billy arrives and gets the retained leftovers first: retained commands are not obeyed.
    late_recorder = Recorder()
    late = make_link(broker, late_recorder)
    late.start()
    try:
        wait_until(lambda: late.subscribed, what="the late link")
        client.publish("billy/say", "for the late one")
        wait_until(lambda: ("for the late one", True) in late_recorder.of("say"), timeout=60, what="the late say")
        assert late_recorder.of("command") == [] and late_recorder.of("say") == [("for the late one", True)]
    finally:
        late.stop()
    rss_after = _rss_kib()
    print(f"MQTT fuzz: {count} payloads ({retained} retained), test-process RSS {rss_before} -> {rss_after} KiB")
    # Whatever got through the fuzz was valid by construction.
    for text, literal in recorder.of("say"):
        assert isinstance(text, str) and text.strip() and isinstance(literal, bool)
    for (value,) in recorder.of("set_volume"):
        assert type(value) is int and 0 <= value <= 100
    for name, value in recorder.of("set_trait"):
        assert name == "humor" and type(value) is int and 0 <= value <= 100
    assert {call for (call,) in recorder.of("command")} <= {"shutdown", "restart-billy", "reboot", "listen", "stop"}
    for index, persona in recorder.of("play_wakeup"):
        assert type(index) is int and 1 <= index <= 99 and (persona is None or persona.strip())
    assert all(name.strip() for (name,) in recorder.of("play_song") + recorder.of("set_persona"))
    ignored = [r.getMessage() for r in caplog.records if "ignored a message on" in r.getMessage()]
    assert len(ignored) > count * 3 // 4
    assert any("billy/trait/unknown/set: no trait 'unknown'" in line for line in ignored)
    assert any("over MQTT_MAX_PAYLOAD_BYTES=4096" in line for line in ignored)


def _rss_kib(pid: int | str = "self") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def test_the_link_process_keeps_its_memory_under_fuzz(broker: Mosquitto, client: Collector, tmp_path: Path) -> None:
    """The link in a process of its own (`python -m billy.integrations.mqtt`), so its memory is not the test's: resident
    memory after the first tenth of the fuzz and at the end (bounded in `make fuzz`)."""
    out = tmp_path / "calls.jsonl"
    with out.open("w") as calls:
        process = subprocess.Popen(
            [sys.executable, "-m", "billy.integrations.mqtt"],
            env={**os.environ, **mqtt_env(broker)},
            stdout=calls,
            stderr=(tmp_path / "link.log").open("w"),
        )
    rng = random.Random(5)

    def arrived(text: str) -> bool:
        return f'"text": {json.dumps(text)}' in out.read_text()  # a line may still be half written

    def checkpoint(text: str) -> int:
        client.publish("billy/say", text)
        wait_until(lambda: arrived(text), timeout=60, what=f"the say {text!r}")
        assert process.poll() is None, (tmp_path / "link.log").read_text()[-2000:]
        return _rss_kib(process.pid)

    try:
        client.wait_for(lambda: client.latest().get("billy/availability") == b"online", what="online")
        payloads = fuzz_payloads(rng, FUZZ_MQTT_PAYLOADS)
        warm = len(payloads) // 10
        rss = []
        for index, payload in enumerate(payloads):
            client.client.publish(rng.choice(FUZZ_TOPICS), payload, qos=0, retain=index % 10 == 0)
            if index + 1 == warm:
                rss.append(checkpoint("warmed up"))
            elif index % 500 == 499:
                checkpoint(f"checkpoint {index}")
        rss.append(checkpoint("still here"))
    finally:
        process.terminate()
        process.wait(60)
    figures = {"payloads": len(payloads), "rss_kib_after_warm_up": rss[0], "rss_kib_last": rss[-1]}
    print("MQTT link process", json.dumps(figures))
    if FUZZ_OUT:
        known = json.loads(Path(FUZZ_OUT).read_text()) if Path(FUZZ_OUT).exists() else {}
        Path(FUZZ_OUT).write_text(json.dumps({**known, "mqtt link": figures}, indent=2) + "\n")
    if FUZZ_MQTT_PAYLOADS >= 5000:
        assert rss[-1] < rss[0] * 1.1, figures


def test_traits_volume_and_mute_are_set_over_mqtt(link: MqttLink, recorder: Recorder, client: Collector) -> None:
    for bad in ("abc", "101", "-1", "nan", "", "1e2", "50%"):
        client.publish("billy/trait/sarcasm/set", bad)
    client.publish("billy/trait/sarcasm/set", "55")
    client.publish("billy/trait/honesty_level/set", " 42.6 ")
    client.publish("billy/volume/set", "30")
    client.publish("billy/mic_muted/set", "on")
    wait_until(lambda: len(recorder.calls) == 4, what="four handler calls")
    assert recorder.of("set_trait") == [("sarcasm", 55), ("Honesty level", 43)]
    assert all(type(value) is int for _, value in recorder.of("set_trait"))
    assert recorder.of("set_volume") == [(30,)]
    assert recorder.of("set_mic_muted") == [(True,)]
    # The link republishes the value Billy kept, so Home Assistant's slider follows.
    client.wait_for(lambda: client.latest().get("billy/trait/sarcasm") == b"55", what="trait state")
    client.wait_for(lambda: client.latest().get("billy/mic_muted") == b"ON", what="switch state")
    assert client.latest()["billy/volume"] == b"30"


def run_link_process(broker: Mosquitto, tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "billy.integrations.mqtt"],
        env={**os.environ, **mqtt_env(broker)},
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "link.log").open("w"),
    )


def read_line(process: subprocess.Popen, timeout: float) -> dict:
    """The next JSON line the process prints, without hanging the test if it never comes."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no output in {timeout} s"
    return json.loads(process.stdout.readline())


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_dead_process_goes_offline(broker: Mosquitto, client: Collector, tmp_path: Path, how: int) -> None:
    process = run_link_process(broker, tmp_path)
    try:
        client.wait_for(lambda: client.latest().get("billy/availability") == b"online", what="online")
        client.wait_for(lambda: client.latest().get("billy/state") == b"idle", what="idle")
        client.publish("billy/say", "are you alive")
        assert read_line(process, timeout=60) == {
            "call": "say",
            "text": "are you alive",
            "literal": True,
            "interactive": False,
            "follow_up": False,
        }
        process.send_signal(how)
        process.wait(10)
        client.wait_for(lambda: client.payloads("billy/availability")[-1] == "offline", what="offline")
    finally:
        process.kill()
        process.wait()


def test_broker_restart_reconnects_and_republishes(
    broker: Mosquitto, link: MqttLink, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="billy.integrations.mqtt")
    link.publish_state("speaking")
    broker.stop()
    wait_until(lambda: not link.connected, what="the link to notice")
    link.publish_state("thinking")  # while the broker is away: kept and published on reconnect
    # No persistence: the restarted broker has forgotten every retained message.
    broker.start()
    wait_until(lambda: link.subscribed, timeout=60, what="the link to reconnect")
    fresh = Collector(broker.port, ["homeassistant/#", "billy/#"])
    try:
        assert_discovery(fresh)
        fresh.wait_for(lambda: fresh.latest().get("billy/state") == b"thinking", what="state")
        assert fresh.latest()["billy/availability"] == b"online"
        fresh.publish("billy/say", "back again")
        wait_until(lambda: recorder.of("say") == [("back again", True)], what="a say after the restart")
    finally:
        fresh.close()
    assert any("reconnected to" in r.getMessage() for r in caplog.records)


def test_unreachable_broker_at_start_does_not_block(
    tmp_path: Path, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    server = Mosquitto(tmp_path)  # port chosen, broker not running yet
    link = make_link(server, recorder)
    caplog.set_level(logging.INFO, logger="billy.integrations.mqtt")
    link.start()  # returns although nothing listens on the port: connecting happens in the background
    try:
        wait_until(lambda: "cannot reach" in caplog.text, what="the failed attempt to be logged")
        assert not link.connected
        server.start()
        wait_until(lambda: link.subscribed, timeout=60, what="the link to connect once the broker is up")
    finally:
        link.stop()
        server.stop()


def test_credentials_work_and_never_reach_the_logs(
    tmp_path: Path, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = Mosquitto(tmp_path, users={"billy": PASSWORD})
    server.start()
    good = make_link(server, recorder, MQTT_USERNAME="billy", MQTT_PASSWORD=PASSWORD)
    bad = make_link(server, recorder, MQTT_USERNAME="billy", MQTT_PASSWORD=PASSWORD + "-wrong")
    try:
        good.start()
        bad.start()
        wait_until(lambda: good.subscribed, what="the good link")
        watcher = Collector(server.port, ["billy/availability"], username="billy", password=PASSWORD)
        watcher.wait_for(lambda: watcher.payloads("billy/availability") == ["online"], what="online")
        watcher.close()
        wait_until(lambda: "refused the connection" in caplog.text, what="the refusal to be logged")
        assert not bad.connected
    finally:
        good.stop()
        bad.stop()
        server.stop()
    assert PASSWORD not in caplog.text


def test_without_mqtt_host_it_says_so_once(recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    link = MqttLink(load_settings({}), recorder, dict, int, bool)
    link.start()
    link.start()
    link.publish_state("listening")
    link.publish_said("nothing")
    link.publish_traits()
    link.stop()
    assert not link.connected
    # Only the link's own records: other libraries (and threads left by earlier tests) may log meanwhile.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("billy.integrations.mqtt")]
    assert ours == ["MQTT not configured (MQTT_HOST empty): running without it"]


def test_tls_with_the_configured_ca(tmp_path: Path, recorder: Recorder) -> None:
    server = Mosquitto(tmp_path, tls=True)
    server.start()
    link = make_link(server, recorder, MQTT_TLS="true", MQTT_CA_CERT=str(server.ca_cert))
    untrusting = make_link(server, Recorder(), MQTT_TLS="true")  # the system CAs do not know our test CA
    try:
        link.start()
        untrusting.start()
        watcher = Collector(server.port, ["billy/availability"], ca_cert=server.ca_cert)
        watcher.wait_for(lambda: watcher.payloads("billy/availability") == ["online"], what="online over TLS")
        watcher.publish("billy/say", "over TLS")
        wait_until(lambda: recorder.of("say") == [("over TLS", True)], what="a say over TLS")
        watcher.close()
        assert link.connected and not untrusting.connected
    finally:
        link.stop()
        untrusting.stop()
        server.stop()
    with pytest.raises(ConfigError, match="MQTT_CA_CERT"):
        make_link(server, recorder, MQTT_TLS="true", MQTT_CA_CERT=str(tmp_path / "missing.pem")).start()


def test_a_failing_handler_is_logged_and_the_next_message_still_arrives(
    link: MqttLink, recorder: Recorder, client: Collector, caplog: pytest.LogCaptureFixture
) -> None:
    spoken = []

    def perform(name: str, arguments: dict) -> None:
        if arguments["text"] == "boom":
            raise RuntimeError("the speaker caught fire")
        spoken.append(arguments["text"])

    recorder.perform = perform  # type: ignore[method-assign]
    client.publish("billy/say", "boom")
    client.publish("billy/say", "after the fire")
    wait_until(lambda: spoken == ["after the fire"], what="the say after the failure")
    assert "The handler for a message on billy/say failed" in caplog.text
    assert link.connected


def test_a_handler_may_stop_the_link(link: MqttLink, recorder: Recorder, client: Collector) -> None:
    recorder.perform = lambda name, arguments: link.stop()  # type: ignore[method-assign]
    client.publish("billy/command", "shutdown")
    client.wait_for(lambda: client.payloads("billy/availability")[-1:] == ["offline"], what="offline")
    wait_until(lambda: not link.connected, what="the link to finish stopping")  # it says offline, then disconnects


def test_the_originals_topics_reach_their_handlers(link: MqttLink, recorder: Recorder, client: Collector) -> None:
    client.publish("billy/song", "Tuna Tango")
    client.publish("billy/song", json.dumps({"song": "river_groove"}))
    client.publish("billy/wakeup/play", json.dumps({"index": 2, "persona": "pirate"}))
    client.publish("billy/wakeup/play", json.dumps({"index": 100}))
    client.publish("billy/persona/set", "pirate")
    for command in ("restart-billy", "reboot", "listen"):
        client.publish("billy/command", command)
    client.publish("billy/say", json.dumps({"text": "Dinner is ready", "interactive": True}))
    wait_until(lambda: recorder.of("interactive") == [("Dinner is ready",)], what="an interactive say")
    wait_until(lambda: len(recorder.of("command")) == 3, what="three commands")
    assert recorder.of("play_song") == [("Tuna Tango",), ("river_groove",)]
    assert recorder.of("play_wakeup") == [(2, "pirate")]  # index 100 is out of the original's 1..99
    assert recorder.of("set_persona") == [("pirate",)]
    assert recorder.of("command") == [("restart-billy",), ("reboot",), ("listen",)]
    link.publish_song_last("tuna_tango")
    client.wait_for(lambda: client.latest().get("billy/song/last") == b"tuna_tango", what="billy/song/last")


def test_power_commands_can_be_switched_off(broker: Mosquitto, recorder: Recorder, client: Collector) -> None:
    watcher = Collector(broker.port, ["homeassistant/#"])
    link = make_link(broker, recorder, BILLY_MQTT_POWER_COMMANDS="false")
    link.start()
    try:
        wait_until(lambda: link.subscribed, what="connect")
        # The retained configs of the shutdown and reboot buttons are cleared: Home Assistant removes them.
        watcher.wait_for(
            lambda: (
                watcher.latest().get("homeassistant/button/billy/shutdown/config") == b""
                and watcher.latest().get("homeassistant/button/billy/reboot/config") == b""
            ),
            what="the power buttons removed",
        )
        assert watcher.latest()["homeassistant/button/billy/listen/config"]
        for command in ("shutdown", "reboot", "listen"):
            client.publish("billy/command", command)
        wait_until(lambda: recorder.of("command") == [("listen",)], what="listen")
        assert recorder.of("command") == [("listen",)]
    finally:
        link.stop()
        watcher.close()
