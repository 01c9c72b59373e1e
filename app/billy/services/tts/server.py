"""`billy tts-server`: OpenAI-shaped speech over piper, streaming PCM sentence by sentence.

Each request gets an id (header `X-Request-Id`) and a timeline of server-side events (sentence synthesis
started/finished, chunk handed to the socket) kept for the last requests at `/api/requests/{id}`: the latency
dashboard reads it, and the streaming test uses it to prove the order of events from the server's side.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.audio.pcm import wav_bytes
from billy.conversation.sentences import split_sentences
from billy.services.http_common import BodyTooLarge, ModelLoader, api_error, read_body
from billy.services.tts.engine import PiperEngine, UnknownVoiceError

RESPONSE_FORMATS = ("pcm", "wav")
KEPT_TIMELINES = 50
LOG = logging.getLogger(__name__)


def build_app(engine: PiperEngine, max_chars: int) -> Starlette:
    # Body ceiling: the longest input with every character JSON-escaped (a surrogate pair is 12 bytes), plus
    # room for the other fields. Counted as it arrives, so no body is read whole before the check.
    max_bytes = max_chars * 12 + 4096
    model = ModelLoader("the voice", engine.load, lambda: {"voice": engine.default_voice})
    timelines: OrderedDict[str, list[dict]] = OrderedDict()
    request_ids = itertools.count(1)

    def new_timeline() -> tuple[str, list[dict]]:
        request_id = str(next(request_ids))
        timelines[request_id] = []
        while len(timelines) > KEPT_TIMELINES:
            timelines.popitem(last=False)
        return request_id, timelines[request_id]

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
        if (unavailable := model.unavailable()) is not None:
            return unavailable
        try:
            body = json.loads(await read_body(request, max_bytes))
        except BodyTooLarge as error:
            return api_error(413, f"{error}: 'input' may have at most {max_chars} characters")
        except (ValueError, RecursionError):  # invalid JSON, invalid UTF-8, or nested past Python's stack
            return api_error(400, 'the body is not JSON: send {"input": "text", "voice": ...}')
        if not isinstance(body, dict):
            return api_error(400, "the body must be a JSON object")
        text = body.get("input")
        if not isinstance(text, str) or not text.strip():
            return api_error(400, "'input' must be a non-empty string")
        if not text.isascii() and not _is_unicode(text):
            return api_error(400, "'input' is not valid Unicode (it holds a lone surrogate such as \\ud800)")
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
        # Synthesis runs in a worker thread, so health and other requests are answered meanwhile.
        audio = await run_in_threadpool(lambda: b"".join(chunks()))
        return Response(wav_bytes(audio, voice.sample_rate), media_type="audio/wav", headers=headers)

    return Starlette(
        routes=[
            Route("/api/health", model.health),
            Route("/api/voices", voices),
            Route("/api/requests/{request_id}", timeline),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ],
        lifespan=model.lifespan,
    )


def _is_unicode(text: str) -> bool:
    """JSON can carry lone surrogates ("\\ud800"); no voice can say them, and encoding them fails."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
