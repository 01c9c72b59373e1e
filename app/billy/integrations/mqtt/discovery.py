"""Home Assistant MQTT discovery: one device, Billy, and the config payload of each of its entities.

The original project's entities come first and keep its discovery topics, unique_ids (`billy_state`,
`billy_shutdown`, `billy_restart`, `billy_reboot`, `billy_listen`, `billy_say`, `billy_song`), names and device
(`identifiers: ["billy_bass"]`), so a Home Assistant that knew the original fish keeps its entities, their
history and the automations pointing at them. Billy's own entities join the same device. With another topic
prefix every id follows it (`kitchen_state`, device `kitchen_bass`), so two fish never collide.

Payloads follow Home Assistant's per-component schemas (sensor needs `state_topic`; text, button, number,
select and switch need `command_topic`), carry the availability topic (the whole fish greys out when the last
will fires) and are published retained, so Home Assistant finds Billy whenever it starts. An entity that is
switched off (the power buttons, by `BILLY_MQTT_POWER_COMMANDS=false`) maps to None: its retained config is
cleared, which removes it from Home Assistant.
"""

from __future__ import annotations

import json
from typing import Any

from billy import __version__
from billy.appliance.operations import POWER_COMMANDS
from billy.appliance.states import STATES
from billy.integrations.mqtt.topics import Topics, slug
from billy.settings.schema import BRAINS

MODEL = "Billy Bassistant"
MANUFACTURER = "Billy, locally"
# Home Assistant rejects sensor states and text values longer than 255 characters.
HA_MAX_STATE = 255


def device(topics: Topics, name: str, web_url: str) -> dict[str, Any]:
    block = {
        "identifiers": [topics.device_id],
        "name": name,
        "model": MODEL,
        "manufacturer": MANUFACTURER,
        "sw_version": __version__,
    }
    if web_url:
        block["configuration_url"] = web_url
    return block


def payloads(
    topics: Topics,
    name: str,
    web_url: str,
    traits: list[str],
    personas: list[str] | None = None,
    power_buttons: bool = True,
    cloud_brain: bool = False,
) -> dict[str, dict[str, Any] | None]:
    """Discovery topic -> config payload (None: remove it) for every entity, traits and personas included.
    `cloud_brain`: the cloud's key is set, so the brain may be switched to its Realtime voice."""
    common = {"device": device(topics, name, web_url), "availability_topic": topics.availability}
    original: list[tuple[str, str, dict[str, Any]]] = [
        ("sensor", "state", {"name": "Billy State", "state_topic": topics.state, "icon": "mdi:fish"}),
        ("button", "shutdown", _button("Billy Shutdown", topics.command, "shutdown", "mdi:power")),
        ("button", "restart", _button("Billy Restart", topics.command, "restart-billy", None, device_class="restart")),
        ("button", "reboot", _button("Billy Reboot", topics.command, "reboot", "mdi:restart")),
        ("button", "listen", _button("Billy Listen", topics.command, "listen", "mdi:microphone")),
        ("text", "say", _text("Billy Say", topics.say, "mdi:bullhorn")),
        ("text", "song", _text("Billy Song", topics.song, "mdi:music")),
    ]
    original[0][2].update(device_class="enum", options=list(STATES))
    extra: list[tuple[str, str, dict[str, Any]]] = [
        ("sensor", "heard", _text_sensor("Billy Last heard", topics.heard, "mdi:ear-hearing")),
        ("sensor", "said", _text_sensor("Billy Last said", topics.said, "mdi:comment-quote")),
        ("sensor", "song_last", _text_sensor("Billy Last song", topics.song_last, "mdi:music-note")),
        ("button", "stop", _button("Billy Stop talking", topics.command, "stop", "mdi:stop")),
        (
            "number",
            "volume",
            {
                **_percent("Billy Volume", topics.volume, topics.volume_set),
                "unit_of_measurement": "%",
                "icon": "mdi:volume-high",
            },
        ),
        (
            "switch",
            "mic_muted",
            {
                "name": "Billy Mute microphone",
                "command_topic": topics.mic_muted_set,
                "state_topic": topics.mic_muted,
                "payload_on": "ON",
                "payload_off": "OFF",
                "icon": "mdi:microphone-off",
            },
        ),
    ]
    extra += [
        (
            "select",
            "brain",
            {
                "name": "Billy Brain",
                "command_topic": topics.brain_set,
                "state_topic": topics.brain,
                "options": list(BRAINS),
                "icon": "mdi:brain",
            },
        ),
        (
            "sensor",
            "cloud_usage",
            {
                "name": "Billy Cloud audio today",
                "state_topic": topics.cloud_usage,
                "value_template": "{{ (value_json.audio_in_min + value_json.audio_out_min) | round(2) }}",
                "json_attributes_topic": topics.cloud_usage,
                "unit_of_measurement": "min",
                "icon": "mdi:cloud-outline",
            },
        ),
        (
            "sensor",
            "timer",
            {
                "name": "Billy Timer",
                "state_topic": topics.timer,
                "device_class": "timestamp",
                "value_template": "{{ value if value != 'None' else None }}",
                "icon": "mdi:timer-outline",
            },
        ),
        (
            "button",
            "backup",
            {**_button("Billy Back up", topics.command, "backup", "mdi:content-save"), "entity_category": "config"},
        ),
        (
            "sensor",
            "last_backup",
            {
                "name": "Billy Last backup",
                "state_topic": topics.backup,
                "value_template": "{{ value_json.made }}",
                "json_attributes_topic": topics.backup,
                "device_class": "timestamp",
                "entity_category": "diagnostic",
                "icon": "mdi:archive-outline",
            },
        ),
        (
            "update",
            "software",
            {
                "name": "Billy Software",
                "state_topic": topics.update,
                "command_topic": topics.command,
                "payload_install": "update",
                "device_class": "firmware",
                "entity_category": "config",
            },
        ),
        (
            "event",
            "timer_rang",
            {
                "name": "Billy Timer rang",
                "state_topic": topics.timer_rang,
                "event_types": ["timer_done"],
                "icon": "mdi:timer-alert",
            },
        ),
    ]
    if personas:
        extra.append(
            (
                "select",
                "persona",
                {
                    "name": "Billy Persona",
                    "command_topic": topics.persona_set,
                    "state_topic": topics.persona,
                    "options": list(personas),
                    "icon": "mdi:drama-masks",
                },
            )
        )
    for trait in traits:
        trait_id, label = slug(trait), f"Billy {trait.strip().capitalize()}"
        extra.append(
            (
                "number",
                f"trait_{trait_id}",
                {
                    **_percent(label, topics.trait(trait_id), topics.trait_set(trait_id)),
                    "entity_category": "config",
                    "icon": "mdi:tune-variant",
                },
            )
        )
    configs: dict[str, dict[str, Any] | None] = {}
    for component, object_id, config in original + extra:
        removed = (not power_buttons and component == "button" and object_id in POWER_COMMANDS) or (
            object_id in ("brain", "cloud_usage") and not cloud_brain
        )
        configs[topics.discovery(component, object_id)] = (
            None if removed else {**config, "unique_id": f"{topics.node_id}_{object_id}", **common}
        )
    return configs


def _text(name: str, topic: str, icon: str) -> dict[str, Any]:
    return {"name": name, "command_topic": topic, "mode": "text", "max": HA_MAX_STATE, "icon": icon}


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
