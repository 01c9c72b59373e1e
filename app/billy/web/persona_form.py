"""The persona page's side of persona.ini (the original's format): traits, backstory, instructions and the
wake-up phrases ([WAKEUP] 1..N), read for the form and written back in one atomic step."""

from __future__ import annotations

import configparser
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from billy.persona.persona import DEFAULT_PERSONA, PersonaError

MAX_TEXT = 4000


@dataclass
class PersonaForm:
    traits: dict[str, int]
    backstory: str  # "key: value" lines
    instructions: str
    wake_phrases: str  # one a line


def _parser(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)  # as Billy reads it: "100%" stays "100%"
    parser.read_string(path.read_text() if path.is_file() else DEFAULT_PERSONA.read_text())
    for section in ("PERSONALITY", "BACKSTORY", "META", "WAKEUP"):
        if not parser.has_section(section):
            parser.add_section(section)
    return parser


def read_persona(path: Path) -> PersonaForm:
    parser = _parser(path)
    return PersonaForm(
        traits={name: int(float(value)) for name, value in parser["PERSONALITY"].items()},
        backstory="\n".join(f"{key}: {value}" for key, value in parser["BACKSTORY"].items()),
        instructions=parser["META"].get("instructions", ""),
        wake_phrases="\n".join(parser["WAKEUP"].values()),
    )


def _one_line(text: str, what: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        raise PersonaError(f"{what} is longer than {MAX_TEXT} characters")
    return text


def save_persona(path: Path, form: dict[str, str]) -> None:
    parser = _parser(path)
    for name in list(parser["PERSONALITY"]):
        raw = form.get(f"trait_{name}", parser["PERSONALITY"][name])
        try:
            value = int(raw)
        except ValueError:
            raise PersonaError(f"trait {name}={raw!r}: expected a whole number from 0 to 100") from None
        if not 0 <= value <= 100:
            raise PersonaError(f"trait {name}={raw!r}: expected a whole number from 0 to 100")
        parser["PERSONALITY"][name] = str(value)
    instructions = _one_line(form.get("instructions", ""), "instructions")
    if not instructions:
        raise PersonaError("instructions: Billy needs at least one sentence telling him who he is")
    parser["META"]["instructions"] = instructions
    parser.remove_section("BACKSTORY")
    parser.add_section("BACKSTORY")
    for line in form.get("backstory", "").splitlines():
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        key = "_".join(key.strip().lower().split())
        if not colon or not key or not key.replace("_", "").isalnum():
            raise PersonaError(f"backstory line {line.strip()!r}: write it as 'topic: what Billy knows'")
        parser["BACKSTORY"][key] = _one_line(value, f"backstory {key}")
    parser.remove_section("WAKEUP")
    parser.add_section("WAKEUP")
    phrases = [line for line in form.get("wake_phrases", "").splitlines() if line.strip()]
    for index, phrase in enumerate(phrases, 1):
        parser["WAKEUP"][str(index)] = _one_line(phrase, f"wake phrase {index}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".persona.")
    with os.fdopen(handle, "w") as out:
        parser.write(out)
    os.replace(partial, path)
