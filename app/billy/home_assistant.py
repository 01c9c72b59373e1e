"""Asking Home Assistant to do something: its conversation API, which answers in words Billy reads back."""

from __future__ import annotations

import httpx

from .service_client import ServiceError


class HomeAssistant:
    def __init__(self, host: str, token: str, language: str, timeout: float = 10) -> None:
        self.host = host.rstrip("/")
        self.token = token
        self.language = language
        self.timeout = timeout

    @property
    def configured(self) -> bool:
        return bool(self.host and self.token)

    def process(self, text: str) -> str:
        """Send the request; return Home Assistant's spoken answer."""
        if not self.configured:
            raise ServiceError("home assistant", "not configured: set HA_HOST and HA_TOKEN")
        try:
            response = httpx.post(
                f"{self.host}/api/conversation/process",
                json={"text": text, "language": self.language},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise ServiceError("home assistant", f"no answer from {self.host}: {type(error).__name__}") from None
        if response.status_code == 401:
            raise ServiceError("home assistant", "the token was refused (HTTP 401): check HA_TOKEN")
        if response.status_code != 200:
            raise ServiceError("home assistant", f"HTTP {response.status_code}")
        try:
            return str(response.json()["response"]["speech"]["plain"]["speech"])
        except (ValueError, KeyError, TypeError):
            raise ServiceError("home assistant", "the answer had no speech in it") from None
