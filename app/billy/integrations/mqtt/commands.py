"""Parsing and validating what arrives on Billy's command topics, with no MQTT client in sight.

Each parser takes the raw payload bytes and returns a plain value or raises `InvalidPayload` with a reason a
person can act on. The rules, so automations know what to send:

- Every payload must be valid UTF-8 and at most `MQTT_MAX_PAYLOAD_BYTES` long (checked by the link).
- `say` (as the original): plain text is spoken word for word. A payload whose first non-blank character is `{` is
  JSON and must be an object with a non-empty string `text`, an optional boolean `literal` (default true: spoken as
  written; false: Billy answers it in character), an optional boolean `interactive` (listen for an answer
  afterwards) and an optional boolean `follow_up` (listen afterwards only if the text asks a question: an
  announcement such as "Dinner is ready, are you coming?"); other keys are ignored. JSON that does not parse is
  rejected rather than spoken, because reading JSON out loud is never what was meant. Text wrapped in `{{ }}` is a
  prompt for Billy to answer, not to read out (literal false, and he listens afterwards unless told otherwise); the
  original's inline tags `[[chat]]`/`[[follow-up]]` and
  `[[nochat]]`/`[[announce-only]]`/`[[one-shot]]`/`[[no-follow-up]]` set `interactive` and are not spoken.
- `command`: a verb of the operations table (billy.appliance.operations: `shutdown`, `restart-billy` (also
  `restart`), `reboot`, `listen` (start a session, or end the one running) or `stop` (stop talking)), any case,
  surrounding blanks ignored.
- `song`: a song's name, title or keyword, or `{"song": "..."}`.
- `wakeup/play`: `{"index": N, "persona": "name"}`, N from 1 to 99, persona optional.
- `persona/set`: a persona's name.
- numbers (traits, volume): a decimal number from 0 to 100 (`42`, `42.0`, ` 7.5 `), rounded to an integer;
  no exponent, sign, NaN or infinity.
- switches (mic mute): `ON` or `OFF`, any case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

INTERACTIVE_TAGS = {"[[chat]]": True, "[[follow-up]]": True}
ONE_SHOT_TAGS = {tag: False for tag in ("[[nochat]]", "[[announce-only]]", "[[one-shot]]", "[[no-follow-up]]")}
_TAG = re.compile("|".join(re.escape(tag) for tag in {**INTERACTIVE_TAGS, **ONE_SHOT_TAGS}), re.IGNORECASE)
_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")
# Text that is spoken may hold line breaks and tabs; other control characters are garbage or an attack.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidPayload(ValueError):
    """A payload Billy ignores; the message says why."""


@dataclass(frozen=True)
class Say:
    text: str
    literal: bool = True
    interactive: bool = False
    follow_up: bool = False  # listen afterwards if the text asks a question


@dataclass(frozen=True)
class WakeupPlay:
    index: int
    persona: str | None = None


def decode(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidPayload(f"not valid UTF-8 (byte {error.start})") from None


def parse_say(payload: bytes) -> Say:
    raw = decode(payload)
    if raw.lstrip().startswith("{") and not raw.lstrip().startswith("{{"):
        message = _json_object(raw, '{"text": "...", "literal": true}')
        text = message.get("text")
        if not isinstance(text, str):
            raise InvalidPayload(f"JSON 'text' must be a string, got {type(text).__name__}")
        follow_up = bool(_flag(message, "follow_up"))
        return _say(text, "JSON 'text'", _flag(message, "literal"), _flag(message, "interactive"), follow_up)
    return _say(raw, "the text", None, None)


def _say(text: str, what: str, literal: bool | None, interactive: bool | None, follow_up: bool = False) -> Say:
    for tag in _TAG.findall(text):
        interactive = {**INTERACTIVE_TAGS, **ONE_SHOT_TAGS}[tag.lower()]
    text = speakable(_TAG.sub("", text), what)
    prompt = text.startswith("{{") and text.endswith("}}")
    if prompt:
        text = speakable(text[2:-2], what)
    if literal is None:
        literal = not prompt
    if interactive is None:
        interactive = prompt
    return Say(text, literal, interactive, follow_up)


def _flag(message: dict, key: str) -> bool | None:
    value = message.get(key)
    if value is not None and not isinstance(value, bool):
        raise InvalidPayload(f"JSON '{key}' must be true or false, got {value!r:.40}")
    return value


def _json_object(raw: str, example: str) -> dict:
    try:
        message = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise InvalidPayload(f"starts with '{{' but is not valid JSON ({error})") from None
    if not isinstance(message, dict):
        raise InvalidPayload(f"JSON must be an object like {example}")
    return message


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def speakable(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidPayload(f"{what} is empty")
    if _CONTROL.search(text):
        raise InvalidPayload(f"{what} contains control characters")
    return text


def parse_command(payload: bytes, verbs: Mapping[str, str]) -> str:
    """The operation a verb on billy/command names (`verbs`: verb -> operation, billy.appliance.operations)."""
    verb = decode(payload).strip().lower()
    if verb not in verbs:
        raise InvalidPayload(f"unknown command {verb!r:.60}: expected one of {', '.join(verbs)}")
    return verbs[verb]


def parse_percent(payload: bytes) -> int:
    raw = decode(payload).strip()
    if not _DECIMAL.fullmatch(raw):
        raise InvalidPayload(f"{raw!r:.40} is not a number from 0 to 100")
    value = float(raw)
    if value > 100:
        raise InvalidPayload(f"{raw!r} is out of range: expected 0 to 100")
    return round(value)


def parse_switch(payload: bytes) -> bool:
    raw = decode(payload).strip().upper()
    if raw not in ("ON", "OFF"):
        raise InvalidPayload(f"{raw!r:.40} is not ON or OFF")
    return raw == "ON"


def parse_song(payload: bytes) -> str:
    raw = decode(payload)
    if raw.lstrip().startswith("{"):
        song = _json_object(raw, '{"song": "name"}').get("song")
        if not isinstance(song, str):
            raise InvalidPayload(f"JSON 'song' must be a string, got {type(song).__name__}")
        raw = song
    return speakable(raw, "the song name")


def parse_wakeup(payload: bytes) -> WakeupPlay:
    message = _json_object(decode(payload) or "{}", '{"index": 1, "persona": "name"}')
    index, persona = message.get("index"), message.get("persona")
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= 99:
        raise InvalidPayload(f"JSON 'index' must be a whole number from 1 to 99, got {index!r:.40}")
    if persona is not None and not isinstance(persona, str):
        raise InvalidPayload(f"JSON 'persona' must be a string, got {type(persona).__name__}")
    return WakeupPlay(index, (persona or "").strip() or None)


def parse_name(payload: bytes) -> str:
    return speakable(decode(payload), "the name")
