"""What a handler of Billy's own intents is given: what he can do (`Abilities`, from the wiring once Billy runs)
and the question (`Asked`: the match, the phrasebook of its language, and a way to answer in the persona's words).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billy.conversation.answer import Answer
from billy.intents.matcher import Match
from billy.intents.phrasebook import Phrasebook
from billy.intents.timers import TimerBoard
from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.persona.people import People

BY = "billy"  # who answered, as the turn and the dashboard count it


@dataclass
class Abilities:
    songs: SongLibrary
    personas: PersonaLibrary
    people: People
    timers: TimerBoard
    volume: Callable[[], int]
    set_volume: Callable[[int], None]
    mute: Callable[[], None]
    end_conversation: Callable[[], None]
    user: Callable[[], str]  # who is talking
    set_user: Callable[[str], None]
    now: Callable[[], datetime] = datetime.now
    news: Any = None  # the news and weather (intents/news.py NewsDesk); None: Billy leaves them to others


@dataclass
class Asked:
    abilities: Abilities
    match: Match
    book: Phrasebook

    def say(self, key: str, **values) -> Answer:
        return Answer(BY, self.book.say(key, self.abilities.personas.persona, **values))
