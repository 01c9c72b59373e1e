"""Billy's own intents about the people he talks with: who is talking, and remembering and forgetting for them
(persona/people.py)."""

from __future__ import annotations

import logging
import re

from billy.conversation.answer import Answer
from billy.intents.asked import Asked
from billy.persona.people import Memory, PeopleError

LOG = logging.getLogger(__name__)
# What "forget that" says instead of a memory, in each language Billy speaks.
THIS = {"that", "it", "this", "das", "es", "ça", "cela", "dat", "het"}
_WORD = re.compile(r"[\w'-]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def identify(asked: Asked) -> Answer | None:
    person = asked.match.texts["person"].strip(".,!?")
    try:
        asked.abilities.people.meet(person)
    except PeopleError:
        return None  # not a name after all: the model answers
    asked.abilities.set_user(person)
    return asked.say("hello", person=person)


def _person(asked: Asked) -> str:
    return asked.abilities.people.display_name(asked.abilities.user())


def remember(asked: Asked) -> Answer | None:
    fact = asked.match.texts["fact"].strip(" .!?")
    try:
        asked.abilities.people.remember(asked.abilities.user(), fact)
    except PeopleError as error:
        LOG.warning("not remembered: %s", error)
        return None
    return asked.say("remembered", fact=asked.book.turned_around(fact), person=_person(asked))


def recall(asked: Asked) -> Answer:
    memories = asked.abilities.people.memories(asked.abilities.user())
    if not memories:
        return asked.say("recall_nothing")
    facts = asked.book.listing([asked.book.turned_around(memory.memory) for memory in memories])
    return asked.say("recall", facts=facts, person=_person(asked))


def _forgot(asked: Asked, forgotten: list[Memory]) -> Answer:
    if not forgotten:
        return asked.say("forgot_nothing")
    return asked.say("forgot_all" if len(forgotten) > 1 else "forgot")


def forget(asked: Asked) -> Answer:
    """ "Forget that": the newest memory."""
    return _forgot(asked, asked.abilities.people.forget(asked.abilities.user()))


def forget_all(asked: Asked) -> Answer:
    return _forgot(asked, asked.abilities.people.forget(asked.abilities.user(), everything=True))


def forget_fact(asked: Asked) -> Answer:
    """ "Forget that I like jazz": the memory sharing the most words with it, if any does."""
    people, user = asked.abilities.people, asked.abilities.user()
    words = _words(asked.match.texts["fact"])
    if words <= THIS:
        return forget(asked)
    overlap = {memory.id: len(words & _words(memory.memory)) for memory in people.memories(user)}
    best = max(overlap, key=overlap.get, default=None)
    return _forgot(asked, people.forget(user, best) if best and overlap[best] else [])


HANDLERS = {
    "BillyIdentify": identify,
    "BillyRemember": remember,
    "BillyRecall": recall,
    "BillyForget": forget,
    "BillyForgetAll": forget_all,
    "BillyForgetFact": forget_fact,
}
