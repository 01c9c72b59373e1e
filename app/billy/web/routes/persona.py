"""The persona page: every persona on disk, which one Billy is, its traits, instructions, backstory and wake-up
phrases; saving the one in use changes Billy at once, and "Use" switches him as a spoken or MQTT switch does."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billy.appliance.control import ControlError
from billy.persona.library import DEFAULT as DEFAULT_PERSONA
from billy.persona.library import persona_names, persona_path
from billy.persona.persona import PersonaError
from billy.web import persona_form
from billy.web.auth import Session
from billy.web.core import Web, action, back, page, render, status


def _persona_named(web: Web, name: str) -> str:
    """One of the personas on disk (default, personas/<name>/): never a path someone typed."""
    names = persona_names(web.state_dir)
    if name not in names:
        raise PersonaError(f"no persona called {name!r}: the personas are {', '.join(names)}")
    return name


async def persona_page(web: Web, request: Request, session: Session) -> Response:
    active = (await anyio.to_thread.run_sync(status, web)).get("persona")
    try:
        name = _persona_named(web, request.query_params.get("name") or active or DEFAULT_PERSONA)
    except PersonaError as error:
        return back(session, "/persona", str(error))
    persona = persona_form.read_persona(persona_path(web.state_dir, name))
    names = persona_names(web.state_dir)
    return render(web, request, "persona.html", session, persona=persona, editing=name, names=names, active=active)


async def persona_post(web: Web, request: Request, session: Session, form) -> Response:
    try:
        name = _persona_named(web, form.get("persona", DEFAULT_PERSONA))
        persona_form.save_persona(persona_path(web.state_dir, name), dict(form))
    except PersonaError as error:
        return back(session, "/persona", f"Not saved: {error}")
    to = f"/persona?name={name}"
    try:
        active = await anyio.to_thread.run_sync(lambda: web.control.request("status")["persona"])
        if active != name:
            return back(session, to, f"Persona {name} saved; Billy uses it once you switch to it.")
        await anyio.to_thread.run_sync(lambda: web.control.request("reload_persona"))
    except ControlError as error:
        return back(session, to, f"Persona {name} saved; Billy reads it when he starts ({error}).")
    return back(session, to, f"Persona {name} saved; Billy uses it now.")


async def persona_switch(web: Web, request: Request, session: Session, form) -> Response:
    wanted = form.get("persona", "")
    try:
        answer = await anyio.to_thread.run_sync(lambda: web.control.request("persona", name=wanted))
    except ControlError as error:
        return back(session, "/persona", f"Not switched: {error}")
    return back(session, "/persona", f"Billy is {answer['persona']} now.")


def routes(web: Web) -> list[Route]:
    return [
        Route("/persona", page(web, persona_page), methods=["GET"]),
        Route("/persona", action(web, persona_post), methods=["POST"]),
        Route("/persona/switch", action(web, persona_switch), methods=["POST"]),
    ]
