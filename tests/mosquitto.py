"""A real mosquitto for tests: its own process, config and port on 127.0.0.1, optionally with a password file.

Also a small subscriber that collects what the broker delivers, for asserting on retained and live messages.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from waiting import wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it: (CA cert, server cert, server key)."""
    ca_key, ca_cert = directory / "ca.key", directory / "ca.crt"
    key, request, cert = directory / "server.key", directory / "server.csr", directory / "server.crt"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    signed_by_ca = ["-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "1", "-extfile", extensions]
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca_cert, "-days", "1", "-subj", "/CN=Billy test CA"],
        ["req", *ec, "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", request, *signed_by_ca, "-out", cert],
    ):
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return ca_cert, cert, key


class Mosquitto:
    """`mosquitto -c <config>` listening on 127.0.0.1 only; restartable on the same port."""

    def __init__(self, directory: Path, users: dict[str, str] | None = None, tls: bool = False) -> None:
        self.port = free_port()
        self.directory = directory
        self.config = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        self.ca_cert: Path | None = None
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if tls:
            self.ca_cert, cert, key = make_certificates(directory)
            lines += [f"cafile {self.ca_cert}", f"certfile {cert}", f"keyfile {key}"]
        if users:
            password_file = directory / "passwords"
            for index, (user, password) in enumerate(users.items()):
                create = ["-c"] if index == 0 else []
                subprocess.run(
                    ["mosquitto_passwd", "-b", *create, str(password_file), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        # Running as root, mosquitto would switch to its own user and could not read our files.
        lines.append("user root")
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        log = self.log_path.open("a")
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._listening, f"mosquitto to listen on {self.port}", timeout, self.process, self.log_path)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class Collector:
    """A test client subscribed to some topics, keeping every message it receives (retained ones included)."""

    def __init__(
        self,
        port: int,
        topics: list[str],
        username: str | None = None,
        password: str | None = None,
        ca_cert: Path | None = None,
    ) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
        if username:
            self.client.username_pw_set(username, password)
        if ca_cert:
            self.client.tls_set(ca_certs=str(ca_cert))
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in topics])
        if not self._subscribed.wait(5):
            raise TimeoutError(f"could not subscribe to {topics}")

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def payloads(self, topic: str) -> list[str]:
        with self._lock:
            return [m.payload.decode() for m in self.messages if m.topic == topic]

    def latest(self) -> dict[str, bytes]:
        with self._lock:
            return {m.topic: m.payload for m in self.messages}

    def discovered(self, node_id: str = "billy") -> dict[str, tuple[str, dict]]:
        """object id -> (component, config) of the Home Assistant discovery configs under `node_id`; an empty
        payload removes an entity (Home Assistant's protocol), so it is left out."""
        found = {}
        for topic, payload in self.latest().items():
            parts = topic.split("/")
            if parts[0] == "homeassistant" and parts[-1] == "config" and parts[2] == node_id and payload:
                found[parts[3]] = (parts[1], json.loads(payload))
        return found

    def wait_for(self, predicate, timeout: float = 60, what: str = "a message") -> None:
        wait_until(predicate, what, timeout)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
