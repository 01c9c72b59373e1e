"""Reading and writing `persona.ini` and turning it into the system prompt.

The format is the original project's, both versions. v1: `[PERSONALITY]` ten traits from 0 to 100 (levels
low < 30 <= medium < 70 <= high), `[BACKSTORY]` facts, `[META]` `instructions`. v2 (recognised by a `[META]`
`name`, `description`, `voice` or `mouth_articulation`): eight traits with the original's defaults for those
missing, five levels (min 0-14, low 15-34, med 35-64, high 65-84, max 85-100), `[WAKEUP]` phrases (`1 = ...`)
rendered as wake-up clips. Of `[META]` only `instructions` goes into the prompt; the rest describes the
persona to Billy (name, voice) and to people. Unknown sections are kept when the file is written back.
"""

from __future__ import annotations

import configparser
import threading
from importlib import resources
from pathlib import Path

DEFAULT_PERSONA = resources.files(__package__).joinpath("default_persona.ini")
TOOL_RULES = (
    "Tools: call update_personality only when the user asks you to change a trait; call play_song only when the "
    "user asks for a song; call switch_persona only when the user asks for another persona; "
    "call smart_home_command for anything about lights, heating, devices or the house; "
    "call store_memory when the user asks you to remember something; call identify_user when the user tells you "
    "their name; call conversation_state only after you asked the user a question. "
    "Questions about facts, numbers, days, or the user's own life are answered in words, never with a tool. "
    "Otherwise just answer."
)


class PersonaError(ValueError):
    """The persona file or a requested change is not valid."""


V2_DEFAULTS = {
    "humor": 70,
    "confidence": 40,
    "warmth": 60,
    "curiosity": 50,
    "verbosity": 20,
    "formality": 50,
    "sarcasm": 60,
    "honesty": 100,
}
# The short prompt names the persona's strongest traits in plain words, which a small model follows better than
# "humor 80/100 (high)"; a trait not listed here is named as it is.
TRAIT_WORDS = {
    "humor": "funny",
    "sarcasm": "sarcastic",
    "honesty": "honest",
    "respectfulness": "respectful",
    "optimism": "optimistic",
    "confidence": "confident",
    "warmth": "warm",
    "curiosity": "curious",
    "verbosity": "talkative",
    "formality": "formal",
}
SHORT_PROMPT_TRAITS = 3
V2_META = ("name", "description", "voice", "mouth_articulation")
V1_LEVELS = ((70, "high"), (30, "medium"), (0, "low"))
V2_LEVELS = ((85, "max"), (65, "high"), (35, "med"), (15, "low"), (0, "min"))


def level(value: int, version: int) -> str:
    return next(name for floor, name in (V2_LEVELS if version == 2 else V1_LEVELS) if value >= floor)


class Persona:
    """Traits in memory; written back to the file only when the owner allows it."""

    def __init__(self, path: Path | None, name: str = "default") -> None:
        self._lock = threading.Lock()
        self.load(path, name)

    def reload(self) -> None:
        """Read the persona file in use again; the web page asks for this after saving it."""
        self.load(self.path, self.name)

    def load(self, path: Path | None, name: str = "default") -> None:
        """Read (or switch to) a persona file; on an error the persona in use stays as it was."""
        parser = configparser.ConfigParser(interpolation=None)
        text = path.read_text() if path and path.is_file() else DEFAULT_PERSONA.read_text()
        try:
            parser.read_string(text)
        except configparser.Error as error:
            raise PersonaError(f"{path}: not a valid persona.ini ({error})") from None
        for section in ("PERSONALITY", "BACKSTORY", "META"):
            if not parser.has_section(section):
                parser.add_section(section)
        for trait, raw in parser["PERSONALITY"].items():
            self._check(trait, raw)
        version = 2 if any(parser.has_option("META", key) for key in V2_META) else 1
        if version == 2:
            for trait, default in V2_DEFAULTS.items():
                parser["PERSONALITY"].setdefault(trait, str(default))
        with self._lock:
            self.path, self.name, self.version, self._parser = path, name, version, parser

    @property
    def meta(self) -> dict[str, str]:
        with self._lock:
            return dict(self._parser["META"])

    @property
    def voice(self) -> str:
        return self.meta.get("voice", "").strip()

    @property
    def wakeup_phrases(self) -> dict[int, str]:
        """`[WAKEUP]` `index = phrase`, indexes 1 to 99 as the original numbers its clips."""
        with self._lock:
            section = dict(self._parser["WAKEUP"]) if self._parser.has_section("WAKEUP") else {}
        return {int(k): v.strip() for k, v in section.items() if k.isdigit() and 1 <= int(k) <= 99 and v.strip()}

    @property
    def answers(self) -> dict[str, list[str]]:
        """`[ANSWERS]` `key = one way | another`: the persona's own words for Billy's own intents (intents/)."""
        with self._lock:
            section = dict(self._parser["ANSWERS"]) if self._parser.has_section("ANSWERS") else {}
        return {key: [way.strip() for way in value.split("|") if way.strip()] for key, value in section.items()}

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

    def system_prompt(self, short: bool = False) -> str:
        """The whole persona, or (`short`, for a small model: billy.services.llm.profile) its instructions and strongest
        traits only: no backstory, no tool rules (such a model is offered no tools)."""
        with self._lock:
            meta = dict(self._parser["META"])
            backstory = dict(self._parser["BACKSTORY"])
            version = self.version
        instructions = meta.get("instructions", "You are Billy, a talking fish.")
        if short:
            strongest = sorted(self.traits.items(), key=lambda item: -item[1])[:SHORT_PROMPT_TRAITS]
            words = [TRAIT_WORDS.get(name, name) for name, _ in strongest]
            return f"{instructions} You are {', '.join(words[:-1])} and {words[-1]}."
        traits = "; ".join(f"{name} {value}/100 ({level(value, version)})" for name, value in self.traits.items())
        lines = [instructions]
        lines.append(f"Your personality traits: {traits}.")
        if backstory:
            lines.append(
                "Your backstory: " + " ".join(f"{key.capitalize()}: {value}" for key, value in backstory.items())
            )
        lines.append(TOOL_RULES)
        return "\n".join(lines)
