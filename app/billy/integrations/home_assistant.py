"""Asking Home Assistant to do something: its conversation API, which answers in words Billy reads back."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from billy.services.client import ServiceError, kept_connection

# What Home Assistant's intent engine says when a sentence was not a home command it could carry out.
NOT_HANDLED_CODES = ("no_intent_match", "no_valid_targets")


@dataclass(frozen=True)
class HaAnswer:
    """Home Assistant's reply to a sentence: `response_type` is action_done, query_answer or error."""

    response_type: str
    speech: str
    code: str = ""  # the error code when response_type is "error"

    @property
    def handled(self) -> bool:
        """True when Home Assistant understood the sentence as a home command (even one that then failed)."""
        return self.response_type in ("action_done", "query_answer") or (
            self.response_type == "error" and self.code not in NOT_HANDLED_CODES
        )


class HomeAssistant:
    def __init__(self, host: str, token: str, language: str, timeout: float = 10) -> None:
        self.host = host.rstrip("/")
        self.token = token
        self.language = language
        self.timeout = timeout
        self._http = kept_connection()

    @property
    def configured(self) -> bool:
        return bool(self.host and self.token)

    def entity_names(self) -> list[str]:
        """`GET /api/states`: the friendly names of Home Assistant's entities (what a sentence may name)."""
        try:
            response = self._http.get(
                f"{self.host}/api/states", headers={"Authorization": f"Bearer {self.token}"}, timeout=self.timeout
            )
            states = response.json() if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceError("home assistant", f"no list of entities from {self.host}: {error}") from None
        names = (
            str((state.get("attributes") or {}).get("friendly_name", "")) for state in states if isinstance(state, dict)
        )
        return sorted({name for name in names if name})

    def process(self, text: str) -> str:
        """Send the request; return Home Assistant's spoken answer."""
        return self.converse(text).speech

    def converse(self, text: str, language: str | None = None) -> HaAnswer:
        """`POST /api/conversation/process`: Home Assistant's own intent engine, no LLM involved."""
        if not self.configured:
            raise ServiceError("home assistant", "not configured: set HA_HOST and HA_TOKEN")
        try:
            response = self._http.post(
                f"{self.host}/api/conversation/process",
                json={"text": text, "language": language or self.language},
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
            answer = response.json()["response"]
            return HaAnswer(
                str(answer.get("response_type", "")),
                str(answer["speech"]["plain"]["speech"]),
                str((answer.get("data") or {}).get("code", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ServiceError("home assistant", "the answer had no speech in it") from None


def _stem(word: str) -> str:
    """A word as speech recognition may have heard it: lower case, a plural's "s" off ("lights": "light")."""
    word = word.lower().strip(".,!?")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def with_nearest_name(sentence: str, names: list[str]) -> tuple[str, str] | None:
    """The sentence with the words that come closest to one of `names` replaced by that name, and the name;
    None if no name's words are all in the sentence (plurals and case aside). "turn on the kitchen light" and
    "Kitchen Lights": ("turn on the Kitchen Lights", "Kitchen Lights")."""
    words = sentence.split()
    stems = [_stem(word) for word in words]
    best = None
    for name in names:
        wanted = [_stem(word) for word in name.split()]
        for start in range(len(stems) - len(wanted) + 1):
            if stems[start : start + len(wanted)] == wanted and (best is None or len(wanted) > best[2]):
                best = (start, name, len(wanted))
    if best is None:
        return None
    start, name, length = best
    return " ".join([*words[:start], name, *words[start + length :]]).rstrip(".,!?"), name
