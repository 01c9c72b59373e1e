"""Reading and writing `persona.ini` and turning it into the system prompt.

The format is the original project's: `[PERSONALITY]` traits from 0 to 100, `[BACKSTORY]` facts, `[META]`
instructions. Unknown sections are kept when the file is written back.
"""

from __future__ import annotations

import configparser
import threading
from importlib import resources
from pathlib import Path

DEFAULT_PERSONA = resources.files(__package__).joinpath("default_persona.ini")
TOOL_RULES = (
    "Tools: call update_personality only when the user asks you to change a trait; call play_song only when the "
    "user asks for a song; call smart_home_command for anything about lights, heating, devices or the house. "
    "Otherwise just answer."
)


class PersonaError(ValueError):
    """The persona file or a requested change is not valid."""


def _level(value: int) -> str:
    if value >= 80:
        return "very high"
    if value >= 60:
        return "high"
    if value >= 40:
        return "moderate"
    if value >= 20:
        return "low"
    return "very low"


class Persona:
    """Traits in memory; written back to the file only when the owner allows it."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """(Re)read the file; the web page asks for this after saving it."""
        path = self.path
        parser = configparser.ConfigParser()
        text = path.read_text() if path and path.is_file() else DEFAULT_PERSONA.read_text()
        try:
            parser.read_string(text)
        except configparser.Error as error:
            raise PersonaError(f"{path}: not a valid persona.ini ({error})") from None
        for section in ("PERSONALITY", "BACKSTORY", "META"):
            if not parser.has_section(section):
                parser.add_section(section)
        for name, raw in parser["PERSONALITY"].items():
            self._check(name, raw)
        with self._lock:
            self._parser = parser

    @staticmethod
    def _check(name: str, raw: object) -> int:
        try:
            value = int(float(str(raw)))
        except (ValueError, OverflowError):  # "abc", "nan"; "1e999" and "inf" overflow int()
            raise PersonaError(f"trait {name}={raw!r}: expected a whole number from 0 to 100") from None
        if not 0 <= value <= 100:
            raise PersonaError(f"trait {name}={raw!r}: expected a whole number from 0 to 100")
        return value

    @property
    def traits(self) -> dict[str, int]:
        with self._lock:
            return {name: int(float(raw)) for name, raw in self._parser["PERSONALITY"].items()}

    def set_traits(self, changes: dict[str, object], persist: bool) -> dict[str, int]:
        """Apply validated changes; write the file if `persist`. Returns what changed."""
        known = self.traits
        applied = {}
        for name, raw in changes.items():
            name = name.strip().lower()
            if name not in known:
                raise PersonaError(f"unknown trait {name!r}: traits are {', '.join(known)}")
            applied[name] = self._check(name, raw)
        with self._lock:
            for name, value in applied.items():
                self._parser["PERSONALITY"][name] = str(value)
            if persist and self.path is not None:
                self._write()
        return applied

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".ini.part")
        with partial.open("w") as handle:
            self._parser.write(handle)
        partial.replace(self.path)

    def system_prompt(self) -> str:
        with self._lock:
            meta = dict(self._parser["META"])
            backstory = dict(self._parser["BACKSTORY"])
        traits = "; ".join(f"{name} {value}/100 ({_level(value)})" for name, value in self.traits.items())
        lines = [meta.get("instructions", "You are Billy, a talking fish.")]
        lines += [f"{key}: {value}" for key, value in meta.items() if key != "instructions"]
        lines.append(f"Your personality traits: {traits}.")
        if backstory:
            lines.append(
                "Your backstory: " + " ".join(f"{key.capitalize()}: {value}" for key, value in backstory.items())
            )
        lines.append(TOOL_RULES)
        return "\n".join(lines)
