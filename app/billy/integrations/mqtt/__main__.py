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
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

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

    def perform(self, name: str, arguments: dict) -> None:
        """An operation (billy.appliance.operations) as Billy would be asked it: printed, and kept."""
        if name == "trait":
            self.traits[arguments["name"]] = arguments["value"]
        elif name == "volume":
            self.volume = arguments["value"]
        elif name == "mute":
            self.mic_muted = arguments["muted"]
        self._print(call=name, **arguments)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"billy.integrations.mqtt: {error}", file=sys.stderr)
        return 2
    if not settings.mqtt_host:
        print("billy.integrations.mqtt: MQTT_HOST is empty: set it to the broker's address", file=sys.stderr)
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
