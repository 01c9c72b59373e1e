"""What Billy says when he answers himself, in each language (intents/answers/<language>.yaml): a few ways of
saying each thing, chosen at random; witty ones for a persona with humour, and the persona's own `[ANSWERS]`
first. Also how a language says a time, a date, a length of time and a list."""

from __future__ import annotations

import random
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import yaml

from billy.persona.persona import Persona

WITTY_FROM = 65  # the humour a persona needs for the witty ways
_SPACES = re.compile(r"\s+([.,!?])|\s{2,}")


@cache
def _book(language: str) -> dict[str, Any]:
    text = resources.files("billy.intents").joinpath("answers", f"{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


class Phrasebook:
    def __init__(self, language: str) -> None:
        self.language = language
        self.book = _book(language)

    def say(self, key: str, speaker: Persona | None = None, **values: Any) -> str:
        """`key`'s words as `speaker` (the persona in use) says them, with `values` filled in."""
        ways = self.book["answers"][key]
        own = speaker.answers.get(key) if speaker is not None else None
        witty = speaker is not None and speaker.traits.get("humor", 0) >= WITTY_FROM and ways.get("witty")
        text = random.choice(own or (ways["witty"] if witty else ways["plain"])).format(**values)
        return _SPACES.sub(lambda m: m.group(1) or " ", text).strip()

    def clock(self, moment: datetime) -> str:
        hour12 = moment.hour % 12 or 12
        return self.book["clock"].format(
            hour=moment.hour, hour12=hour12, minute=moment.minute, ampm="AM" if moment.hour < 12 else "PM"
        )

    def date(self, moment: datetime) -> str:
        weekday, month = self.book["weekdays"][moment.weekday()], self.book["months"][moment.month - 1]
        return self.book["date"].format(weekday=weekday, month=month, day=moment.day)

    def duration(self, seconds: float, adjective: bool = False) -> str:
        """`5 minutes and 30 seconds`; `adjective`: as before a noun (English: "a 5 minute timer")."""
        whole = round(seconds)
        parts = []
        for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
            count, whole = divmod(whole, size)
            if count:
                singular, plural = self.book["units"][unit]
                parts.append(f"{count} {singular if count == 1 or (adjective and self.language == 'en') else plural}")
        return self.listing(parts or [f"0 {self.book['units']['second'][1]}"])

    def listing(self, items: list[str]) -> str:
        return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {self.book['and']} {items[-1]}"

    def turned_around(self, words: str) -> str:
        """What the owner said of themselves, as Billy says it back ("I like jazz": "you like jazz")."""
        swaps = self.book.get("turn_around", {})
        if not swaps:
            return words
        return re.sub(r"[\w']+", lambda m: swaps.get(m.group(0).lower(), m.group(0)), words)
