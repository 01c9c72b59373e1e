"""The logs page: the journal of Billy's units, filtered by unit and level, following live, downloadable.

The unit and level come from the address, so they are checked against Billy's own units and journald's levels
before anything runs: a wrong one gets the same clear message on the page, the live view and the download.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.web import machine
from billy.web.auth import Session
from billy.web.core import Web, back, page, render

DOWNLOAD_LINES = 5000


def _log_filter(request: Request) -> tuple[list[str], str]:
    """The units and level asked for; ValueError naming what is allowed when they are not Billy's."""
    unit, level = request.query_params.get("unit", ""), request.query_params.get("level", "")
    machine.check_log_filter(unit, level)
    return ([unit] if unit else []), level


async def logs_page(web: Web, request: Request, session: Session) -> Response:
    shown_at = time.time()
    try:
        units, level = _log_filter(request)
        lines = await anyio.to_thread.run_sync(machine.read_journal, web.settings.billy_web_journal_dir, units, level)
    except ValueError as error:
        return back(session, "/logs", str(error))
    # The live view picks up after the last line shown (or, with none, from when the page was read).
    start = {"after": lines[-1].cursor} if lines and lines[-1].cursor else {"since": f"{shown_at:.6f}"}
    return render(
        web,
        request,
        "logs.html",
        session,
        lines=lines,
        units=machine.UNITS,
        levels=machine.LEVELS,
        unit=units[0] if units else "",
        level=level,
        query=request.url.query,
        stream_query=urlencode({**dict(request.query_params), **start}),
    )


async def logs_stream(web: Web, request: Request, session: Session) -> Response:
    after, since = request.query_params.get("after", ""), request.query_params.get("since", "")
    try:
        units, level = _log_filter(request)
        start = float(since) if since else 0.0
    except ValueError as error:
        return PlainTextResponse(f"{error} (since: a UNIX time in seconds)", status_code=400)
    command = machine.journal_command(
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
                line = machine.parse_journal_line(raw.decode(errors="replace"))
                if line is not None:
                    yield f"data: {json.dumps(line.__dict__)}\n\n"
        finally:
            process.kill()
            await process.wait()

    return StreamingResponse(stream(), media_type="text/event-stream")


async def logs_download(web: Web, request: Request, session: Session) -> Response:
    try:
        units, level = _log_filter(request)
    except ValueError as error:
        return PlainTextResponse(str(error), status_code=400)
    journal = web.settings.billy_web_journal_dir
    lines = await anyio.to_thread.run_sync(machine.read_journal, journal, units, level, DOWNLOAD_LINES)
    return PlainTextResponse(
        "\n".join(line.text() for line in lines) + "\n",
        headers={"Content-Disposition": 'attachment; filename="billy-logs.txt"'},
    )


def routes(web: Web) -> list[Route]:
    return [
        Route("/logs", page(web, logs_page)),
        Route("/logs/stream", page(web, logs_stream)),
        Route("/logs/download", page(web, logs_download)),
    ]
