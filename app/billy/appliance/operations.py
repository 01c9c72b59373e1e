"""Everything Billy can be asked to do from outside, in one table: its name, where it may come from, how its
arguments are read and checked, and what Billy does.

Three ways in share the table: MQTT (`integrations/mqtt/link.py` finds the operation by topic, or by the verb
sent on `billy/command`), the control socket the web page talks through (`appliance/control.py`, by name), and
Billy's own work loop (`appliance/billy.py`), which plays what waits its turn. Each way may use only the
operations the table opens to it: an allow-list, like the settings'.

An operation has two halves. `run` happens at once, on the caller's thread: it checks (an unknown song is an
error the web page shows), acts (the volume), or puts the operation in Billy's work queue. `play` is what the
loop does when its turn comes (a message spoken, a song sung), so nothing is ever said over Billy's own voice.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from billy.appliance import body_test, brain_choice, performances
from billy.appliance.backup_shelf import BackupShelf
from billy.appliance.status import status_of
from billy.integrations.mqtt import commands
from billy.integrations.mqtt.commands import InvalidPayload

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

Arguments = dict[str, Any]
MAX_MEASURE_SECONDS = 10
LOG = logging.getLogger(__name__)


class OperationRefused(ValueError):
    """The operation does not exist on this way in, or its arguments are not valid; the message says why."""


def _nothing(fields: Mapping[str, Any]) -> Arguments:
    return {}


def _text(fields: Mapping[str, Any], key: str, what: str) -> str:
    value = fields.get(key, "")
    if not isinstance(value, str):
        raise OperationRefused(f"{key} must be text, got {type(value).__name__}")
    try:
        return commands.speakable(value, what)
    except InvalidPayload as error:
        raise OperationRefused(str(error)) from None


def _flag(fields: Mapping[str, Any], key: str, default: bool) -> bool:
    value = fields.get(key, default)
    if not isinstance(value, bool):
        raise OperationRefused(f"{key} must be true or false, got {value!r:.40}")
    return value


def _say_fields(fields: Mapping[str, Any]) -> Arguments:
    return {
        "text": _text(fields, "text", "the text"),
        "literal": _flag(fields, "literal", True),
        "interactive": _flag(fields, "interactive", False),
        "follow_up": _flag(fields, "follow_up", False),
    }


def _name_field(fields: Mapping[str, Any]) -> Arguments:
    return {"name": _text(fields, "name", "the name")}


def _seconds_field(fields: Mapping[str, Any]) -> Arguments:
    seconds = fields.get("seconds", 3)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0.5 <= seconds <= MAX_MEASURE_SECONDS:
        raise OperationRefused(f"seconds must be a number from 0.5 to {MAX_MEASURE_SECONDS}, got {seconds!r:.40}")
    return {"seconds": float(seconds)}


def _motor_field(fields: Mapping[str, Any]) -> Arguments:
    return {"motor": _text(fields, "motor", "the motor")}


def _run_command(billy: Billy, name: str, command: str) -> None:
    """Shutdown, reboot, restart: the command the settings name for it (BILLY_*_COMMAND)."""
    LOG.warning("%s requested: running %s", name, command)
    billy.stop_talking()
    process = subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL)
    # Not waited for here (a restart stops this very process), but reaped so it leaves no zombie.
    threading.Thread(target=process.wait, daemon=True).start()


def _back_up(billy: Billy) -> None:
    """Home Assistant's Back up button: a backup kept on the fish, made beside Billy's work (songs are big)."""

    def make() -> None:
        shelf = BackupShelf.of(billy.settings)
        try:
            shelf.make()
            problem = ""
        except (OSError, ValueError) as error:
            LOG.error("backup failed: %s", error)
            problem = f"the backup failed: {error}"
        link = getattr(billy, "link", None)
        if link is not None:
            link.publish_backup(shelf.entity(problem))

    threading.Thread(target=make, name="backup", daemon=True).start()


@dataclass(frozen=True)
class Operation:
    name: str
    run: Callable[[Billy, Arguments], Any]  # at once, on the caller's thread; a dict answers the control socket
    play: Callable[..., None] | None = None  # in Billy's work loop, in turn: play(billy, **arguments)
    control: Callable[[Mapping[str, Any]], Arguments] | None = None  # on the control socket: its fields, checked
    topic: str = ""  # on MQTT: the topic (a Topics attribute), or "command" for a verb on billy/command
    payload: Callable[[bytes], Arguments] | None = None  # an MQTT payload, checked (a verb on billy/command: none)
    aliases: tuple[str, ...] = ()  # other verbs on billy/command
    power: bool = False  # shutdown and reboot: off over MQTT with BILLY_MQTT_POWER_COMMANDS=false
    shows: str = ""  # the state an MQTT link republishes after it (Billy's value, also when he refused)


OPERATIONS: tuple[Operation, ...] = (
    Operation("status", run=lambda billy, _: status_of(billy), control=_nothing),
    # The button: start a conversation, or cut Billy off while he talks, thinks or sings.
    Operation("press", run=lambda billy, _: billy.press(), play=performances.converse, control=_nothing),
    # The original's `listen`: start a conversation, or end the one running.
    Operation("listen", run=lambda billy, _: billy.listen(), control=_nothing, topic="command"),
    Operation("stop", run=lambda billy, _: billy.stop_talking(), control=_nothing, topic="command"),
    Operation(
        "say",
        run=lambda billy, arguments: billy.enqueue("say", arguments),
        play=performances.speak,
        control=_say_fields,
        topic="say",
        payload=lambda payload: asdict(commands.parse_say(payload)),
    ),
    Operation(
        "song",
        run=lambda billy, arguments: billy.sing(arguments["name"]),
        play=performances.sing,
        control=_name_field,
        topic="song",
        payload=lambda payload: {"name": commands.parse_song(payload)},
    ),
    Operation(
        "wakeup",
        run=lambda billy, arguments: billy.enqueue("wakeup", arguments),
        play=performances.play_wakeup,
        topic="wakeup_play",
        payload=lambda payload: asdict(commands.parse_wakeup(payload)),
    ),
    # A timer is done (intents/timers.py): it rings in turn, never over Billy's voice. Not for MQTT or the web.
    Operation("ring", run=lambda billy, arguments: billy.enqueue("ring", arguments), play=performances.ring),
    Operation(
        "clip",
        run=lambda billy, arguments: billy.play_clip(arguments["name"]),
        play=performances.play_clip,
        control=_name_field,
    ),
    Operation(
        "speaker_test",
        run=lambda billy, _: billy.play_clip("tone"),
        control=_nothing,
    ),
    Operation("pulse", run=lambda billy, arguments: billy.fish.pulse(arguments["motor"]), control=_motor_field),
    Operation("led", run=lambda billy, arguments: body_test.show_led(billy, arguments["name"]), control=_name_field),
    Operation("mic_level", run=lambda billy, _: {"level": body_test.mic_level(billy)}, control=_nothing),
    # Calibration (hearing/calibration.py): the room's or the owner's levels over a few seconds.
    Operation(
        "mic_measure",
        run=lambda billy, arguments: body_test.measure_mic(billy, arguments["seconds"]),
        control=_seconds_field,
    ),
    Operation("reload_persona", run=lambda billy, _: billy.persona.reload(), control=_nothing),
    Operation(
        "persona",
        run=lambda billy, arguments: {"persona": billy.personas.switch(arguments["name"])},
        control=_name_field,
        topic="persona_set",
        payload=lambda payload: {"name": commands.parse_name(payload)},
        shows="persona",
    ),
    Operation(
        "brain",
        run=lambda billy, arguments: brain_choice.switch_brain(billy, arguments["name"]),
        control=_name_field,
        topic="brain_set",
        payload=lambda payload: {"name": commands.parse_name(payload)},
        shows="brain",
    ),
    Operation(
        "trait",
        run=lambda billy, arguments: billy.set_trait(arguments["name"], arguments["value"]),
        topic="trait",
        shows="traits",
    ),
    Operation(
        "volume",
        run=lambda billy, arguments: billy.set_volume(arguments["value"]),
        topic="volume_set",
        payload=lambda payload: {"value": commands.parse_percent(payload)},
        shows="volume",
    ),
    Operation(
        "mute",
        run=lambda billy, arguments: billy.set_mic_muted(arguments["muted"]),
        topic="mic_muted_set",
        payload=lambda payload: {"muted": commands.parse_switch(payload)},
        shows="mic_muted",
    ),
    Operation(
        "shutdown",
        run=lambda billy, _: _run_command(billy, "shutdown", billy.settings.billy_shutdown_command),
        topic="command",
        power=True,
    ),
    Operation(
        "reboot",
        run=lambda billy, _: _run_command(billy, "reboot", billy.settings.billy_reboot_command),
        topic="command",
        power=True,
    ),
    # Home Assistant's Install button (the update entity) and the web page: billy-update.service does the rest.
    Operation(
        "update",
        run=lambda billy, _: _run_command(billy, "update", billy.settings.billy_update_command),
        control=_nothing,
        topic="command",
    ),
    Operation("backup", run=lambda billy, _: _back_up(billy), topic="command"),
    Operation(
        "restart-billy",
        run=lambda billy, _: _run_command(billy, "restart-billy", billy.settings.billy_restart_command),
        topic="command",
        aliases=("restart",),
    ),
)

BY_NAME = {operation.name: operation for operation in OPERATIONS}
# The verbs of billy/command (and their aliases) -> the operation.
COMMAND_VERBS = {
    verb: operation.name
    for operation in OPERATIONS
    if operation.topic == "command"
    for verb in (operation.name, *operation.aliases)
}
POWER_COMMANDS = tuple(operation.name for operation in OPERATIONS if operation.power)


def from_control(request: Mapping[str, Any]) -> tuple[str, Arguments]:
    """The operation and checked arguments of a control-socket request `{"op": name, ...}`."""
    name = request.get("op")
    operation = BY_NAME.get(name) if isinstance(name, str) else None
    if operation is None or operation.control is None:
        opened = ", ".join(operation.name for operation in OPERATIONS if operation.control is not None)
        raise OperationRefused(f"unknown request {name!r:.40}: the control socket takes {opened}")
    return name, operation.control(request)
