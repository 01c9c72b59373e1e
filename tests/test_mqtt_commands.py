"""What the MQTT layer accepts, without a broker: payload parsing, topic names and discovery payloads."""

from __future__ import annotations

import json

import pytest

from billy.appliance.operations import COMMAND_VERBS
from billy.integrations.mqtt import commands, discovery
from billy.integrations.mqtt.commands import InvalidPayload, Say
from billy.integrations.mqtt.topics import Topics
from billy.settings.kinds import ConfigError


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"Hello", Say("Hello")),
        (b"  two\nlines\t ", Say("two\nlines")),
        (b"42", Say("42")),
        (b"[laughs] hello", Say("[laughs] hello")),
        ("Grüß dich, Fisch".encode(), Say("Grüß dich, Fisch")),
        (b'{"text": "exactly this", "literal": true}', Say("exactly this", True)),
        # As the original: JSON without `literal` is spoken as written too.
        (b' {"text": "as written"}', Say("as written", True)),
        (b'{"text": "x", "literal": false, "voice": "ignored"}', Say("x", False)),
        (b'{"text": "Dinner is ready", "interactive": true}', Say("Dinner is ready", True, True)),
        # The original's prompt form and inline tags.
        (b"{{Tell the kids to brush their teeth}}", Say("Tell the kids to brush their teeth", False, True)),
        (b"{{Announce the rain}} [[nochat]]", Say("Announce the rain", False, False)),
        (b"The door is open [[follow-up]]", Say("The door is open", True, True)),
        (b'{"text": "{{Say hi to Anna}}"}', Say("Say hi to Anna", False, True)),
    ],
)
def test_say_accepts_text_and_json(payload: bytes, expected: Say) -> None:
    assert commands.parse_say(payload) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\xff\xfe", "UTF-8"),
        (b"bell\x07", "control characters"),
        (b"{not json", "not valid JSON"),
        (b'{"text": "hi"} trailing', "not valid JSON"),
        (b'{"text": NaN}', "not valid JSON"),
        (b"[" * 5000 + b"]" * 5000, None),  # not starting with {: plain text with brackets is speakable
        (b"{" + b'"a":[' * 3000, "not valid JSON"),
        (b'{"literal": true}', "'text' must be a string"),
        (b'{"text": 7}', "'text' must be a string"),
        (b'{"text": "  "}', "empty"),
        (b'{"text": "hi", "literal": "true"}', "'literal' must be true or false"),
        (b'{"text": "hi", "literal": 1}', "'literal' must be true or false"),
        (b'{"text": "hi", "interactive": "no"}', "'interactive' must be true or false"),
        (b"[[chat]]", "empty"),
        (b"{{  }}", "empty"),
    ],
)
def test_say_rejects_malformed_payloads(payload: bytes, reason: str | None) -> None:
    if reason is None:
        assert commands.parse_say(payload).literal is True
        return
    with pytest.raises(InvalidPayload, match=reason):
        commands.parse_say(payload)


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (b"shutdown", "shutdown"),
        (b"restart-billy", "restart-billy"),
        (b" Restart\n", "restart-billy"),
        (b"reboot", "reboot"),
        (b"LISTEN", "listen"),
        (b"STOP", "stop"),
    ],
)
def test_commands(payload: bytes, name: str) -> None:
    assert commands.parse_command(payload, COMMAND_VERBS) == name


@pytest.mark.parametrize("payload", [b"poweroff", b"shutdown now", b"", b"\xc3\x28", b"stop\x00"])
def test_unknown_commands(payload: bytes) -> None:
    with pytest.raises(InvalidPayload):
        commands.parse_command(payload, COMMAND_VERBS)


@pytest.mark.parametrize(("payload", "value"), [(b"0", 0), (b"100", 100), (b" 42 ", 42), (b"42.6", 43), (b"7.0", 7)])
def test_percent_values(payload: bytes, value: int) -> None:
    assert commands.parse_percent(payload) == value
    assert type(commands.parse_percent(payload)) is int


