"""The model catalogue: which files make each model, their SHA-256, and where to get them, in order.

A file's SHA-256 is `null` when it could not be learnt without downloading the file (voices whose upstream
publishes no SHA-256, added where the upstream cannot be reached). Such a file is pinned at its first fetch:
its hash is recorded beside it (fetch.PINS_FILE) and every later check and fetch must match that record, so
it can change only by a deliberate re-pin (delete the record). `billy models list` shows which are unpinned,
and a maintainer copies the recorded hash into the catalogue once a download was checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

CATALOGUE_FILE = "catalogue.json"


class UnknownModelError(LookupError):
    """The name is not in the catalogue."""


@dataclass(frozen=True)
class Source:
    """One place a model can come from: `url`, `pip` (a package carrying the files) or `pip-parts`."""

    type: str
    spec: dict[str, Any]

    def describe(self) -> str:
        if self.type == "url":
            return self.spec["base"]
        return f"pip package {self.spec['package']}"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str
    description: str
    files: dict[str, str | None]  # name -> SHA-256, or None: pinned at the first fetch (see above)
    sources: tuple[Source, ...]
    chat: dict[str, Any]  # for an LLM: how to talk to it (billy.services.llm.profile); empty for other models
    licence: str = ""  # said where the source does not say it itself (docs/MODELS.md)
    memory_mib: int = 0  # a brain's peak resident memory when served, as `make bench-brain` measured it
    # The same model, same quantisation, in Ollama's library: what the `ollama` role pulls for this brain, and
    # the name Billy asks Ollama for (its chat profile then applies there too).
    ollama: str = ""


def load_catalogue() -> dict[str, ModelEntry]:
    raw = json.loads(resources.files(__package__).joinpath(CATALOGUE_FILE).read_text())
    return {
        name: ModelEntry(
            name=name,
            kind=entry["kind"],
            description=entry["description"],
            files=dict(entry["files"]),
            sources=tuple(Source(source["type"], source) for source in entry["sources"]),
            chat=dict(entry.get("chat", {})),
            licence=entry.get("licence", ""),
            memory_mib=int(entry.get("memory_mib", 0)),
            ollama=entry.get("ollama", ""),
        )
        for name, entry in raw.items()
    }


def find_model(name: str) -> ModelEntry:
    catalogue = load_catalogue()
    if name not in catalogue:
        raise UnknownModelError(f"unknown model {name!r}: known models are {', '.join(sorted(catalogue))}")
    return catalogue[name]


def find_brain(name: str) -> ModelEntry:
    """A brain by its catalogue name or by the name Ollama's library gives the same model."""
    catalogue = load_catalogue()
    for entry in catalogue.values():
        if entry.ollama and entry.ollama == name:
            return entry
    return find_model(name)
