"""`billy web`: Billy's web page (Starlette + Jinja2, server-rendered, a little JavaScript, every asset local).

Every page needs a signed-in session except the login and set-the-password pages; every POST carries the
session's CSRF token. It talks to the running Billy over the control socket (billy.control), to systemd
through `systemctl` (polkit allows Billy's units only), and edits settings as local overrides (envfiles).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import anyio
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from billy.appliance.control import ControlClient, ControlError, socket_path
from billy.appliance.doctor import run_checks
from billy.media.songs import SongLibrary
from billy.media.sounds import CLIPS
from billy.models.catalogue import load_catalogue
from billy.persona.library import DEFAULT as DEFAULT_PERSONA
from billy.persona.library import persona_names, persona_path
from billy.persona.persona import PersonaError
from billy.settings.local import read_overrides, read_units_map, units_to_restart
from billy.settings.settings import ConfigError, Settings, load_settings
from billy.web import persona_form, settings_form, system, uploads
from billy.web.auth import LoginLimiter, PasswordStore, Session, Sessions
from billy.web.model_fetch import ModelFetches

COOKIE = "billy_session"
LOG = logging.getLogger(__name__)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATUS_POLL_SECONDS = 0.5
WEB_UNIT = "billy-web"
NAV = [
    ("/", "Dashboard"),
    ("/settings", "Settings"),
    ("/persona", "Persona"),
    ("/songs", "Songs"),
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
    limiter: LoginLimiter
    control: ControlClient
    services: system.Services
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


def _session(web: Web, request: Request) -> tuple[str | None, Session | None]:
    token = request.cookies.get(COOKIE)
    return token, web.sessions.get(token)


def _set_cookie(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def _render(web: Web, request: Request, name: str, session: Session, status: int = 200, **context) -> HTMLResponse:
    flash, session.flash = session.flash, []
    html = web.templates.get_template(name).render(
        nav=NAV, path=request.url.path, csrf=session.csrf, flash=flash, signed_in=session.signed_in, **context
    )
    return HTMLResponse(html, status)


def _back(session: Session, to: str, message: str) -> RedirectResponse:
    session.flash.append(message)
    return RedirectResponse(to, 303)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Handler = Callable[[Web, Request, Session], Awaitable[Response]]
FormHandler = Callable[[Web, Request, Session, dict], Awaitable[Response]]


def page(web: Web, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in owner; others go to set-the-password or the login."""

    async def endpoint(request: Request) -> Response:
        if not web.passwords.is_set:
            return RedirectResponse("/setup", 303)
        _, session = _session(web, request)
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
        _, session = _session(web, request)
        if session is None or (signed_in and not session.signed_in):
            return PlainTextResponse("sign in first", 403)
        form = await request.form(max_part_size=max_bytes)
        if form.get("csrf") != session.csrf:
            return PlainTextResponse("refused: the form's CSRF token is missing or wrong; reload the page", 403)
        return await handler(web, request, session, form)

    return endpoint


# -- access -----------------------------------------------------------------------------------------------


async def public_page(web: Web, request: Request, name: str) -> Response:
    token, session = _session(web, request)
    if session is None:
        token, session = web.sessions.new()
    response = _render(web, request, name, session)
    return _set_cookie(response, token)


async def setup_page(request: Request) -> Response:
    web = request.app.state.web
    if web.passwords.is_set:
        return RedirectResponse("/login", 303)
    return await public_page(web, request, "setup.html")


async def setup_post(web: Web, request: Request, session: Session, form) -> Response:
    if web.passwords.is_set:
        return PlainTextResponse("the password is already set; change it on the System page", 403)
    password = form.get("password", "")
    if password != form.get("confirm", ""):
        return _back(session, "/setup", "The two passwords differ.")
    try:
        web.passwords.set(password)
    except ValueError as error:
        return _back(session, "/setup", f"Not set: {error}.")
    return _sign_in(web, request, "Password set. Welcome!")


def _sign_in(web: Web, request: Request, message: str) -> Response:
    web.sessions.drop(request.cookies.get(COOKIE))  # a new session id: no fixation
    token, session = web.sessions.new(signed_in=True)
    session.flash.append(message)
    return _set_cookie(RedirectResponse("/", 303), token)


async def login_page(request: Request) -> Response:
    web = request.app.state.web
    if not web.passwords.is_set:
        return RedirectResponse("/setup", 303)
    return await public_page(web, request, "login.html")


