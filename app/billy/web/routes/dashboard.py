"""The dashboard: Billy's state live (server-sent events), his last turns with their latency, the doctor's checks
and the machine's figures, and a box to make him say something or listen."""

from __future__ import annotations

import asyncio
import json

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.appliance.doctor import run_checks
from billy.settings.kinds import ConfigError
from billy.web import machine
from billy.web.auth import Session
from billy.web.core import Web, action, ask, page, render, status

STATUS_POLL_SECONDS = 0.5


async def dashboard(web: Web, request: Request, session: Session) -> Response:
    billy = await anyio.to_thread.run_sync(status, web)
    return render(web, request, "dashboard.html", session, billy=billy, figures=machine.machine_figures())


async def turns_fragment(web: Web, request: Request, session: Session) -> Response:
    billy = await anyio.to_thread.run_sync(status, web)
    return HTMLResponse(web.templates.get_template("turns.html").render(turns=billy.get("turns", [])))


async def health_fragment(web: Web, request: Request, session: Session) -> Response:
    def gather():
        try:
            checks, problem = run_checks(web.runtime_settings()), ""
        except ConfigError as error:
            checks, problem = [], str(error)
        return checks, problem, web.services.states()

    checks, problem, units = await anyio.to_thread.run_sync(gather)
    html = web.templates.get_template("health.html").render(checks=checks, problem=problem, units=units)
    return HTMLResponse(html)


async def events(web: Web, request: Request, session: Session) -> Response:
    """Server-sent events: Billy's status whenever it changes."""

    async def stream():
        last = None
        while not await request.is_disconnected():
            billy = await anyio.to_thread.run_sync(status, web)
            current = {
                "state": billy.get("state"),
                "volume": billy.get("volume"),
                "button_pressed": billy.get("button_pressed"),
                "turns": len(billy.get("turns", [])),
                "said": (billy.get("turns") or [{}])[-1].get("said", ""),
                "error": billy.get("error", ""),
            }
            if current != last:
                yield f"data: {json.dumps(current)}\n\n"
                last = current
            await asyncio.sleep(STATUS_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def talk(web: Web, request: Request, session: Session, form) -> Response:
    if form.get("what") == "listen":
        return await ask(web, session, "/", "Billy is listening.", "press")
    literal = form.get("mode", "literal") == "literal"
    done = "Billy says it." if literal else "Billy answers in character."
    return await ask(web, session, "/", done, "say", text=form.get("text", ""), literal=literal)


async def brain(web: Web, request: Request, session: Session, form) -> Response:
    """The brain for the next turns (appliance/brain_choice.py), as Home Assistant's "Billy Brain" select."""
    name = str(form.get("brain", ""))
    return await ask(web, session, "/", f"From the next turn, the {name} brain answers.", "brain", name=name)


def routes(web: Web) -> list[Route]:
    return [
        Route("/", page(web, dashboard)),
        Route("/dashboard/turns", page(web, turns_fragment)),
        Route("/dashboard/health", page(web, health_fragment)),
        Route("/events", page(web, events)),
        Route("/talk", action(web, talk), methods=["POST"]),
        Route("/brain", action(web, brain), methods=["POST"]),
    ]
