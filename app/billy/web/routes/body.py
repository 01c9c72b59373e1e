"""The body test: a short pulse on each motor, a test tone, the live microphone level, the button's state, and
the microphone's calibration (the room, then the owner's voice; the proposal saved through the settings form)."""

from __future__ import annotations

import asyncio
import json
import math
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.appliance.control import ControlError
from billy.hearing.calibration import CalibrationError, Levels, propose
from billy.web.auth import Session
from billy.web.core import Web, action, ask, back, page, render, status

RETRY_SECONDS = 0.5


CALIBRATION_SECONDS = 3.0


async def body_page(web: Web, request: Request, session: Session) -> Response:
    billy = await anyio.to_thread.run_sync(status, web)
    query = request.query_params
    room = _levels(query.get("room_floor"), query.get("room_peak"))
    proposal = None
    if room is not None and (voice := _levels(query.get("voice_floor"), query.get("voice_peak"))) is not None:
        try:
            proposal = propose(_number(query.get("gain")) or 0.0, room, voice)
        except CalibrationError as error:
            session.flash.append(f"Calibration: {error}")
    return render(
        web,
        request,
        "body.html",
        session,
        billy=billy,
        level=query.get("level"),
        room=room,
        proposal=proposal,
        seconds=CALIBRATION_SECONDS,
    )


def _number(text: str | None) -> float | None:
    """A measured level or gain, as the calibration's own redirect wrote it; None when absent or not a number."""
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and -100 <= value <= 100 else None


def _levels(floor: str | None, peak: str | None) -> Levels | None:
    floor_value, peak_value = _number(floor), _number(peak)
    if floor_value is None or peak_value is None or floor_value < 0 or peak_value < 0:
        return None
    return Levels(floor_value, peak_value)


async def _calibrate(web: Web, session: Session, form) -> Response:
    """One step of the calibration: measure, then back to the page with every level so far in its address."""
    try:
        answer = await anyio.to_thread.run_sync(lambda: web.control.request("mic_measure", seconds=CALIBRATION_SECONDS))
    except ControlError as error:
        return back(session, "/body", f"Billy could not: {error}")
    what = "voice" if form.get("step") == "voice" else "room"
    levels = {f"{what}_floor": answer["floor"], f"{what}_peak": answer["peak"], "gain": answer["mic_gain_db"]}
    if what == "voice":
        levels |= {key: value for key in ("room_floor", "room_peak") if (value := _number(form.get(key))) is not None}
    return RedirectResponse(f"/body?{urlencode(levels)}#calibration", 303)


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
    if test == "led":
        name = form.get("look", "")
        return await ask(web, session, "/body", f"The LED shows {name} for a few seconds.", "led", name=name)
    if test == "calibrate":
        return await _calibrate(web, session, form)
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
