"""Which brain a machine runs when nobody chose one: the best the brain bench scored that fits its memory.

The order is the bench's (docs/MODELS.md: right answers and tool calls); what fits is the brain's peak resident
memory as measured by the bench (`memory_mib` in the catalogue) plus what the rest of Billy needs beside it
(`REST_OF_BILLY_MIB` in the launcher, billy/services/llm/server.py, which applies the same rule on the Pi). A Pi 4
with 2 GiB cannot hold the 1.5B beside the voice, so it gets a smaller brain, and the log says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from billy.models.catalogue import load_catalogue
from billy.services.llm.server import first_that_fits, memory_mib

__all__ = ["BY_SCORE", "Choice", "best_brain", "memory_mib"]

# Best first, by `make bench-brain`.
BY_SCORE = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m")


@dataclass(frozen=True)
class Choice:
    brain: str
    reason: str


def best_brain(total_mib: int) -> Choice:
    """The best brain for a machine of `total_mib`, by the rule the llama.cpp launcher applies on the Pi."""
    catalogue = load_catalogue()
    fit = first_that_fits([(name, catalogue[name].memory_mib) for name in BY_SCORE], total_mib)
    return Choice(BY_SCORE[fit.index], fit.reason)
