"""The System page: restart one or all of Billy's units, reboot, shut down (each asks to confirm first)."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from billy.web import machine
from billy.web.auth import Session
from billy.web.core import Web, action, back, page, render


async def system_page(web: Web, request: Request, session: Session) -> Response:
    units = await anyio.to_thread.run_sync(web.services.states)
    confirm = request.query_params.get("confirm", "")
    unread = sorted(web.unread_by_web)
    return render(web, request, "system.html", session, units=units, confirm=confirm, unread_by_web=unread)


async def system_post(web: Web, request: Request, session: Session, form) -> Response:
    what = form.get("what", "")
    if form.get("confirmed") != "yes":
        return RedirectResponse(f"/system?confirm={what}", 303)
    try:
        if what in machine.POWER_VERBS:
            await anyio.to_thread.run_sync(web.services.power, what)
            return back(session, "/system", f"{what.capitalize()} under way.")
        units = list(machine.UNITS) if what == "all" else [what]
        await anyio.to_thread.run_sync(web.services.restart, units)
    except machine.ServiceControlError as error:
        return back(session, "/system", f"Refused: {error}")
    return back(session, "/system", f"Restarting {', '.join(units)}.")


def routes(web: Web) -> list[Route]:
    return [
        Route("/system", page(web, system_page), methods=["GET"]),
        Route("/system", action(web, system_post), methods=["POST"]),
    ]
