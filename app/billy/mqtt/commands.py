"""Parsing and validating what arrives on Billy's command topics, with no MQTT client in sight.

Each parser takes the raw payload bytes and returns a plain value or raises `InvalidPayload` with a reason a
person can act on. The rules, so automations know what to send:

- Every payload must be valid UTF-8 and at most `MQTT_MAX_PAYLOAD_BYTES` long (checked by the link).
- `say`: a payload whose first non-blank character is `{` is JSON and must be an object with a non-empty
  string `text` and an optional boolean `literal` (default false); other keys are ignored. If it does not
  parse, it is rejected rather than spoken, because reading JSON out loud is never what was meant. Anything
  else is plain text (so `42` or `[laughs] hello` are spoken as written) with `literal` false.
- `command`: `shutdown`, `restart` or `stop`, any case, surrounding blanks ignored.
- numbers (traits, volume): a decimal number from 0 to 100 (`42`, `42.0`, ` 7.5 `), rounded to an integer;
  no exponent, sign, NaN or infinity.
- switches (mic mute): `ON` or `OFF`, any case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

COMMANDS = ("shutdown", "restart", "stop")
_DECIMAL = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")
# Text that is spoken may hold line breaks and tabs; other control characters are garbage or an attack.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidPayload(ValueError):
    """A payload Billy ignores; the message says why."""


@dataclass(frozen=True)
class Say:
    text: str
    literal: bool = False


def decode(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidPayload(f"not valid UTF-8 (byte {error.start})") from None


def parse_say(payload: bytes) -> Say:
    raw = decode(payload)
    if raw.lstrip().startswith("{"):
        return _say_from_json(raw)
    return Say(_speakable(raw, "the text"))


def _say_from_json(raw: str) -> Say:
    try:
        message = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise InvalidPayload(f"starts with '{{' but is not valid JSON ({error})") from None
    if not isinstance(message, dict):
        raise InvalidPayload('JSON must be an object like {"text": "...", "literal": false}')
    text = message.get("text")
    if not isinstance(text, str):
        raise InvalidPayload(f"JSON 'text' must be a string, got {type(text).__name__}")
    literal = message.get("literal", False)
    if not isinstance(literal, bool):
        raise InvalidPayload(f"JSON 'literal' must be true or false, got {literal!r:.40}")
    return Say(_speakable(text, "JSON 'text'"), literal)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _speakable(text: str, what: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidPayload(f"{what} is empty")
    if _CONTROL.search(text):
        raise InvalidPayload(f"{what} contains control characters")
    return text


def parse_command(payload: bytes) -> str:
    command = decode(payload).strip().lower()
    if command not in COMMANDS:
        raise InvalidPayload(f"unknown command {command!r:.60}: expected one of {', '.join(COMMANDS)}")
    return command


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
