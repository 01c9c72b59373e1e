"""Billy's own intents as a step before Home Assistant and the language model (Pipeline.before_llm).

What he heard is matched (intents/matcher.py); a match is done at once and answered in the persona's words
(intents/phrasebook.py), with no model. The handlers live by family: intents/clock.py (the time, the date,
timers), intents/body.py (songs, stop, the volume, the microphone, personas, his name), intents/memory.py (who is
talking, remembering and forgetting). What they can do is `Abilities`, given by the wiring once Billy runs.
"""

from __future__ import annotations

import logging

from billy.conversation.answer import Answer
from billy.intents import body, clock, memory, news
from billy.intents.asked import Abilities, Asked
from billy.intents.matcher import LANGUAGES, IntentMatcher, Match
from billy.intents.phrasebook import Phrasebook

LOG = logging.getLogger(__name__)
HANDLERS = {**clock.HANDLERS, **body.HANDLERS, **memory.HANDLERS, **news.HANDLERS}
# Intents whose handler only reads (the clock, a timer's time left, his name, what he remembers): their answer
# may be worked out and voiced on a draft, during the end-of-turn silence, as the model's reply is.
READ_ONLY = frozenset({"HassGetCurrentTime", "HassGetCurrentDate", "HassTimerStatus", "BillyName", "BillyRecall"})


class OwnIntents:
    # It acts on the world (a timer, the volume), so it answers only a turn handed over; but matching is pure
    # and quick, so a draft asks `claims` and the model does not start on what Billy will answer himself.
    answers_turns = True

    def __init__(self, matcher: IntentMatcher, default_language: str) -> None:
        self.matcher = matcher
        self.default_language = default_language
        self.abilities: Abilities | None = None  # given once Billy runs (appliance/wiring.py)

    def claims(self, heard: str, language: str) -> bool:
        """Would Billy answer this himself? Pure: nothing is done."""
        return self._match(heard, language) is not None

    def foresee(self, heard: str, language: str) -> Answer | None:
        """The answer, if Billy answers this himself and doing so changes nothing (READ_ONLY); else None."""
        match = self._match(heard, language)
        return self._answer(match, heard) if match is not None and match.intent in READ_ONLY else None

    def __call__(self, heard: str, language: str) -> Answer | None:
        match = self._match(heard, language)
        return None if match is None else self._answer(match, heard)

    def _answer(self, match: Match, heard: str) -> Answer | None:
        answer = HANDLERS[match.intent](Asked(self.abilities, match, Phrasebook(match.language)))
        if answer is not None:
            LOG.info("Billy's own intent %s answers %r", match.intent, heard)
        return answer

    def _match(self, heard: str, language: str) -> Match | None:
        if self.abilities is None or not heard.strip():
            return None
        language = language if language in LANGUAGES else self.default_language
        lists = {"song": self._song_words(), "persona": self.abilities.personas.names()}
        match = self.matcher.match(heard, language, lists)
        return match if match is not None and _takes(match, self.abilities) else None

    def _song_words(self) -> list[str]:
        """What a song may be asked for by: its folder's name, its title, its keywords."""
        words = []
        for song in self.abilities.songs.songs().values():
            words += [song.name.replace("_", " "), song.title, *song.keywords]
        return [word for word in dict.fromkeys(words) if word]


def _takes(match: Match, abilities: Abilities) -> bool:
    """A few matches are not Billy's after all: a delayed command is Home Assistant's ("turn off the oven in 5
    minutes"), "I'm hungry" is not a name (whisper writes names with a capital), and the weather is Home
    Assistant's when Billy has no place of his own (`NewsDesk.takes_weather`)."""
    if match.intent in news.HANDLERS and abilities.news is None:
        return False
    if match.intent in news.WEATHER_INTENTS and not abilities.news.takes_weather():
        return False
    if match.intent == "HassStartTimer" and "conversation_command" in match.slots:
        return False
    if match.intent == "BillyIdentify":
        person = match.texts.get("person", "").strip(".,!?")
        return len(person.split()) == 1 and person[:1].isupper()
    return True
