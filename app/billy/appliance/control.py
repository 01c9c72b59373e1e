"""The local control channel between `billy run` and the web page: one JSON line in, one JSON line out.

`billy run` listens on a Unix socket in its state directory (`BILLY_STATE_DIR/control.sock`, mode 0660, so
only Billy's user and group reach it); it works with no MQTT broker and no network. A request is
`{"op": NAME, ...arguments}` for an operation the table (billy.appliance.operations) opens to the control
socket: `status`, `press` (the button), `listen`, `stop`, `say` (`text`, `literal`, `interactive`), `song`
(`name`), `clip` (`name`), `speaker_test`, `pulse` (`motor`), `mic_level`, `reload_persona`, `persona`
(`name`). The answer is `{"ok": true, ...}` or `{"ok": false, "error": "..."}`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import Any

from billy.appliance import operations
from billy.appliance.control_client import ControlClient, ControlError, socket_path

__all__ = ["ControlClient", "ControlError", "ControlServer", "socket_path"]

LOG = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 64 * 1024


class ControlServer:
    """Serves the control requests of one running Billy (billy.appliance.billy.Billy) on a Unix socket."""

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
        name, arguments = operations.from_control(request)
        answer = self.billy.perform(name, arguments)
        return answer if isinstance(answer, dict) else {}


class _Handler(socketserver.StreamRequestHandler):
    control: ControlServer

    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST_BYTES)
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise operations.OperationRefused("a request is a JSON object")
            reply = {"ok": True, **self.control.answer(request)}
        except (ValueError, LookupError, RecursionError) as error:  # a refusal: a bad request, an unknown song ...
            LOG.warning("control request refused: %s", error)
            reply = {"ok": False, "error": str(error)}
        self.wfile.write(json.dumps(reply).encode() + b"\n")
