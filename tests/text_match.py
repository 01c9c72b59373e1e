"""Comparing what was said with what was heard, case and punctuation aside."""

import math
import re

# Whisper tiny hearing piper is not perfect ("live" heard as "love", "songs" as "psalms"), more so on a busy
# machine: a long sentence may lose one word in five and still be the sentence that was said.
HEARD_FRACTION = 0.8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def same_words(said: str, heard: str) -> bool:
    return words(said) == words(heard)


def contains_words(heard: str, expected: str) -> bool:
    """The expected words appear in order among the heard words (other words may come between), all but a
    few mis-heard ones: at least HEARD_FRACTION of them, so a sentence of four words or fewer must be whole."""
    wanted, got = words(expected), words(heard)
    return _in_order(wanted, got) >= math.ceil(HEARD_FRACTION * len(wanted))


def _in_order(wanted: list[str], got: list[str]) -> int:
    """How many of `wanted` appear in `got` in the same order (longest common subsequence)."""
    previous = [0] * (len(got) + 1)
    for word in wanted:
        current = [0]
        for index, other in enumerate(got):
            current.append(previous[index] + 1 if word == other else max(previous[index + 1], current[index]))
        previous = current
    return previous[-1]
