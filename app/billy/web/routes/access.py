"""Who gets in: set the first password, log in and out, change the password (the System page's form).

Wrong passwords count against the address they came from, at the login and when changing the password alike:
five in a minute lock that address out for the rest of the minute.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from billy.web.auth import Session
from billy.web.core import COOKIE, Web, action, address, back, render, session_of, set_cookie

LOG = logging.getLogger(__name__)


async def public_page(web: Web, request: Request, name: str) -> Response:
    token, session = session_of(web, request)
    if session is None:
        token, session = web.sessions.new()
    response = render(web, request, name, session)
    return set_cookie(response, token)


def setup_page(web: Web):
    async def endpoint(request: Request) -> Response:
        if web.passwords.is_set:
            return RedirectResponse("/login", 303)
        return await public_page(web, request, "setup.html")

    return endpoint


async def setup_post(web: Web, request: Request, session: Session, form) -> Response:
    if web.passwords.is_set:
        return PlainTextResponse("the password is already set; change it on the System page", 403)
    password = form.get("password", "")
    if password != form.get("confirm", ""):
        return back(session, "/setup", "The two passwords differ.")
    try:
        web.passwords.set(password)
    except ValueError as error:
        return back(session, "/setup", f"Not set: {error}.")
    return sign_in(web, request, "Password set. Welcome!")


def sign_in(web: Web, request: Request, message: str) -> Response:
    web.sessions.drop(request.cookies.get(COOKIE))  # a new session id: no fixation
    token, session = web.sessions.new(signed_in=True)
    session.flash.append(message)
    return set_cookie(RedirectResponse("/", 303), token)


def login_page(web: Web):
    async def endpoint(request: Request) -> Response:
        if not web.passwords.is_set:
            return RedirectResponse("/setup", 303)
        return await public_page(web, request, "login.html")

    return endpoint


def _locked_out(web: Web, request: Request) -> float:
    return web.limiter.retry_after(address(request))


def _wrong_password(web: Web, request: Request, where: str) -> None:
    web.limiter.failed(address(request))
    LOG.warning("wrong web password from %s (%s)", address(request), where)


async def login_post(web: Web, request: Request, session: Session, form) -> Response:
    if wait := _locked_out(web, request):
        session.flash.append(f"Too many wrong passwords: wait {wait:.0f} s.")
        response = render(web, request, "login.html", session, status=429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not web.passwords.check(form.get("password", "")):
        _wrong_password(web, request, "login")
        session.flash.append("Wrong password.")
        return render(web, request, "login.html", session, status=401)
    web.limiter.succeeded(address(request))
    return sign_in(web, request, "Signed in.")


async def logout(web: Web, request: Request, session: Session, form) -> Response:
    web.sessions.drop(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def change_password(web: Web, request: Request, session: Session, form) -> Response:
    if wait := _locked_out(web, request):
        response = back(session, "/system", f"Not changed: too many wrong passwords, wait {wait:.0f} s.")
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not web.passwords.check(form.get("current", "")):
        _wrong_password(web, request, "password change")
        return back(session, "/system", "Not changed: the current password is wrong.")
    web.limiter.succeeded(address(request))
    if form.get("password", "") != form.get("confirm", ""):
        return back(session, "/system", "Not changed: the two new passwords differ.")
    try:
        web.passwords.set(form.get("password", ""))
    except ValueError as error:
        return back(session, "/system", f"Not changed: {error}.")
    web.sessions.drop_all()
    return sign_in(web, request, "Password changed; every other session is signed out.")


def routes(web: Web) -> list[Route]:
    return [
        Route("/setup", setup_page(web), methods=["GET"]),
        Route("/setup", action(web, setup_post, signed_in=False), methods=["POST"]),
        Route("/login", login_page(web), methods=["GET"]),
        Route("/login", action(web, login_post, signed_in=False), methods=["POST"]),
        Route("/logout", action(web, logout), methods=["POST"]),
        Route("/system/password", action(web, change_password), methods=["POST"]),
    ]
