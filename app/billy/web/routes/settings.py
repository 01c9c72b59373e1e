"""The settings page: every setting of the schema with its label and description (billy.web.settings_form says
what a browser may change); saving restarts only the units that read what changed."""

from __future__ import annotations

import json

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billy.settings.kinds import ConfigError
from billy.settings.local import read_overrides, read_units_map, units_to_restart
from billy.web import machine, settings_form
from billy.web.auth import Session
from billy.web.core import WEB_UNIT, Web, action, back, page, render


async def settings_page(web: Web, request: Request, session: Session) -> Response:
    groups = settings_form.grouped(web.config_dir)
    secrets_set = settings_form.secrets_set(web.config_dir)
    return render(web, request, "settings.html", session, groups=groups, secrets_set=secrets_set)


async def settings_post(web: Web, request: Request, session: Session, form) -> Response:
    try:
        result = settings_form.save(web.config_dir, dict(form))
    except ConfigError as error:
        return back(session, "/settings", f"Not saved: {error}")
    if not result.changed:
        return back(session, "/settings", "Nothing changed.")
    # Not this page's own unit: restarting it would cut the answer; the System page asks for it instead.
    units = [unit for unit in result.units if unit != WEB_UNIT]
    units_map = read_units_map(web.config_dir)
    web.unread_by_web.update(name for name in result.changed if WEB_UNIT in units_to_restart([name], units_map))
    try:
        await anyio.to_thread.run_sync(web.services.restart, units)
    except machine.ServiceControlError as error:
        return back(session, "/settings", f"Saved {', '.join(result.changed)}, but the restart failed: {error}")
    message = f"Saved {', '.join(result.changed)}; restarted {', '.join(units) or 'nothing'}."
    if WEB_UNIT in result.units:
        message += " The web page reads it too: restart billy-web on the System page."
    return back(session, "/settings", message)


async def overrides_json(web: Web, request: Request, session: Session) -> Response:
    return Response(json.dumps(sorted(read_overrides(web.config_dir))), media_type="application/json")


def routes(web: Web) -> list[Route]:
    return [
        Route("/settings", page(web, settings_page), methods=["GET"]),
        Route("/settings", action(web, settings_post), methods=["POST"]),
        Route("/settings/overrides", page(web, overrides_json)),
    ]
