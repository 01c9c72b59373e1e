"""Every MQTT topic Billy uses, derived from the topic prefix (`MQTT_TOPIC_PREFIX`, default `billy`).

A second fish on the same broker only needs another prefix: topics, Home Assistant ids and the device all
follow from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from billy.settings.kinds import ConfigError

_NOT_ID = re.compile(r"[^a-z0-9_]+")


def slug(name: str) -> str:
    """An id Home Assistant and MQTT topics both accept: lower case letters, digits and underscores."""
    return _NOT_ID.sub("_", name.strip().lower()).strip("_") or "_"


@dataclass(frozen=True)
class Topics:
    prefix: str
    discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
        for name, value in (("MQTT_TOPIC_PREFIX", self.prefix), ("MQTT_DISCOVERY_PREFIX", self.discovery_prefix)):
            # A wildcard or an empty level in the prefix would make every subscription match the wrong topics.
            if not value or any(c in value for c in "+#\0") or "" in value.split("/"):
                raise ConfigError(
                    f"{name}={value!r} is not valid: expected topic levels like 'billy' or 'home/billy', "
                    "without '+', '#' or empty levels"
                )

    @property
    def node_id(self) -> str:
        """The prefix as one id: it names the device and prefixes every unique_id (`billy` as the original)."""
        return slug(self.prefix)

    @property
    def device_id(self) -> str:
        """The device's identifier: `billy_bass` for the default prefix, exactly as the original's."""
        return f"{self.node_id}_bass"

    def topic(self, *levels: str) -> str:
        return "/".join((self.prefix, *levels))

    @property
    def state(self) -> str:
        return self.topic("state")

    @property
    def availability(self) -> str:
        return self.topic("availability")

    @property
    def say(self) -> str:
        return self.topic("say")

    @property
    def command(self) -> str:
        return self.topic("command")

    @property
    def song(self) -> str:
        return self.topic("song")

    @property
    def song_last(self) -> str:
        return self.topic("song", "last")

    @property
    def wakeup_play(self) -> str:
        return self.topic("wakeup", "play")

    @property
    def backup(self) -> str:
        """The last backup kept on the fish (billy.appliance.backup_shelf): when, which file, how big (JSON)."""
        return self.topic("backup")

    @property
    def update(self) -> str:
        """Home Assistant's update entity: installed and offered release, notes, progress (JSON, retained)."""
        return self.topic("update")

    @property
    def persona(self) -> str:
        return self.topic("persona")

    @property
    def timer(self) -> str:
        """When the next running timer rings (ISO 8601), or `None`: Home Assistant counts down to it."""
        return self.topic("timer")

    @property
    def timer_rang(self) -> str:
        return self.topic("timer", "rang")

    @property
    def persona_set(self) -> str:
        return self.topic("persona", "set")

    @property
    def brain(self) -> str:
        return self.topic("brain")

    @property
    def brain_set(self) -> str:
        return self.topic("brain", "set")

    @property
    def cloud_usage(self) -> str:
        return self.topic("cloud", "usage")

    @property
    def heard(self) -> str:
        return self.topic("heard")

    @property
    def said(self) -> str:
        return self.topic("said")

    @property
    def volume(self) -> str:
        return self.topic("volume")

    @property
    def volume_set(self) -> str:
        return self.topic("volume", "set")

    @property
    def mic_muted(self) -> str:
        return self.topic("mic_muted")

    @property
    def mic_muted_set(self) -> str:
        return self.topic("mic_muted", "set")

    def trait(self, trait_id: str) -> str:
        return self.topic("trait", trait_id)

    def trait_set(self, trait_id: str) -> str:
        return self.topic("trait", trait_id, "set")

    @property
    def trait_set_pattern(self) -> str:
        """One subscription for every trait, so a trait added later needs no new subscription."""
        return self.topic("trait", "+", "set")

    def trait_id_of(self, topic: str) -> str | None:
        """The trait id in a `P/trait/<id>/set` topic, or None for any other topic."""
        head, tail = self.topic("trait", ""), "/set"
        if topic.startswith(head) and topic.endswith(tail):
            trait_id = topic[len(head) : -len(tail)]
            if trait_id and "/" not in trait_id:
                return trait_id
        return None

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{object_id}/config"

    @property
    def subscriptions(self) -> list[str]:
        return [
            self.say,
            self.command,
            self.song,
            self.wakeup_play,
            self.persona_set,
            self.volume_set,
            self.mic_muted_set,
            self.brain_set,
            self.trait_set_pattern,
        ]