async def login_post(web: Web, request: Request, session: Session, form) -> Response:
    address = _address(request)
    wait = web.limiter.retry_after(address)
    if wait:
        session.flash.append(f"Too many wrong passwords: wait {wait:.0f} s.")
        response = _render(web, request, "login.html", session, status=429)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    if not web.passwords.check(form.get("password", "")):
        web.limiter.failed(address)
        LOG.warning("wrong web password from %s", address)
        session.flash.append("Wrong password.")
        return _render(web, request, "login.html", session, status=401)
    web.limiter.succeeded(address)
    return _sign_in(web, request, "Signed in.")


async def logout(web: Web, request: Request, session: Session, form) -> Response:
    web.sessions.drop(request.cookies.get(COOKIE))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def change_password(web: Web, request: Request, session: Session, form) -> Response:
    if not web.passwords.check(form.get("current", "")):
        return _back(session, "/system", "Not changed: the current password is wrong.")
    if form.get("password", "") != form.get("confirm", ""):
        return _back(session, "/system", "Not changed: the two new passwords differ.")
    try:
        web.passwords.set(form.get("password", ""))
    except ValueError as error:
        return _back(session, "/system", f"Not changed: {error}.")
    web.sessions.drop_all()
    return _sign_in(web, request, "Password changed; every other session is signed out.")


# -- dashboard and talk -------------------------------------------------------------------------------


def _status(web: Web) -> dict:
    try:
        return web.control.request("status")
    except ControlError as error:
        return {"state": "unreachable", "error": str(error), "turns": []}


async def dashboard(web: Web, request: Request, session: Session) -> Response:
    status = await anyio.to_thread.run_sync(_status, web)
    return _render(web, request, "dashboard.html", session, status=200, billy=status, figures=system.machine_figures())


async def turns_fragment(web: Web, request: Request, session: Session) -> Response:
    status = await anyio.to_thread.run_sync(_status, web)
    html = web.templates.get_template("turns.html").render(turns=status.get("turns", []))
    return HTMLResponse(html)


def _runtime_settings(web: Web) -> Settings:
    return load_settings(settings_form.effective(web.config_dir))


