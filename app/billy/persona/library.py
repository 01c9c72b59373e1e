"""Several personas, as the original v2 keeps them, and which one Billy is right now.

`persona.ini` in the state folder is the persona called `default`; each `personas/<name>/persona.ini` is
another, with its wake-up clips in `personas/<name>/wakeup/<i>.wav`. The one in use is remembered in
`persona-current` (a name), so a switch by voice, MQTT or Home Assistant survives a restart. Switching loads
the other file into the same live `Persona`, so the conversation and the tools see the new one at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from billy.persona.persona import Persona, PersonaError

LOG = logging.getLogger(__name__)
DEFAULT = "default"
CURRENT_FILE = "persona-current"


def persona_names(state_dir: Path) -> list[str]:
    """`default` first, then every `personas/<name>/` that holds a persona.ini (the web page lists these too)."""
    folder = state_dir / "personas"
    others = sorted(p.parent.name for p in folder.glob("*/persona.ini")) if folder.is_dir() else []
    return [DEFAULT, *(name for name in others if name != DEFAULT)]


def persona_path(state_dir: Path, name: str) -> Path:
    if name == DEFAULT:
        return state_dir / "persona.ini"
    return state_dir / "personas" / name / "persona.ini"


class PersonaLibrary:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.on_switch: list[Callable[[Persona], None]] = []  # the voice, MQTT: told after each switch
        wanted = self._remembered()
        self.persona = Persona(self.path_of(DEFAULT), DEFAULT)
        if wanted != DEFAULT:
            try:
                self.switch(wanted, remember=False)
            except PersonaError as error:
                LOG.warning("persona %r cannot be used (%s): Billy is the default persona", wanted, error)

    def names(self) -> list[str]:
        return persona_names(self.state_dir)

    def path_of(self, name: str) -> Path:
        return persona_path(self.state_dir, name)

    def wakeup_dir(self, name: str) -> Path:
        if name == DEFAULT:
            return self.state_dir / "sounds" / "wake-up" / "custom"
        return self.state_dir / "personas" / name / "wakeup"

    def find(self, wanted: str) -> str:
        """A persona by its folder name or its `[META]` name, any case; PersonaError naming them all if none."""
        key = wanted.strip().lower()
        for name in self.names():
            if key == name.lower():
                return name
        for name in self.names():
            path = self.path_of(name)
            if path.is_file() and Persona(path, name).meta.get("name", "").strip().lower() == key:
                return name
        raise PersonaError(f"no persona called {wanted!r}: the personas are {', '.join(self.names())}")

    def switch(self, wanted: str, remember: bool = True) -> str:
        name = self.find(wanted)
        self.persona.load(self.path_of(name), name)
        if remember:
            (self.state_dir / CURRENT_FILE).write_text(name + "\n")
        LOG.info("persona: now %s", name)
        for listener in self.on_switch:
            listener(self.persona)
        return name

    def _remembered(self) -> str:
        path = self.state_dir / CURRENT_FILE
        try:
            return path.read_text().strip() or DEFAULT
        except OSError:
            return DEFAULT
