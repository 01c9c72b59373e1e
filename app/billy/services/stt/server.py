"""`billy stt-server`: the OpenAI-shaped transcription endpoint over the whisper engine.

The HTTP server comes up at once and answers `/api/health` with 503 while the model loads, so systemd and the
doctor can tell "starting" from "dead".
"""

from __future__ import annotations

import logging
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from billy.audio.pcm import AudioFormatError, Pcm, read_raw, read_wav
from billy.services.http_common import BodyTooLarge, ModelLoader, api_error, read_body, replayed
from billy.services.stt.engine import WhisperEngine

RESPONSE_FORMATS = ("json", "text", "verbose_json")
LOG = logging.getLogger(__name__)


def build_app(engine: WhisperEngine, max_seconds: float) -> Starlette:
    # Upload ceiling: the longest allowed audio as 48 kHz stereo WAV, plus room for the form around it.
    max_bytes = int(max_seconds * 48000 * 2 * 2) + 65536
    model = ModelLoader("the model", engine.load, lambda: {"model": engine.name, "compute_type": engine.compute_type})

    async def transcriptions(request: Request) -> Response:
        if (unavailable := model.unavailable()) is not None:
            return unavailable
        try:
            body = await read_body(request, max_bytes)
        except BodyTooLarge as error:
            return api_error(413, f"{error}: send at most {max_seconds:g} s of audio")
        try:
            form = await replayed(request, body).form(max_files=1, max_fields=10, max_part_size=max_bytes)
        except Exception as error:  # multipart parser errors have no common base class
            return api_error(400, f"could not read the form: {error}; send multipart/form-data with a 'file'")
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return api_error(400, "the form has no 'file' part: send the audio as multipart field 'file'")
        response_format = str(form.get("response_format") or "json")
        if response_format not in RESPONSE_FORMATS:
            return api_error(
                400, f"response_format={response_format!r}: allowed values are {', '.join(RESPONSE_FORMATS)}"
            )
        language = str(form.get("language") or "").strip().lower() or None
        if language == "auto":
            language = None
        if language is not None and not engine.knows_language(language):
            return api_error(400, f"language={language!r} is not a language whisper knows: use a code like 'en'")
        data = await upload.read()
        await form.close()
        try:
            pcm = _decode(data, upload.content_type or "", str(form.get("sample_rate") or ""))
        except AudioFormatError as error:
            return api_error(400, str(error))
        if pcm.seconds > max_seconds:
            return api_error(413, f"the audio is {pcm.seconds:.1f} s long; the limit is {max_seconds:g} s")
        started = time.monotonic()
        transcript = await run_in_threadpool(engine.transcribe, pcm, language)
        LOG.info(
            "transcribed %.1f s of audio (a %.0f s window) in %.2f s: %r",
            pcm.seconds,
            transcript.window_s,
            time.monotonic() - started,
            transcript.text,
        )
        if response_format == "text":
            return PlainTextResponse(transcript.text)
        if response_format == "verbose_json":
            return JSONResponse(
                {
                    "task": "transcribe",
                    "text": transcript.text,
                    "language": transcript.language,
                    "duration": transcript.duration,
                    "segments": transcript.segments,
                }
            )
        return JSONResponse({"text": transcript.text})

    app = Starlette(
        routes=[
            Route("/api/health", model.health),
            Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
        ],
        lifespan=model.lifespan,
    )
    return app


def _decode(data: bytes, content_type: str, sample_rate: str) -> Pcm:
    """WAV by default; raw PCM16 mono when the rate is named (form field or `audio/L16;rate=`)."""
    if "rate=" in content_type and not sample_rate:
        sample_rate = content_type.split("rate=", 1)[1].split(";")[0]
    if sample_rate:
        try:
            rate = int(sample_rate)
        except ValueError:
            raise AudioFormatError(f"sample_rate={sample_rate!r} is not a whole number of Hz") from None
        return read_raw(data, rate)
    return read_wav(data)
