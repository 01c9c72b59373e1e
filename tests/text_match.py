"""Comparing what was said with what was heard, case and punctuation aside."""

import math
import re

# Whisper tiny hearing piper is not perfect ("live" heard as "love", "songs" as "psalms", and piper's random
# noise made "Home Assistant" "Alma Assistant" once in a CI-like run), more so on a busy machine: a sentence may
# lose one word in five, and one of four words or more may lose one word, and still be the sentence said.
HEARD_FRACTION = 0.8
SHORTEST_WITH_A_MISS = 4


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def same_words(said: str, heard: str) -> bool:
    return words(said) == words(heard)


def contains_words(heard: str, expected: str) -> bool:
    """The expected words appear in order among the heard words (other words may come between), all but a
    few mis-heard ones: at least HEARD_FRACTION of them, all but one from four words on, all of a shorter one."""
    wanted, got = words(expected), words(heard)
    needed = math.ceil(HEARD_FRACTION * len(wanted))
    if len(wanted) >= SHORTEST_WITH_A_MISS:
        needed = min(needed, len(wanted) - 1)
    return _in_order(wanted, got) >= needed


def _in_order(wanted: list[str], got: list[str]) -> int:
    """How many of `wanted` appear in `got` in the same order (longest common subsequence)."""
    previous = [0] * (len(got) + 1)
    for word in wanted:
        current = [0]
        for index, other in enumerate(got):
            current.append(previous[index] + 1 if word == other else max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]
