"""The body test: a short pulse on each motor, a test tone, the live microphone level, the button's state."""

from __future__ import annotations

import asyncio
import json

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.appliance.control import ControlError
from billy.web.auth import Session
from billy.web.core import Web, action, ask, back, page, render, status

RETRY_SECONDS = 0.5


async def body_page(web: Web, request: Request, session: Session) -> Response:
    billy = await anyio.to_thread.run_sync(status, web)
    return render(web, request, "body.html", session, billy=billy, level=request.query_params.get("level"))


async def mic_levels(web: Web, request: Request, session: Session) -> Response:
    """Server-sent events: the live microphone's loudness, one reading (half a second of sound) after another,
    for as long as the body test page is open; a busy Billy is reported, and the meter resumes when he is idle."""

    async def stream():
        while not await request.is_disconnected():
            try:
                answer = await anyio.to_thread.run_sync(lambda: web.control.request("mic_level"))
                reading = {"level": answer["level"]}
            except ControlError as error:
                reading = {"error": str(error)}
            yield f"data: {json.dumps(reading)}\n\n"
            if "error" in reading:
                await asyncio.sleep(RETRY_SECONDS)  # the reading itself paces the stream otherwise

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def body_post(web: Web, request: Request, session: Session, form) -> Response:
    test = form.get("test", "")
    if test == "pulse":
        motor = form.get("motor", "")
        return await ask(web, session, "/body", f"Pulsed the {motor} motor.", "pulse", motor=motor)
    if test == "speaker":
        return await ask(web, session, "/body", "Playing a test tone.", "speaker_test")
    if test == "mic":
        try:
            answer = await anyio.to_thread.run_sync(lambda: web.control.request("mic_level"))
        except ControlError as error:
            return back(session, "/body", f"Billy could not: {error}")
        return RedirectResponse(f"/body?level={answer['level']}", 303)
    return back(session, "/body", f"Unknown test {test!r}.")


def routes(web: Web) -> list[Route]:
    return [
        Route("/body", page(web, body_page), methods=["GET"]),
        Route("/body", action(web, body_post), methods=["POST"]),
        Route("/body/mic", page(web, mic_levels)),
    ]
