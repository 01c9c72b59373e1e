"""The client side of the control channel (billy.appliance.control): one short connection per request.

Kept apart from the server so that a caller (the web page, the updater, the Wi-Fi setup run by root) imports
only the socket, not Billy's runtime and its dependencies.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"


class ControlError(RuntimeError):
    """Billy's runtime is not reachable or refused the request; the message says why."""


def socket_path(state_dir: Path) -> Path:
    return state_dir / SOCKET_NAME


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
