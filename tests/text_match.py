"""Comparing what was said with what was heard, case and punctuation aside."""

import re


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def same_words(said: str, heard: str) -> bool:
    return words(said) == words(heard)


def contains_words(heard: str, expected: str) -> bool:
    """The expected words appear in order among the heard words (other words may come between)."""
    remaining = iter(words(heard))
    return all(word in remaining for word in words(expected))
