"""What the HTTP services share: OpenAI-shaped errors, a model loaded behind a live server, bounded bodies."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

LOG = logging.getLogger(__name__)


def api_error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    """An error in the OpenAI shape, so OpenAI clients show our messages as they show theirs."""
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


class ModelLoader:
    """Loads a model in a thread while the server already answers: health says 503 until it is ready.

    `what` names the model in messages ("the voice", "the model"); `describe` adds fields to the health body.
    """

    def __init__(self, what: str, load: Callable[[], None], describe: Callable[[], dict]) -> None:
        self.what = what
        self.state = "loading"
        self.error = ""
        self._load = load
        self._describe = describe

    def _run(self) -> None:
        try:
            self._load()
            self.state = "ok"
        except Exception as error:  # reported by /api/health; the unit keeps answering
            LOG.exception("could not load %s", self.what)
            self.state, self.error = "error", str(error)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=self._run, name=f"load {self.what}", daemon=True).start()
        yield

    async def health(self, request: Request) -> Response:
        body = {"status": self.state, **self._describe()}
        if self.error:
            body["error"] = self.error
        return JSONResponse(body, status_code=200 if self.state == "ok" else 503)

    def unavailable(self) -> Response | None:
        """The 503 to answer while the model is not ready, or None when it is."""
        if self.state == "ok":
            return None
        return api_error(503, f"{self.what} is {self.state}: try again shortly", "service_unavailable")


class BodyTooLarge(ValueError):
    """More bytes arrived than the endpoint accepts."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, counted as it arrives (declared length, chunked or not): BodyTooLarge past `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body of {declared} bytes is over the limit of {limit} bytes")
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge(f"the body is over the limit of {limit} bytes")
    return bytes(received)


def replayed(request: Request, body: bytes) -> Request:
    """A request whose body is `body` (already read and counted), for Starlette's own parsers."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)