@pytest.mark.parametrize(
    "payload", [b"-1", b"101", b"100.5", b"nan", b"inf", b"1e2", b"1_0", b"0x10", "٤٢".encode(), b"", b"50%", b"+5"]
)
def test_percent_rejects(payload: bytes) -> None:
    with pytest.raises(InvalidPayload):
        commands.parse_percent(payload)


def test_song_wakeup_and_persona_payloads() -> None:
    assert commands.parse_song(b" Tuna Tango ") == "Tuna Tango"
    assert commands.parse_song(b'{"song": "river_groove"}') == "river_groove"
    assert commands.parse_wakeup(b'{"index": 3, "persona": "pirate"}') == commands.WakeupPlay(3, "pirate")
    assert commands.parse_wakeup(b'{"index": 99}') == commands.WakeupPlay(99, None)
    assert commands.parse_name(b" pirate\n") == "pirate"
    for bad in (b'{"song": 3}', b"", b'{"song": ""}'):
        with pytest.raises(InvalidPayload):
            commands.parse_song(bad)
    for bad in (
        b'{"index": 0}',
        b'{"index": 100}',
        b'{"index": true}',
        b'{"index": "2"}',
        b"[]",
        b'{"index": 1, "persona": 5}',
    ):
        with pytest.raises(InvalidPayload):
            commands.parse_wakeup(bad)


def test_original_discovery_ids_and_power_buttons_switched_off() -> None:
    configs = discovery.payloads(Topics("billy"), "Big Mouth Billy Bass", "", ["humor"], ["default", "pirate"])
    assert configs["homeassistant/select/billy/brain/config"] is None  # no cloud key: nothing to switch to
    by_id = {config["unique_id"]: (topic, config) for topic, config in configs.items() if config is not None}
    for object_id, component in (
        ("state", "sensor"),
        ("shutdown", "button"),
        ("restart", "button"),
        ("reboot", "button"),
        ("listen", "button"),
        ("say", "text"),
        ("song", "text"),
    ):
        topic, config = by_id[f"billy_{object_id}"]
        assert topic == f"homeassistant/{component}/billy/{object_id}/config"
        assert config["device"]["identifiers"] == ["billy_bass"]
    assert by_id["billy_restart"][1]["payload_press"] == "restart-billy"
    assert by_id["billy_persona"][1]["options"] == ["default", "pirate"]
    off = discovery.payloads(Topics("billy"), "Billy", "", [], power_buttons=False)
    assert off["homeassistant/button/billy/shutdown/config"] is None
    assert off["homeassistant/button/billy/reboot/config"] is None
    assert off["homeassistant/button/billy/restart/config"] is not None


def test_switch() -> None:
    assert commands.parse_switch(b"ON") is True
    assert commands.parse_switch(b" off ") is False
    with pytest.raises(InvalidPayload):
        commands.parse_switch(b"1")


@pytest.mark.parametrize("prefix", ["", "billy/#", "a/+/b", "billy/", "/billy", "a//b"])
def test_bad_topic_prefix_names_the_setting(prefix: str) -> None:
    with pytest.raises(ConfigError, match="MQTT_TOPIC_PREFIX"):
        Topics(prefix)


def test_a_second_fish_gets_its_own_topics_and_ids() -> None:
    first, second = Topics("billy"), Topics("home/Billy 2")
    assert second.node_id == "home_billy_2"
    assert second.say == "home/Billy 2/say"
    assert second.trait_id_of("home/Billy 2/trait/humor/set") == "humor"
    assert second.trait_id_of("home/Billy 2/trait/a/b/set") is None
    assert first.trait_id_of("home/Billy 2/trait/humor/set") is None
    one = discovery.payloads(first, "Billy", "", ["humor"], cloud_brain=True)
    two = discovery.payloads(second, "Billy 2", "", ["humor"], cloud_brain=True)
    assert not set(one) & set(two)
    assert {config["device"]["identifiers"][0] for config in two.values()} == {"home_billy_2_bass"}
    ids = {config["unique_id"] for config in one.values()} | {config["unique_id"] for config in two.values()}
    assert len(ids) == len(one) + len(two)
    assert all("configuration_url" not in config["device"] for config in one.values())
    assert "homeassistant/number/home_billy_2/trait_humor/config" in two
    assert all(json.loads(discovery.to_json(config)) == config for config in two.values())
