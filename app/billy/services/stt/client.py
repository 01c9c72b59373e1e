"""Client of any OpenAI-shaped transcription endpoint: Billy's STT service or OpenAI itself."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from billy.languages import language_code
from billy.models.defaults import OPENAI_STT_MODEL
from billy.services.client import ServiceError, auth_headers, error_message, get_health, kept_connection, no_answer


@dataclass(frozen=True)
class Heard:
    text: str
    language: str = ""  # two-letter code of the language heard, "" if the service did not say


class SttClient:
    def __init__(self, base_url: str, model: str = OPENAI_STT_MODEL, api_key: str = "", timeout: float = 20) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._http = kept_connection()

    def health(self) -> dict:
        return get_health("stt", self.base_url)

    def transcribe(self, wav: bytes, language: str | None = None) -> str:
        return self.hear(wav, language).text

    def hear(self, wav: bytes, language: str | None = None) -> Heard:
        """The words and the language they were in (verbose_json carries it; OpenAI names it in full)."""
        data = {"model": self.model, "response_format": "verbose_json"}
        if language:
            data["language"] = language
        try:
            response = self._http.post(
                f"{self.base_url}/audio/transcriptions",
                files={"file": ("speech.wav", wav, "audio/wav")},
                data=data,
                headers=auth_headers(self.api_key),
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise no_answer("stt", self.base_url, error) from None
        if response.status_code != 200:
            raise ServiceError("stt", error_message(response))
        body = response.json()
        return Heard(str(body.get("text", "")).strip(), language_code(str(body.get("language") or language or "")))
