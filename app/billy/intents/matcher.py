"""Recognising what Billy can do himself in what he heard, with the matcher Home Assistant itself uses (hassil).

For each language Billy speaks, the sentences are Home Assistant's own (`home-assistant-intents`) for the intents
Billy handles like Home Assistant does (the time and date, timers, the weather), then Billy's own templates
(`intents/sentences/<language>.yaml`: songs, stop, volume, the microphone, personas, his name, who is talking,
remembering and forgetting). A language is loaded the first time it is heard (a second or so on a Pi) and kept.
Matching is a pure function of the words, so a draft may ask it during the end-of-turn silence.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

LOG = logging.getLogger(__name__)
# Home Assistant's intents that Billy answers himself, with its sentences.
HOME_ASSISTANT_INTENTS = (
    "HassGetCurrentTime",
    "HassGetCurrentDate",
    "HassStartTimer",
    "HassCancelTimer",
    "HassCancelAllTimers",
    "HassTimerStatus",
    "HassPauseTimer",
    "HassUnpauseTimer",
    "HassGetWeather",
)
LANGUAGES = ("en", "de", "fr", "nl")  # those with Billy's own sentences and answers
# Slot lists Home Assistant fills from its entities; Billy's timers need none of them.
HOME_ASSISTANT_LISTS = ("area", "name", "floor")
BILLYS_LISTS = ("song", "persona")  # what is on this Billy now: given with each match, empty until then
WARM_UP = {"en": "what time is it", "de": "wie spät ist es", "fr": "quelle heure est-il", "nl": "hoe laat is het"}


@dataclass(frozen=True)
class Match:
    intent: str
    slots: dict[str, Any]  # slot name -> value (a number, a list's value, or the words of a wildcard)
    texts: dict[str, str]  # slot name -> the words heard for it, as heard (case kept)
    language: str


def _own_sentences(language: str) -> dict[str, Any]:
    text = resources.files("billy.intents").joinpath("sentences", f"{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _merged(language: str) -> dict[str, Any]:
    """Home Assistant's data for the intents Billy handles, with Billy's own sentences added to it."""
    import home_assistant_intents

    theirs = home_assistant_intents.get_intents(language) or {"intents": {}, "lists": {}, "expansion_rules": {}}
    ours = _own_sentences(language)
    intents = {name: {"data": list(theirs["intents"][name]["data"])} for name in HOME_ASSISTANT_INTENTS}
    for name, intent in ours.get("intents", {}).items():
        intents.setdefault(name, {"data": []})["data"].extend(intent["data"])
    return {
        "language": language,
        "intents": intents,
        "lists": {**theirs.get("lists", {}), **ours.get("lists", {})},
        "expansion_rules": {**theirs.get("expansion_rules", {}), **ours.get("expansion_rules", {})},
        "skip_words": theirs.get("skip_words", []),
    }


class IntentMatcher:
    """`match(words, language, lists)`: Billy's intent in `words`, or None. `lists` are the slot lists of what
    is on this Billy now (songs, personas)."""

    def __init__(self) -> None:
        self._intents: dict[str, Any] = {}
        self._lock = threading.Lock()

    def warm_up(self, language: str) -> None:
        """Load a language and match once, so the first question is not the slow one."""
        self.match(WARM_UP.get(language, "hello"), language, {})

    def _for(self, language: str):
        from hassil import Intents

        with self._lock:
            if language not in self._intents:
                self._intents[language] = Intents.from_dict(_merged(language))
                LOG.info("Billy's own intents loaded for %s", language)
            return self._intents[language]

    def match(self, words: str, language: str, lists: dict[str, list[str]]) -> Match | None:
        from hassil import recognize
        from hassil.intents import TextSlotList

        language = language if language in LANGUAGES else "en"
        slot_lists = {name: TextSlotList.from_strings([]) for name in HOME_ASSISTANT_LISTS + BILLYS_LISTS}
        slot_lists.update({name: TextSlotList.from_strings(values) for name, values in lists.items()})
        result = recognize(words, self._for(language), slot_lists=slot_lists)
        if result is None:
            return None
        slots = {name: entity.value for name, entity in result.entities.items()}
        texts = {name: str(entity.text).strip() for name, entity in result.entities.items()}
        return Match(result.intent.name, slots, texts, language)
