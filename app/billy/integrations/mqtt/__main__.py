"""Run the MQTT link on its own: `python -m billy.integrations.mqtt` (MQTT_* from the environment) until SIGTERM
or Ctrl-C.

The handlers print one JSON line per call on stdout and keep the values in memory, so a test (or a person
trying a broker and Home Assistant) can see what arrives. The traits are a fixed example set; the runtime
(`billy run`) uses the persona's.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading

from billy.integrations.mqtt.link import MqttLink
from billy.settings.settings import ConfigError, load_settings

EXAMPLE_TRAITS = {"humor": 70, "sarcasm": 40, "honesty": 90}


class PrintingHandlers:
    def __init__(self) -> None:
        self.traits = dict(EXAMPLE_TRAITS)
        self.volume = 80
        self.mic_muted = False
        self._print_lock = threading.Lock()

    def _print(self, **call: object) -> None:
        with self._print_lock:  # handlers run on two workers: one whole line each
            sys.stdout.write(json.dumps(call) + "\n")
            sys.stdout.flush()

    def say(self, text: str, literal: bool, interactive: bool) -> None:
        self._print(call="say", text=text, literal=literal, interactive=interactive)

    def command(self, name: str) -> None:
        self._print(call="command", name=name)

    def play_song(self, name: str) -> None:
        self._print(call="play_song", name=name)

    def play_wakeup(self, index: int, persona: str | None) -> None:
        self._print(call="play_wakeup", index=index, persona=persona)

    def set_persona(self, name: str) -> None:
        self._print(call="set_persona", name=name)

    def set_trait(self, name: str, value: int) -> None:
        self.traits[name] = value
        self._print(call="set_trait", name=name, value=value)

    def set_volume(self, value: int) -> None:
        self.volume = value
        self._print(call="set_volume", value=value)

    def set_mic_muted(self, muted: bool) -> None:
        self.mic_muted = muted
        self._print(call="set_mic_muted", muted=muted)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"billy.mqtt: {error}", file=sys.stderr)
        return 2
    if not settings.mqtt_host:
        print("billy.mqtt: MQTT_HOST is empty: set it to the broker's address", file=sys.stderr)
        return 2
    handlers = PrintingHandlers()
    link = MqttLink(settings, handlers, lambda: handlers.traits, lambda: handlers.volume, lambda: handlers.mic_muted)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    link.start()
    link.publish_state("idle")
    stop.wait()
    link.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
