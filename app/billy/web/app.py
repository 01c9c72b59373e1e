"""`billy web`: Billy's web page (Starlette + Jinja2, server-rendered, a little JavaScript, every asset local).

Every page needs a signed-in session except the login and set-the-password pages; every POST carries the
session's CSRF token (billy.web.core). It talks to the running Billy over the control socket
(billy.appliance.control), to systemd through `systemctl` (polkit allows Billy's units only), and edits
settings as local overrides. The pages live in billy.web.routes, one module each.
"""

from __future__ import annotations

import json

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from billy.appliance.control import ControlClient, socket_path
from billy.settings.read import Settings
from billy.web import machine
from billy.web.auth import PASSWORD_FILE, LoginLimiter, PasswordStore, Sessions
from billy.web.core import Web
from billy.web.model_fetch import ModelFetches
from billy.web.routes import access, body, dashboard, library, logs, people, persona, settings, system

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
PAGES = (access, dashboard, settings, persona, people, library, body, logs, system)


async def health(request: Request) -> Response:
    """For the unit's checks and Molecule: the page answers (nothing about Billy without a session)."""
    return Response(json.dumps({"ok": True}), media_type="application/json")


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                extra = [(k, v) for k, v in extra if k not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def build_app(settings: Settings) -> Starlette:
    state_dir = settings.billy_state_dir
    templates = Environment(loader=PackageLoader("billy.web", "templates"), autoescape=select_autoescape(default=True))
    web = Web(
        settings,
        PasswordStore(state_dir / PASSWORD_FILE, settings.billy_web_password),
        Sessions(),
        LoginLimiter(),
        ControlClient(socket_path(state_dir)),
        machine.Services(settings.billy_web_systemctl),
        templates,
        ModelFetches(state_dir / "web"),
    )
    routes = [Route("/api/health", health)]
    for module in PAGES:
        routes += module.routes(web)
    routes.append(Mount("/static", StaticFiles(packages=[("billy.web", "static")]), name="static"))
    app = Starlette(routes=routes)
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    return app
