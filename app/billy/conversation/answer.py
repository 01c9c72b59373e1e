"""A step's answer to a turn, given before the language model is asked (Pipeline.before_llm)."""

from __future__ import annotations

from dataclasses import dataclass

from billy.media.songs import Song


@dataclass
class Answer:
    """Who answered ("billy", "home assistant"), the words, a song to sing after."""

    by: str
    words: str
    song: Song | None = None
