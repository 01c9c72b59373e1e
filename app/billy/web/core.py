"""What every page of the web page shares: its state (`Web`), the session cookie, the guards of a page and of a
form (`page`, `action`), rendering with a flash message, and asking the running Billy over the control socket.

The session cookie is `SameSite=Lax`, `HttpOnly`: Lax, so that following a link from another site (Home
Assistant's "Visit" on Billy's device) keeps the owner signed in, as a top-level GET carries it. A POST from
another site does not carry it, and every POST must also carry the session's own CSRF token, which another
site cannot read; no GET changes anything. So Lax gives up nothing Strict protected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from billy.appliance.control import ControlClient, ControlError
from billy.settings.local import effective_values
from billy.settings.read import Settings, load_settings
from billy.web import machine
from billy.web.auth import LoginLimiter, PasswordStore, Session, Sessions
from billy.web.model_fetch import ModelFetches

COOKIE = "billy_session"
WEB_UNIT = "billy-web"
NAV = [
    ("/", "Dashboard"),
    ("/settings", "Settings"),
    ("/persona", "Persona"),
    ("/people", "People"),
    ("/songs", "Songs"),
    ("/notes", "Notes"),
    ("/sounds", "Sounds"),
    ("/models", "Models"),
    ("/body", "Body test"),
    ("/logs", "Logs"),
    ("/system", "System"),
]


@dataclass
class Web:
    settings: Settings
    passwords: PasswordStore
    sessions: Sessions
    limiter: LoginLimiter  # wrong passwords, at the login and on the System page alike
    control: ControlClient
    services: machine.Services
    templates: Environment
    fetches: ModelFetches
    # Settings saved here that this very process reads: it asks for its own restart on the System page rather
    # than restarting itself in the middle of its reply. A restarted billy-web starts with an empty set.
    unread_by_web: set[str] = field(default_factory=set)

    @property
    def config_dir(self) -> Path:
        return self.settings.billy_config_dir

    @property
    def state_dir(self) -> Path:
        return self.settings.billy_state_dir

    @property
    def max_upload(self) -> int:
        return self.settings.billy_web_max_upload_mb * 2**20

    def runtime_settings(self) -> Settings:
        """The settings Billy's units run with now: the inventory's files and the local overrides."""
        return load_settings(effective_values(self.config_dir))


def session_of(web: Web, request: Request) -> tuple[str | None, Session | None]:
    token = request.cookies.get(COOKIE)
    return token, web.sessions.get(token)


def set_cookie(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/")
    return response


def render(web: Web, request: Request, name: str, session: Session, status: int = 200, **context) -> HTMLResponse:
    flash, session.flash = session.flash, []
    html = web.templates.get_template(name).render(
        nav=NAV, path=request.url.path, csrf=session.csrf, flash=flash, signed_in=session.signed_in, **context
    )
    return HTMLResponse(html, status)


def back(session: Session, to: str, message: str) -> RedirectResponse:
    session.flash.append(message)
    return RedirectResponse(to, 303)


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Handler = Callable[[Web, Request, Session], Awaitable[Response]]
FormHandler = Callable[[Web, Request, Session, dict], Awaitable[Response]]


def page(web: Web, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in owner; others go to set-the-password or the login."""

    async def endpoint(request: Request) -> Response:
        if not web.passwords.is_set:
            return RedirectResponse("/setup", 303)
        _, session = session_of(web, request)
        if session is None or not session.signed_in:
            return RedirectResponse("/login", 303)
        return await handler(web, request, session)

    return endpoint


def action(web: Web, handler: FormHandler, signed_in: bool = True, max_bytes: int = 64 * 1024):
    """A POST: size checked before reading, the session's CSRF token required, then the handler."""

    async def endpoint(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return PlainTextResponse("a form needs a Content-Length", 411)
        if int(length) > max_bytes:
            return PlainTextResponse(f"too large: at most {max_bytes // 2**20 or 1} MB", 413)
        _, session = session_of(web, request)
        if session is None or (signed_in and not session.signed_in):
            return PlainTextResponse("sign in first", 403)
        form = await request.form(max_part_size=max_bytes)
        if form.get("csrf") != session.csrf:
            return PlainTextResponse("refused: the form's CSRF token is missing or wrong; reload the page", 403)
        return await handler(web, request, session, form)

    return endpoint


def status(web: Web) -> dict:
    """Billy's status, or `unreachable` with the reason."""
    try:
        return web.control.request("status")
    except ControlError as error:
        return {"state": "unreachable", "error": str(error), "turns": []}


async def ask(web: Web, session: Session, to: str, done: str, op: str, **fields) -> Response:
    """An operation of the running Billy, then back to `to` with what happened."""
    try:
        await anyio.to_thread.run_sync(lambda: web.control.request(op, **fields))
    except ControlError as error:
        return back(session, to, f"Billy could not: {error}")
    return back(session, to, done)
