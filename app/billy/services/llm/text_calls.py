"""Tool calls that a small model wrote as text, made real when they name a known tool with valid arguments.

Qwen2.5 Coder 0.5B and 1.5B, asked through llama.cpp's server with tools, answer "play a song" with the right
function and arguments, but as plain JSON in the reply (sometimes in a ```json fence, sometimes between
<tool_call> tags that the server did not take), so the server reports text, not a call, and Billy would read
the JSON aloud. A reply that *begins* like a call is held back until it ends and then parsed strictly: every
object in it must name a tool that was offered, with arguments that fit that tool's schema (required ones
present, no others, types and choices right). Then it becomes ToolCall events, exactly as if the server had
parsed it. Anything else shaped like a call is dropped with a log line and never run; a reply that does not
begin like one streams on untouched, with no delay.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from billy.services.llm.events import Event, Overtime, TextDelta, ToolCall

LOG = logging.getLogger(__name__)

# How a reply that is a call begins, after any white space.
CALL_OPENINGS = ("{", "[", "<tool_call>", "<tools>", "```")
_WRAPPING = re.compile(r"</?tool_call>|</?tools>|```(?:json)?", re.IGNORECASE)
_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}


class NotACall(ValueError):
    """The text is shaped like a call but is not a valid call of an offered tool."""


def recover(events: Iterator[Event], tools: list[dict]) -> Iterator[Event]:
    """`events` with a call written as text turned into ToolCall events (see the module's docstring)."""
    schemas = {tool["function"]["name"]: tool["function"].get("parameters", {}) for tool in tools}
    held = ""
    deciding = True
    for event in events:
        if not deciding:
            yield event
        elif isinstance(event, TextDelta):
            held += event.text
            opening = held.lstrip()
            if not opening or any(candidate.startswith(opening) for candidate in CALL_OPENINGS):
                continue  # too short to tell yet
            if not opening.startswith(CALL_OPENINGS):
                deciding = False
                yield TextDelta(held)
        elif not isinstance(event, Overtime):  # a call is short: no sentence under way to end
            yield event
    if deciding and held.strip():
        yield from _calls(held, schemas)


def _calls(text: str, schemas: dict[str, dict]) -> Iterator[Event]:
    text = _WRAPPING.sub(" ", text).strip()
    if text.startswith("{{"):  # Qwen copies the braces its chat template escapes, in every call it writes
        text = text.replace("{{", "{").replace("}}", "}")
    try:
        calls = [_checked(found, schemas) for found in _objects(text)]
        if not calls:
            raise NotACall("no JSON object in it")
    except NotACall as problem:
        LOG.warning("the model wrote a call-shaped reply that is not a valid call (%s): %.200r", problem, text)
        return
    for index, (name, arguments) in enumerate(calls):
        yield ToolCall(f"text_call_{index}", name, json.dumps(arguments))


def _objects(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    found: list[Any] = []
    position = 0
    while position < len(text):
        # White space and commas between calls; a closing brace too many after one (Qwen writes "}}}").
        if text[position].isspace() or (text[position] in ",}]" and found):
            position += 1
            continue
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            raise NotACall(f"not JSON at {text[position : position + 20]!r}") from None
        found.extend(value if isinstance(value, list) else [value])
    return found


def _checked(found: Any, schemas: dict[str, dict]) -> tuple[str, dict]:
    if not isinstance(found, dict):
        raise NotACall("a call is a JSON object")
    function = found.get("function")
    if isinstance(function, dict):  # {"function": {"name": ..., "arguments": ...}}, as the API itself writes
        found = function
    name = found.get("name", function if isinstance(function, str) else None)
    arguments = found.get("arguments", found.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            raise NotACall(f"the arguments of {name!r} are not JSON") from None
    if name not in schemas:
        raise NotACall(f"{name!r} is not a tool Billy offered")
    if not isinstance(arguments, dict):
        raise NotACall(f"the arguments of {name} are not an object")
    _fits(name, arguments, schemas[name])
    return name, arguments


def _fits(name: str, arguments: dict, schema: dict) -> None:
    properties = schema.get("properties", {})
    missing = [key for key in schema.get("required", []) if key not in arguments]
    unknown = [key for key in arguments if key not in properties]
    if missing or unknown:
        raise NotACall(f"{name}: missing {missing}, unknown {unknown}")
    for key, value in arguments.items():
        spec = properties[key]
        wanted = _JSON_TYPES.get(spec.get("type", ""), object)
        if not isinstance(value, wanted) or (isinstance(value, bool) and spec.get("type") != "boolean"):
            raise NotACall(f"{name}: {key} is not a {spec.get('type')}")
        if "enum" in spec and value not in spec["enum"]:
            raise NotACall(f"{name}: {key}={value!r} is not one of {spec['enum']}")
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and not spec.get("minimum", value) <= value <= spec.get("maximum", value):
            raise NotACall(f"{name}: {key}={value} is out of range")
