"""Client of any OpenAI-shaped speech endpoint: Billy's TTS service (streams) or OpenAI itself."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from billy.models.defaults import OPENAI_TTS_MODEL
from billy.services.client import ServiceError, auth_headers, error_message, get_health, kept_connection, no_answer

# OpenAI's `pcm` format is 24 kHz and says so only in its documentation; Billy's service sends a header.
OPENAI_PCM_RATE = 24000


class TtsClient:
    def __init__(
        self, base_url: str, voice: str = "", model: str = OPENAI_TTS_MODEL, api_key: str = "", timeout: float = 20
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.voice = voice
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._http = kept_connection()

    def health(self) -> dict:
        return get_health("tts", self.base_url)

    def _request(self, text: str, response_format: str, speed: float) -> dict:
        body = {"model": self.model, "input": text, "voice": self.voice or None, "speed": speed}
        return {
            "url": f"{self.base_url}/audio/speech",
            "json": {**body, "response_format": response_format},
            "headers": auth_headers(self.api_key),
            "timeout": self.timeout,
        }

    @contextlib.contextmanager
    def stream(self, text: str, speed: float = 1.0) -> Iterator[tuple[int, Iterator[bytes]]]:
        """(sample rate, PCM16 chunks as they arrive); chunk edges may split a sample, callers re-align."""
        try:
            with self._http.stream("POST", **self._request(text, "pcm", speed)) as response:
                if response.status_code != 200:
                    response.read()
                    raise ServiceError("tts", error_message(response))
                rate = int(response.headers.get("x-sample-rate", OPENAI_PCM_RATE))
                yield rate, _guarded(response.iter_bytes())
        except httpx.HTTPError as error:
            raise no_answer("tts", self.base_url, error) from None

    def speak_wav(self, text: str, speed: float = 1.0) -> bytes:
        try:
            response = self._http.post(**self._request(text, "wav", speed))
        except httpx.HTTPError as error:
            raise no_answer("tts", self.base_url, error) from None
        if response.status_code != 200:
            raise ServiceError("tts", error_message(response))
        return response.content


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Turn a connection lost mid-stream into the same ServiceError as a refused request."""
    try:
        yield from chunks
    except httpx.HTTPError as error:
        raise ServiceError("tts", f"stream broke: {type(error).__name__} {error}") from None
