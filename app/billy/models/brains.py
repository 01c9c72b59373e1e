"""Which brain a machine runs when nobody chose one: the best the brain bench scored that fits its memory.

The order is the bench's (docs/MODELS.md: right answers and tool calls); what fits is the brain's peak resident
memory as measured by the bench (`memory_mib` in the catalogue) plus what the rest of Billy needs beside it
(whisper, piper, the runtime and the system). A Pi 4 with 2 GiB cannot hold the 1.5B beside the voice, so it
gets a smaller brain, and the log says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from billy.models.catalogue import load_catalogue

# Best first, by `make bench-brain`.
BY_SCORE = ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m")
# Whisper tiny.en, piper's medium voice, the runtime, the web page and the system, measured together on a
# running fish: what must stay free beside the brain.
REST_OF_BILLY_MIB = 1200


@dataclass(frozen=True)
class Choice:
    brain: str
    reason: str


def memory_mib(meminfo: Path = Path("/proc/meminfo")) -> int:
    """The machine's memory (MemTotal), in MiB."""
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError(f"no MemTotal in {meminfo}")


def best_brain(total_mib: int) -> Choice:
    catalogue = load_catalogue()
    passed_over = []
    for name in BY_SCORE:
        needs = catalogue[name].memory_mib + REST_OF_BILLY_MIB
        if needs <= total_mib:
            reason = f"the best brain that fits {total_mib} MiB"
            if passed_over:
                reason += f" ({'; '.join(passed_over)})"
            return Choice(name, reason)
        passed_over.append(f"{name} needs about {needs} MiB with the rest of Billy")
    smallest = BY_SCORE[-1]
    return Choice(smallest, f"the smallest brain; {total_mib} MiB is less than any needs ({'; '.join(passed_over)})")
