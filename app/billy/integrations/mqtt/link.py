"""The connection to the MQTT broker: publish what Billy does, dispatch what arrives to the runtime.

The runtime creates one `MqttLink`, gives it an `MqttHandlers` and callables for the current traits, volume
and mic switch, and calls `start()`. paho's loop thread keeps the connection and reconnects with backoff
(1 s doubling to 30 s); on every (re)connect the link subscribes again and republishes discovery, availability,
state, the last heard and said texts, traits, volume and mic switch, because a restarted broker may have lost
them all. A last will marks Billy offline when the process dies.

Incoming payloads are read into an operation of the table (billy.appliance.operations) in paho's thread
(cheap), and performed on two worker threads: one for what waits its turn to be heard (say, song, wake-up clip)
so it keeps arrival order, one for everything else so `stop` is not stuck behind a long say. The trait, volume,
switch and persona states are republished after their operation, so Home Assistant shows the value Billy kept.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from billy.appliance import operations
from billy.appliance.states import STATES
from billy.integrations.mqtt import commands, discovery
from billy.integrations.mqtt.commands import InvalidPayload
from billy.integrations.mqtt.topics import Topics, slug
from billy.integrations.mqtt.worker import Worker
from billy.services.llm.cloud import chosen_brain
from billy.settings.kinds import ConfigError
from billy.settings.read import Settings

log = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"
KEEPALIVE_SECONDS = 30
RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS = 1, 30


class MqttHandlers(Protocol):
    """What does an operation of the table (billy.appliance.operations) that arrived: the runtime's Billy.
    Called on the link's worker threads, never paho's. A ValueError or LookupError is a refusal, logged."""

    def perform(self, name: str, arguments: dict) -> object: ...


class MqttLink:
    """Billy's one connection to the broker: what he publishes, and the operations that arrive.

    Long because paho's callbacks, the republish on every (re)connect and the dispatch of what arrives all
    share one connection's state (connected, subscribed, the latest value of each topic, the two workers).
    """

    def __init__(
        self,
        settings: Settings,
        handlers: MqttHandlers,
        traits: Callable[[], dict[str, int]],
        volume: Callable[[], int],
        mic_muted: Callable[[], bool],
        personas: Callable[[], list[str]] = list,
        persona: Callable[[], str] = str,
        brain: Callable[[], str] = lambda: "local",
    ) -> None:
        self._settings = settings
        self._personas = personas
        self._persona = persona
        self._brain = brain
        self._handlers = handlers
        self._traits = traits
        self._volume = volume
        self._mic_muted = mic_muted
        self.topics = Topics(settings.mqtt_topic_prefix, settings.mqtt_discovery_prefix)
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()  # the broker confirmed the subscriptions of this connection
        self._stopping = False
        self._told_not_configured = False
        self._ever_connected = False
        self._reported_down = False
        # The latest values, so a reconnect can republish them.
        self._state: str | None = None
        self._heard: str | None = None
        self._said: str | None = None
        self._song_last: str | None = None
        self._timer: str | None = None
        self._update: str | None = None
        self._backup: str | None = None
        self._say_worker: Worker | None = None
        self._control_worker: Worker | None = None
        self._by_topic = {
            getattr(self.topics, operation.topic): operation
            for operation in operations.OPERATIONS
            if operation.payload is not None and operation.topic != "trait"
        }
        # What an operation's `shows` names, republished after it.
        self._shown = {
            "persona": self.persona_changed,
            "traits": self.publish_traits,
            "volume": self.publish_volume,
            "mic_muted": self.publish_mic_muted,
            "brain": self.publish_brain,
        }

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def subscribed(self) -> bool:
        """Connected, and the broker has confirmed Billy's subscriptions: a message published now reaches him
        (between the connection and this, a say or command is not delivered)."""
        return self._subscribed.is_set()

    @property
    def configured(self) -> bool:
        return bool(self._settings.mqtt_host)

    def start(self) -> None:
        """Begin connecting in the background and return at once; without MQTT_HOST, say so once and do nothing."""
        if not self.configured:
            if not self._told_not_configured:
                log.info("MQTT not configured (MQTT_HOST empty): running without it")
                self._told_not_configured = True
            return
        if self._client is not None:
            return
        settings = self._settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            # Unique per process: a second instance with the same id would make the broker drop the first.
            client_id=f"billy-{self.topics.node_id}-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        if settings.mqtt_username:
            client.username_pw_set(settings.mqtt_username, settings.mqtt_password or None)
        if settings.mqtt_tls:
            try:
                client.tls_set(ca_certs=settings.mqtt_ca_cert or None)
            except (OSError, ValueError) as error:
                raise ConfigError(
                    f"MQTT_CA_CERT={settings.mqtt_ca_cert!r} cannot be used for TLS: {error}; "
                    "give the path of a PEM CA certificate, or leave it empty for the system's"
                ) from None
        client.will_set(self.topics.availability, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_SECONDS, RECONNECT_MAX_SECONDS)
        client.enable_logger(logging.getLogger(f"{__name__}.paho"))
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._say_worker = Worker("mqtt-say")
        self._control_worker = Worker("mqtt-control")
        self._stopping = False
        self._client = client
        log.info("MQTT: connecting to %s:%d as %r", settings.mqtt_host, settings.mqtt_port, self.topics.prefix)
        client.connect_async(settings.mqtt_host, settings.mqtt_port, keepalive=KEEPALIVE_SECONDS)
        client.loop_start()

    def stop(self) -> None:
        """Say offline, disconnect and stop the threads. Safe to call twice or without start()."""
        client, self._client = self._client, None
        if client is None:
            return
        self._stopping = True
        if self.connected:
            try:
                client.publish(self.topics.availability, OFFLINE, qos=1, retain=True).wait_for_publish(timeout=2)
            except (RuntimeError, ValueError) as error:
                log.warning("MQTT: could not publish offline before disconnecting: %s", error)
        client.disconnect()
        client.loop_stop()
        self._connected.clear()
        self._subscribed.clear()
        for worker in (self._say_worker, self._control_worker):
            if worker is not None:
                worker.stop()

    def publish_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}: expected one of {', '.join(STATES)}")
        self._state = state
        self._publish(self.topics.state, state)

    def publish_heard(self, text: str) -> None:
        self._heard = text
        self._publish(self.topics.heard, text)

    def publish_said(self, text: str) -> None:
        self._said = text
        self._publish(self.topics.said, text)

    def publish_song_last(self, name: str) -> None:
        self._song_last = name
        self._publish(self.topics.song_last, name)

    def publish_timers(self, timers: list) -> None:
        """When the next running timer rings, for Home Assistant's timestamp sensor (`None`: no timer)."""
        running = [timer.ends_at for timer in timers if not timer.paused]
        ends = datetime.fromtimestamp(min(running), UTC).isoformat(timespec="seconds") if running else "None"
        self._timer = ends
        self._publish(self.topics.timer, ends)

    def publish_timer_rang(self, name: str) -> None:
        payload = {"event_type": "timer_done", "name": name}
        self._publish(self.topics.timer_rang, json.dumps(payload), retain=False)

    def publish_persona(self) -> None:
        if self._persona():
            self._publish(self.topics.persona, self._persona())

    def publish_traits(self) -> None:
        for name, value in self._traits().items():
            self._publish(self.topics.trait(slug(name)), str(int(value)))

    def publish_volume(self) -> None:
        self._publish(self.topics.volume, str(int(self._volume())))

    def publish_mic_muted(self) -> None:
        self._publish(self.topics.mic_muted, "ON" if self._mic_muted() else "OFF")

    def publish_cloud_usage(self, usage: dict) -> None:
        """Today's Realtime voice usage (turns, audio minutes each way, tokens) and why the local pipeline answers,
        if it does: a sensor with attributes."""
        self._publish(self.topics.cloud_usage, json.dumps(usage))

    def publish_update(self, entity: dict) -> None:
        """The update entity's state (billy.appliance.update_entity): versions, notes, progress."""
        self._update = json.dumps(entity)
        self._publish(self.topics.update, self._update)

    def publish_backup(self, entity: dict) -> None:
        """The last backup kept on the fish (billy.appliance.backup_shelf)."""
        self._backup = json.dumps(entity)
        self._publish(self.topics.backup, self._backup)

    def publish_brain(self) -> None:
        self._publish(self.topics.brain, self._brain())

    def publish_discovery(self) -> None:
        settings = self._settings
        configs = discovery.payloads(
            self.topics,
            settings.mqtt_device_name,
            settings.billy_web_url,
            list(self._traits()),
            self._personas(),
            settings.billy_mqtt_power_commands,
            bool(chosen_brain(settings).api_key),
        )
        for topic, config in configs.items():
            self._publish(topic, "" if config is None else config)

    def _publish(self, topic: str, payload: str | dict, retain: bool = True) -> None:
        # QoS 0 and nothing queued while offline: paho would resend queued QoS 1 messages after the connect
        # handler's republish, so a stale state would overwrite the fresh one. Every value published here is
        # the latest of its topic and is republished on each connect, which is the delivery guarantee we need.
        client = self._client
        if client is None or not self.connected:
            return
        if isinstance(payload, dict):
            payload = discovery.to_json(payload)
        try:
            client.publish(topic, payload, qos=0, retain=retain)
        except (ValueError, TypeError) as error:
            log.warning("MQTT: could not publish on %s: %s", topic, error)

    def _republish_all(self) -> None:
        self.publish_discovery()
        self._publish(self.topics.availability, ONLINE)
        for topic, value in (
            (self.topics.state, self._state),
            (self.topics.heard, self._heard),
            (self.topics.said, self._said),
            (self.topics.song_last, self._song_last),
            (self.topics.timer, self._timer),
            (self.topics.update, self._update),
            (self.topics.backup, self._backup),
        ):
            if value is not None:
                self._publish(topic, value)
        self.publish_traits()
        self.publish_persona()
        self.publish_volume()
        self.publish_mic_muted()
        self.publish_brain()

    # paho callbacks: they run on paho's loop thread, so they never raise and never block.

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason, properties) -> None:
        settings = self._settings
        if reason.is_failure:
            log.warning(
                "MQTT broker %s:%d refused the connection: %s (check MQTT_USERNAME and MQTT_PASSWORD)",
                settings.mqtt_host,
                settings.mqtt_port,
                reason,
            )
            return
        self._connected.set()
        log.info(
            "MQTT: %s %s:%d",
            "reconnected to" if self._ever_connected else "connected to",
            settings.mqtt_host,
            settings.mqtt_port,
        )
        self._ever_connected = True
        self._reported_down = False
        try:
            client.subscribe([(topic, 1) for topic in self.topics.subscriptions])
            self._republish_all()
        except Exception:
            log.exception("MQTT: republishing after connecting failed")

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self._report_down("cannot reach")

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.warning("MQTT: the broker refused a subscription: %s", ", ".join(str(code) for code in refused))
        self._subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason, properties) -> None:
        self._connected.clear()
        self._subscribed.clear()
        if not self._stopping:
            self._report_down(f"lost ({reason})")

    def _report_down(self, what: str) -> None:
        # Warn once per outage; the retries every 1..30 s would otherwise fill the journal.
        level = logging.DEBUG if self._reported_down else logging.WARNING
        self._reported_down = True
        settings = self._settings
        log.log(
            level,
            "MQTT broker %s:%d %s; retrying every %d to %d s",
            settings.mqtt_host,
            settings.mqtt_port,
            what,
            RECONNECT_MIN_SECONDS,
            RECONNECT_MAX_SECONDS,
        )

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        try:
            self._dispatch(topic, message.payload, message.retain)
        except InvalidPayload as problem:
            log.warning("MQTT: ignored a message on %s: %s", topic, problem)
        except Exception:
            log.exception("MQTT: ignored a message on %s that could not be handled", topic)

    def _dispatch(self, topic: str, payload: bytes, retained: bool) -> None:
        limit = self._settings.mqtt_max_payload_bytes
        if len(payload) > limit:
            raise InvalidPayload(f"{len(payload)} bytes is over MQTT_MAX_PAYLOAD_BYTES={limit}")
        if retained:
            # A retained command would be replayed on every reconnect: shutting Billy down again and again.
            raise InvalidPayload("retained messages are not commands; publish it without the retain flag")
        if self._say_worker is None or self._control_worker is None:  # a message racing stop()
            raise InvalidPayload("the link is stopping")
        operation, arguments = self._operation_of(topic, payload)
        if operation.power and not self._settings.billy_mqtt_power_commands:
            raise InvalidPayload(f"{operation.name} is switched off here (BILLY_MQTT_POWER_COMMANDS=false)")
        # What waits its turn to be heard keeps arrival order on one worker; `stop` is never stuck behind it.
        worker = self._say_worker if operation.play is not None else self._control_worker
        worker.submit(topic, lambda: self._perform(operation, arguments))

    def _operation_of(self, topic: str, payload: bytes) -> tuple[operations.Operation, dict]:
        if topic == self.topics.command:
            return operations.BY_NAME[commands.parse_command(payload, operations.COMMAND_VERBS)], {}
        if (trait_id := self.topics.trait_id_of(topic)) is not None:
            names = {slug(name): name for name in self._traits()}
            if trait_id not in names:
                raise InvalidPayload(f"no trait {trait_id!r}: Billy has {', '.join(sorted(names)) or 'none'}")
            return operations.BY_NAME["trait"], {"name": names[trait_id], "value": commands.parse_percent(payload)}
        operation = self._by_topic.get(topic)
        if operation is None:
            raise InvalidPayload("not a topic Billy listens to")
        return operation, operation.payload(payload)

    def _perform(self, operation: operations.Operation, arguments: dict) -> None:
        """Do it; then show the value Billy kept, also when he refused the new one."""
        try:
            self._handlers.perform(operation.name, arguments)
        except (ValueError, LookupError) as refusal:
            log.warning("MQTT: %s not done: %s", operation.name, refusal)
        finally:
            if operation.shows:
                self._shown[operation.shows]()

    def persona_changed(self) -> None:
        """A new persona brings its own traits: Home Assistant gets their entities and values."""
        self.publish_discovery()
        self.publish_persona()
        self.publish_traits()
