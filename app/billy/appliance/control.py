"""The local control channel between `billy run` and the web page: one JSON line in, one JSON line out.

`billy run` listens on a Unix socket in its state directory (`BILLY_STATE_DIR/control.sock`, mode 0660, so
only Billy's user and group reach it); it works with no MQTT broker and no network. Requests:

- `{"op": "status"}`: state, volume, button, motors, the last turns with their latency figures
- `{"op": "say", "text": "...", "literal": true}`: speak word for word (or, with false, answer in character)
- `{"op": "listen"}`: a button press
- `{"op": "song", "name": "..."}`: sing a song, the fish moving to it
- `{"op": "clip", "name": "wake-1"}`: play a wake-up or error clip; `{"op": "speaker_test"}`: a test tone
- `{"op": "pulse", "motor": "mouth|head|tail"}`: a short pulse on one motor
- `{"op": "mic_level"}`: the microphone's loudness over half a second (0..1), when Billy is idle
- `{"op": "reload_persona"}`: read the persona in use again after the web page saved it
- `{"op": "switch_persona", "name": "..."}`: become another persona, as a spoken or MQTT switch does

The answer is `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 64 * 1024
SOCKET_NAME = "control.sock"


class ControlError(RuntimeError):
    """Billy's runtime is not reachable or refused the request; the message says why."""


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


class ControlServer:
    """Serves the control requests of one running Billy (billy.runtime.Billy) on a Unix socket."""

    def __init__(self, billy, path: Path) -> None:
        self.billy = billy
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left behind by a runtime that was killed
        handler = type("Handler", (_Handler,), {"control": self})
        self._server = socketserver.ThreadingUnixStreamServer(str(path), handler)
        self._server.daemon_threads = True
        os.chmod(path, 0o660)
        self._thread = threading.Thread(target=self._server.serve_forever, name="control", daemon=True)

    def start(self) -> ControlServer:
        self._thread.start()
        LOG.info("control channel on %s", self.path)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        billy, op = self.billy, request.get("op")
        if op == "status":
            return billy.status()
        if op == "say":
            text = str(request.get("text", "")).strip()
            if not text:
                raise ControlError("say: the text is empty")
            billy.say(text, literal=bool(request.get("literal", True)))
        elif op == "listen":
            billy.press()
        elif op == "song":
            billy.sing(str(request.get("name", "")))
        elif op == "clip":
            billy.play_clip(str(request.get("name", "")))
        elif op == "speaker_test":
            billy.play_clip("tone")
        elif op == "pulse":
            billy.fish.pulse(str(request.get("motor", "")))
        elif op == "mic_level":
            return {"level": billy.mic_level()}
        elif op == "reload_persona":
            billy.persona.reload()
        elif op == "switch_persona":  # the same switch as by voice and MQTT: remembered, announced
            return {"persona": billy.personas.switch(str(request.get("name", "")))}
        else:
            raise ControlError(f"unknown request {op!r}")
        return {}


class _Handler(socketserver.StreamRequestHandler):
    control: ControlServer

    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST_BYTES)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ControlError("a request is a JSON object")
            reply = {"ok": True, **self.control.answer(request)}
        except (ValueError, LookupError, ControlError) as error:
            LOG.warning("control request refused: %s", error)
            reply = {"ok": False, "error": str(error)}
        self.wfile.write(json.dumps(reply).encode() + b"\n")


class ControlClient:
    """The web page's side: one short connection per request."""

    def __init__(self, path: Path, timeout: float = 5) -> None:
        self.path = path
        self.timeout = timeout

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(self.timeout)
                connection.connect(str(self.path))
                connection.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
                reply = connection.makefile("rb").readline()
        except OSError as error:
            raise ControlError(f"Billy's runtime is not answering on {self.path} ({error}): is it running?") from None
        try:
            answer = json.loads(reply)
        except ValueError:
            raise ControlError("Billy's runtime gave no answer") from None
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "refused"))
        return answer
