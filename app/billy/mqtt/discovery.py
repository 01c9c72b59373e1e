"""Home Assistant MQTT discovery: one device, Billy, and the config payload of each of its entities.

Payloads follow Home Assistant's per-component schemas (sensor needs `state_topic`; text, button, number and
switch need `command_topic`). Each carries a `unique_id` built from the node id, the shared `device` block and
the availability topic, so Home Assistant greys the whole fish out when the last will fires. Published
retained, so Home Assistant finds Billy whenever it starts.
"""

from __future__ import annotations

import json
from typing import Any

from billy import __version__
from billy.mqtt.topics import Topics, slug

MODEL = "Big Mouth Billy Bass"
MANUFACTURER = "Billy, locally"
STATES = ("starting", "idle", "listening", "thinking", "speaking", "singing", "error")
# Home Assistant rejects sensor states and text values longer than 255 characters.
HA_MAX_STATE = 255


def device(topics: Topics, name: str, web_url: str) -> dict[str, Any]:
    block = {
        "identifiers": [f"billy_{topics.node_id}"],
        "name": name,
        "model": MODEL,
        "manufacturer": MANUFACTURER,
        "sw_version": __version__,
    }
    if web_url:
        block["configuration_url"] = web_url
    return block


def payloads(topics: Topics, name: str, web_url: str, traits: list[str]) -> dict[str, dict[str, Any]]:
    """Discovery topic -> config payload for every entity, traits included (names as the persona has them)."""
    common = {"device": device(topics, name, web_url), "availability_topic": topics.availability}
    entities: list[tuple[str, str, dict[str, Any]]] = [
        (
            "sensor",
            "state",
            {
                "name": "State",
                "state_topic": topics.state,
                "device_class": "enum",
                "options": list(STATES),
                "icon": "mdi:fish",
            },
        ),
        ("sensor", "heard", _text_sensor("Last heard", topics.heard, "mdi:ear-hearing")),
        ("sensor", "said", _text_sensor("Last said", topics.said, "mdi:comment-quote")),
        (
            "text",
            "say",
            {"name": "Say", "command_topic": topics.say, "mode": "text", "max": HA_MAX_STATE, "icon": "mdi:bullhorn"},
        ),
        ("button", "stop", _button("Stop talking", topics.command, "stop", "mdi:stop")),
        ("button", "restart", _button("Restart", topics.command, "restart", None, device_class="restart")),
        ("button", "shutdown", _button("Shut down", topics.command, "shutdown", "mdi:power")),
        (
            "number",
            "volume",
            {
                **_percent("Volume", topics.volume, topics.volume_set),
                "unit_of_measurement": "%",
                "icon": "mdi:volume-high",
            },
        ),
        (
            "switch",
            "mic_muted",
            {
                "name": "Mute microphone",
                "command_topic": topics.mic_muted_set,
                "state_topic": topics.mic_muted,
                "payload_on": "ON",
                "payload_off": "OFF",
                "icon": "mdi:microphone-off",
            },
        ),
    ]
    for trait in traits:
        trait_id = slug(trait)
        entities.append(
            (
                "number",
                f"trait_{trait_id}",
                {
                    **_percent(trait.strip().capitalize(), topics.trait(trait_id), topics.trait_set(trait_id)),
                    "entity_category": "config",
                    "icon": "mdi:tune-variant",
                },
            )
        )
    return {
        topics.discovery(component, object_id): {
            **config,
            "unique_id": f"billy_{topics.node_id}_{object_id}",
            **common,
        }
        for component, object_id, config in entities
    }


def _text_sensor(name: str, topic: str, icon: str) -> dict[str, Any]:
    # The topic carries the whole text for other consumers; Home Assistant gets what fits in a state.
    return {"name": name, "state_topic": topic, "value_template": f"{{{{ value[:{HA_MAX_STATE}] }}}}", "icon": icon}


def _button(name: str, topic: str, payload: str, icon: str | None, **extra: str) -> dict[str, Any]:
    config = {"name": name, "command_topic": topic, "payload_press": payload, **extra}
    if icon:
        config["icon"] = icon
    return config


def _percent(name: str, state_topic: str, command_topic: str) -> dict[str, Any]:
    return {
        "name": name,
        "state_topic": state_topic,
        "command_topic": command_topic,
        "min": 0,
        "max": 100,
        "step": 1,
        "mode": "slider",
    }


def to_json(config: dict[str, Any]) -> str:
    return json.dumps(config, ensure_ascii=False, separators=(",", ":"))
