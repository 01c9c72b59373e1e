"""Comparing what was said with what was heard, case and punctuation aside."""

import re


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def same_words(said: str, heard: str) -> bool:
    return words(said) == words(heard)
