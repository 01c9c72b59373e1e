"""`billy tts-server`: OpenAI-shaped speech over piper, streaming PCM sentence by sentence.

Each request gets an id (header `X-Request-Id`) and a timeline of server-side events (sentence synthesis
started/finished, chunk handed to the socket) kept for the last requests at `/api/requests/{id}`: the latency
dashboard reads it, and the streaming test uses it to prove the order of events from the server's side.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..audio.pcm import wav_bytes
from ..http_common import api_error, start_in_background
from ..sentences import split_sentences
from .engine import PiperEngine, UnknownVoiceError

RESPONSE_FORMATS = ("pcm", "wav")
KEPT_TIMELINES = 50
LOG = logging.getLogger(__name__)


def build_app(engine: PiperEngine, max_chars: int) -> Starlette:
    status = {"state": "loading", "error": ""}
    timelines: OrderedDict[str, list[dict]] = OrderedDict()
    request_ids = itertools.count(1)

    def load() -> None:
        try:
            engine.load()
            status["state"] = "ok"
        except Exception as error:  # reported by /api/health; the unit keeps answering
            LOG.exception("could not load the default voice")
            status.update(state="error", error=str(error))

    def new_timeline() -> tuple[str, list[dict]]:
        request_id = str(next(request_ids))
        timelines[request_id] = []
        while len(timelines) > KEPT_TIMELINES:
            timelines.popitem(last=False)
        return request_id, timelines[request_id]

    async def health(request: Request) -> Response:
        body = {"status": status["state"], "voice": engine.default_voice}
        if status["error"]:
            body["error"] = status["error"]
        return JSONResponse(body, status_code=200 if status["state"] == "ok" else 503)

    async def voices(request: Request) -> Response:
        return JSONResponse(
            {
                "default": engine.default_voice,
                "voices": [
                    {"name": v.name, "language": v.language, "sample_rate": v.sample_rate, "quality": v.quality}
                    for v in engine.voices().values()
                ],
            }
        )

    async def timeline(request: Request) -> Response:
        events = timelines.get(request.path_params["request_id"])
        if events is None:
            return api_error(404, "no such request (only the last requests are kept)")
        return JSONResponse({"events": events})

    async def speech(request: Request) -> Response:
        if status["state"] != "ok":
            return api_error(503, f"the voice is {status['state']}: try again shortly", "service_unavailable")
        try:
            body = await request.json()
        except ValueError:
            return api_error(400, 'the body is not JSON: send {"input": "text", "voice": ...}')
        if not isinstance(body, dict):
            return api_error(400, "the body must be a JSON object")
        text = body.get("input")
        if not isinstance(text, str) or not text.strip():
            return api_error(400, "'input' must be a non-empty string")
        if len(text) > max_chars:
            return api_error(413, f"'input' has {len(text)} characters; the limit is {max_chars}")
        response_format = body.get("response_format", "wav")
        if response_format not in RESPONSE_FORMATS:
            return api_error(
                400, f"response_format={response_format!r}: allowed values are {', '.join(RESPONSE_FORMATS)}"
            )
        speed = body.get("speed", 1.0)
        if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
            return api_error(400, f"speed={speed!r}: expected a number from 0.25 to 4.0")
        try:
            voice = engine.voice_info(body.get("voice") or None)
        except UnknownVoiceError as error:
            return api_error(404, str(error))
        sentences = split_sentences(text)
        request_id, events = new_timeline()

        def note(event: str, index: int) -> None:
            events.append({"event": event, "sentence": index, "t": time.monotonic()})

        def chunks() -> Iterator[bytes]:
            for index, audio in enumerate(engine.synthesize(sentences, voice.name, float(speed), note)):
                note("chunk_sent", index)
                yield audio

        headers = {
            "X-Request-Id": request_id,
            "X-Sample-Rate": str(voice.sample_rate),
            "X-Sentences": str(len(sentences)),
        }
        if response_format == "pcm":
            return StreamingResponse(chunks(), media_type=f"audio/pcm;rate={voice.sample_rate}", headers=headers)
        return Response(wav_bytes(b"".join(chunks()), voice.sample_rate), media_type="audio/wav", headers=headers)

    return Starlette(
        routes=[
            Route("/api/health", health),
            Route("/api/voices", voices),
            Route("/api/requests/{request_id}", timeline),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ],
        lifespan=start_in_background(load, "load-voice"),
    )