async def health_fragment(web: Web, request: Request, session: Session) -> Response:
    def gather():
        try:
            checks, problem = run_checks(_runtime_settings(web)), ""
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
            status = await anyio.to_thread.run_sync(_status, web)
            current = {
                "state": status.get("state"),
                "volume": status.get("volume"),
                "button_pressed": status.get("button_pressed"),
                "turns": len(status.get("turns", [])),
                "said": (status.get("turns") or [{}])[-1].get("said", ""),
                "error": status.get("error", ""),
            }
            if current != last:
                yield f"data: {json.dumps(current)}\n\n"
                last = current
            await asyncio.sleep(STATUS_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def _ask(web: Web, session: Session, to: str, done: str, op: str, **fields) -> Response:
    try:
        await anyio.to_thread.run_sync(lambda: web.control.request(op, **fields))
    except ControlError as error:
        return _back(session, to, f"Billy could not: {error}")
    return _back(session, to, done)


async def talk(web: Web, request: Request, session: Session, form) -> Response:
    if form.get("what") == "listen":
        return await _ask(web, session, "/", "Billy is listening.", "listen")
    literal = form.get("mode", "literal") == "literal"
    done = "Billy says it." if literal else "Billy answers in character."
    return await _ask(web, session, "/", done, "say", text=form.get("text", ""), literal=literal)


# -- settings and persona -----------------------------------------------------------------------------


async def settings_page(web: Web, request: Request, session: Session) -> Response:
    groups = settings_form.grouped(web.config_dir)
    secrets_set = {
        f.name: settings_form.is_secret_set(web.config_dir, f.name) for fs in groups.values() for f in fs if f.secret
    }
    return _render(web, request, "settings.html", session, groups=groups, secrets_set=secrets_set)


async def settings_post(web: Web, request: Request, session: Session, form) -> Response:
    try:
        result = settings_form.save(web.config_dir, dict(form))
    except ConfigError as error:
        return _back(session, "/settings", f"Not saved: {error}")
    if not result.changed:
        return _back(session, "/settings", "Nothing changed.")
    # Not this page's own unit: restarting it would cut the answer; the System page asks for it instead.
    units = [unit for unit in result.units if unit != WEB_UNIT]
    units_map = read_units_map(web.config_dir)
    web.unread_by_web.update(name for name in result.changed if WEB_UNIT in units_to_restart([name], units_map))
    try:
        await anyio.to_thread.run_sync(web.services.restart, units)
    except system.ServiceControlError as error:
        return _back(session, "/settings", f"Saved {', '.join(result.changed)}, but the restart failed: {error}")
    message = f"Saved {', '.join(result.changed)}; restarted {', '.join(units) or 'nothing'}."
    if WEB_UNIT in result.units:
        message += " The web page reads it too: restart billy-web on the System page."
    return _back(session, "/settings", message)


def _persona_named(web: Web, name: str) -> str:
    """One of the personas on disk (default, personas/<name>/): never a path someone typed."""
    names = persona_names(web.state_dir)
    if name not in names:
        raise PersonaError(f"no persona called {name!r}: the personas are {', '.join(names)}")
    return name


async def persona_page(web: Web, request: Request, session: Session) -> Response:
    status = await anyio.to_thread.run_sync(_status, web)
    active = status.get("persona")
    try:
        name = _persona_named(web, request.query_params.get("name") or active or DEFAULT_PERSONA)
    except PersonaError as error:
        return _back(session, "/persona", str(error))
    persona = persona_form.read_persona(persona_path(web.state_dir, name))
    names = persona_names(web.state_dir)
    return _render(web, request, "persona.html", session, persona=persona, editing=name, names=names, active=active)


async def persona_post(web: Web, request: Request, session: Session, form) -> Response:
    try:
        name = _persona_named(web, form.get("persona", DEFAULT_PERSONA))
        persona_form.save_persona(persona_path(web.state_dir, name), dict(form))
    except PersonaError as error:
        return _back(session, "/persona", f"Not saved: {error}")
    back = f"/persona?name={name}"
    try:
        active = await anyio.to_thread.run_sync(lambda: web.control.request("status")["persona"])
        if active != name:
            return _back(session, back, f"Persona {name} saved; Billy uses it once you switch to it.")
        await anyio.to_thread.run_sync(lambda: web.control.request("reload_persona"))
    except ControlError as error:
        return _back(session, back, f"Persona {name} saved; Billy reads it when he starts ({error}).")
    return _back(session, back, f"Persona {name} saved; Billy uses it now.")


async def persona_switch(web: Web, request: Request, session: Session, form) -> Response:
    wanted = form.get("persona", "")
    try:
        answer = await anyio.to_thread.run_sync(lambda: web.control.request("switch_persona", name=wanted))
    except ControlError as error:
        return _back(session, "/persona", f"Not switched: {error}")
    return _back(session, "/persona", f"Billy is {answer['persona']} now.")


# -- songs, sounds, models ----------------------------------------------------------------------------


async def songs_page(web: Web, request: Request, session: Session) -> Response:
    songs = SongLibrary(web.state_dir).songs()
    return _render(web, request, "songs.html", session, songs=songs, max_mb=web.settings.billy_web_max_upload_mb)


async def songs_upload(web: Web, request: Request, session: Session, form) -> Response:
    files: dict[str, bytes] = {}
    name = form.get("name", "").strip()
    try:
        for upload in form.getlist("files"):
            if not getattr(upload, "filename", ""):
                continue
            data = await upload.read()
            if upload.filename.lower().endswith(".zip"):
                folder, files = uploads.files_from_zip(data, web.max_upload * 4)
                name = name or folder or upload.filename[:-4]
            else:
                files[Path(upload.filename).name] = data
        if not files:
            raise uploads.UploadError("choose a zip or the song's files")
        target = await anyio.to_thread.run_sync(uploads.save_song, web.state_dir / "songs", name, files)
    except uploads.UploadError as error:
        return _back(session, "/songs", f"Not uploaded: {error}")
    return _back(session, "/songs", f"Song {target.name} uploaded.")


async def songs_play(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    return await _ask(web, session, "/songs", f"Billy sings {name}.", "song", name=name)


async def songs_delete(web: Web, request: Request, session: Session, form) -> Response:
    try:
        uploads.delete_song(web.state_dir / "songs", form.get("name", ""))
    except uploads.UploadError as error:
        return _back(session, "/songs", f"Not deleted: {error}")
    return _back(session, "/songs", f"Song {form.get('name')} deleted.")


async def sounds_page(web: Web, request: Request, session: Session) -> Response:
    folder = web.state_dir / "sounds"
    clips = [(name, text, (folder / f"{name}.wav").is_file()) for name, text in CLIPS.items()]
    return _render(web, request, "sounds.html", session, clips=clips)


async def sounds_play(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    return await _ask(web, session, "/sounds", f"Playing {name}.", "clip", name=name)


async def sounds_regenerate(web: Web, request: Request, session: Session, form) -> Response:
    from billy.media.sounds import render_clips

    runtime = _runtime_settings(web)
    folder = web.state_dir / "sounds"
    for name in CLIPS:
        (folder / f"{name}.wav").unlink(missing_ok=True)
    try:
        rendered = await anyio.to_thread.run_sync(render_clips, runtime.tts_voice_dir, runtime.local_tts_voice, folder)
    except (OSError, ValueError, RuntimeError) as error:
        return _back(session, "/sounds", f"Not rendered: {error}")
    return _back(session, "/sounds", f"Rendered {len(rendered)} clips in {runtime.local_tts_voice}'s voice.")


async def models_page(web: Web, request: Request, session: Session) -> Response:
    runtime = _runtime_settings(web)
    folder = runtime.models_dir
    installed = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    catalogue = list(load_catalogue().values())
    fetches = web.fetches.states(folder)
    return _render(
        web, request, "models.html", session, installed=installed, catalogue=catalogue, folder=folder, fetches=fetches
    )


async def models_fetch(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    try:
        web.fetches.start(name, _runtime_settings(web).models_dir)
    except LookupError as error:
        return _back(session, "/models", f"Not fetched: {error}")
    return _back(session, "/models", f"Fetching {name}.")


# -- body, logs, system -------------------------------------------------------------------------------


async def body_page(web: Web, request: Request, session: Session) -> Response:
    status = await anyio.to_thread.run_sync(_status, web)
    level = request.query_params.get("level")
    return _render(web, request, "body.html", session, billy=status, level=level)


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
                await asyncio.sleep(STATUS_POLL_SECONDS)  # the reading itself paces the stream otherwise

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


async def body_post(web: Web, request: Request, session: Session, form) -> Response:
    test = form.get("test", "")
    if test == "pulse":
        motor = form.get("motor", "")
        return await _ask(web, session, "/body", f"Pulsed the {motor} motor.", "pulse", motor=motor)
    if test == "speaker":
        return await _ask(web, session, "/body", "Playing a test tone.", "speaker_test")
    if test == "mic":
        try:
            answer = await anyio.to_thread.run_sync(lambda: web.control.request("mic_level"))
        except ControlError as error:
            return _back(session, "/body", f"Billy could not: {error}")
        return RedirectResponse(f"/body?level={answer['level']}", 303)
    return _back(session, "/body", f"Unknown test {test!r}.")


def _log_filter(request: Request) -> tuple[list[str], str]:
    unit = request.query_params.get("unit", "")
    return ([unit] if unit else []), request.query_params.get("level", "")


async def logs_page(web: Web, request: Request, session: Session) -> Response:
    units, level = _log_filter(request)
    shown_at = time.time()
    try:
        lines = await anyio.to_thread.run_sync(system.read_journal, web.settings.billy_web_journal_dir, units, level)
    except ValueError as error:
        return _back(session, "/logs", str(error))
    # The live view picks up after the last line shown (or, with none, from when the page was read).
    start = {"after": lines[-1].cursor} if lines and lines[-1].cursor else {"since": f"{shown_at:.6f}"}
    return _render(
        web,
        request,
        "logs.html",
        session,
        lines=lines,
        units=system.UNITS,
        levels=system.LEVELS,
        unit=units[0] if units else "",
        level=level,
        query=request.url.query,
        stream_query=urlencode({**dict(request.query_params), **start}),
    )


async def logs_stream(web: Web, request: Request, session: Session) -> Response:
    units, level = _log_filter(request)
    after, since = request.query_params.get("after", ""), request.query_params.get("since", "")
    try:
        start = float(since) if since else 0.0
    except ValueError:
        return PlainTextResponse("since: a UNIX time in seconds", status_code=400)
    command = system.journal_command(
        web.settings.billy_web_journal_dir, units, level, lines=0, follow=True, after=after, since=start
    )

    async def stream():
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
        try:
            while not await request.is_disconnected():
                try:
                    raw = await asyncio.wait_for(process.stdout.readline(), 1)
                except TimeoutError:
                    continue
                if not raw:
                    break
                line = system.parse_journal_line(raw.decode(errors="replace"))
                if line is not None:
                    yield f"data: {json.dumps(line.__dict__)}\n\n"
        finally:
            process.kill()
            await process.wait()

    return StreamingResponse(stream(), media_type="text/event-stream")


async def logs_download(web: Web, request: Request, session: Session) -> Response:
    units, level = _log_filter(request)
    lines = await anyio.to_thread.run_sync(system.read_journal, web.settings.billy_web_journal_dir, units, level, 5000)
    return PlainTextResponse(
        "\n".join(line.text() for line in lines) + "\n",
        headers={"Content-Disposition": 'attachment; filename="billy-logs.txt"'},
    )


async def system_page(web: Web, request: Request, session: Session) -> Response:
    units = await anyio.to_thread.run_sync(web.services.states)
    confirm = request.query_params.get("confirm", "")
    unread = sorted(web.unread_by_web)
    return _render(web, request, "system.html", session, units=units, confirm=confirm, unread_by_web=unread)


async def system_post(web: Web, request: Request, session: Session, form) -> Response:
    what = form.get("what", "")
    if form.get("confirmed") != "yes":
        return RedirectResponse(f"/system?confirm={what}", 303)
    try:
        if what in system.POWER_VERBS:
            await anyio.to_thread.run_sync(web.services.power, what)
            return _back(session, "/system", f"{what.capitalize()} under way.")
        units = list(system.UNITS) if what == "all" else [what]
        await anyio.to_thread.run_sync(web.services.restart, units)
    except system.ServiceControlError as error:
        return _back(session, "/system", f"Refused: {error}")
    return _back(session, "/system", f"Restarting {', '.join(units)}.")


async def overrides_json(web: Web, request: Request, session: Session) -> Response:
    return Response(json.dumps(sorted(read_overrides(web.config_dir))), media_type="application/json")


async def health(request: Request) -> Response:
    """For the unit's checks and Molecule: the page answers (nothing about Billy without a session)."""
    return Response(json.dumps({"ok": True}), media_type="application/json")


# -- the app ------------------------------------------------------------------------------------------


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
        PasswordStore(state_dir / "web" / "password.json", settings.billy_web_password),
        Sessions(),
        LoginLimiter(),
        ControlClient(socket_path(state_dir)),
        system.Services(settings.billy_web_systemctl),
        templates,
        ModelFetches(state_dir / "web"),
    )
    upload = web.max_upload + 2**20
    routes = [
        Route("/api/health", health),
        Route("/setup", setup_page, methods=["GET"]),
        Route("/setup", action(web, setup_post, signed_in=False), methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", action(web, login_post, signed_in=False), methods=["POST"]),
        Route("/logout", action(web, logout), methods=["POST"]),
        Route("/", page(web, dashboard)),
        Route("/dashboard/turns", page(web, turns_fragment)),
        Route("/dashboard/health", page(web, health_fragment)),
        Route("/events", page(web, events)),
        Route("/talk", action(web, talk), methods=["POST"]),
        Route("/settings", page(web, settings_page), methods=["GET"]),
        Route("/settings", action(web, settings_post), methods=["POST"]),
        Route("/settings/overrides", page(web, overrides_json)),
        Route("/persona", page(web, persona_page), methods=["GET"]),
        Route("/persona", action(web, persona_post), methods=["POST"]),
        Route("/persona/switch", action(web, persona_switch), methods=["POST"]),
        Route("/songs", page(web, songs_page), methods=["GET"]),
        Route("/songs/upload", action(web, songs_upload, max_bytes=upload), methods=["POST"]),
        Route("/songs/play", action(web, songs_play), methods=["POST"]),
        Route("/songs/delete", action(web, songs_delete), methods=["POST"]),
        Route("/sounds", page(web, sounds_page), methods=["GET"]),
        Route("/sounds/play", action(web, sounds_play), methods=["POST"]),
        Route("/sounds/regenerate", action(web, sounds_regenerate), methods=["POST"]),
        Route("/models", page(web, models_page), methods=["GET"]),
        Route("/models/fetch", action(web, models_fetch), methods=["POST"]),
        Route("/body", page(web, body_page), methods=["GET"]),
        Route("/body", action(web, body_post), methods=["POST"]),
        Route("/body/mic", page(web, mic_levels)),
        Route("/logs", page(web, logs_page)),
        Route("/logs/stream", page(web, logs_stream)),
        Route("/logs/download", page(web, logs_download)),
        Route("/system", page(web, system_page), methods=["GET"]),
        Route("/system", action(web, system_post), methods=["POST"]),
        Route("/system/password", action(web, change_password), methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("billy.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.web = web
    app.add_middleware(SecurityHeaders)
    return app
