"""What the HTTP services share: OpenAI-shaped error bodies and loading a model behind a live server."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.responses import JSONResponse


def api_error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    """An error in the OpenAI shape, so OpenAI clients show our messages as they show theirs."""
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


def start_in_background(
    job: Callable[[], None], name: str
) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager]:
    """A lifespan that starts `job` (loading a model) in a thread, so health answers 503 meanwhile."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        threading.Thread(target=job, name=name, daemon=True).start()
        yield

    return lifespan
