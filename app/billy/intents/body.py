"""Billy's own intents about himself: sing, stop, louder and quieter, the microphone, another persona, his name."""

from __future__ import annotations

import logging
import random

from billy.conversation.answer import Answer
from billy.intents.asked import Asked
from billy.media.songs import SongError
from billy.persona.persona import PersonaError

LOG = logging.getLogger(__name__)
VOLUME_STEP = 10


def sing(asked: Asked) -> Answer:
    songs = asked.abilities.songs
    known = list(songs.songs().values())
    if not known:
        return asked.say("no_songs")
    wanted = str(asked.match.slots.get("song", "")) or random.choice(known).name
    try:
        song = songs.load(wanted)
    except SongError as error:
        LOG.warning("no song for %r: %s", wanted, error)
        return asked.say("no_songs")
    answer = asked.say("sing", song=song.title)
    answer.song = song
    return answer


def stop(asked: Asked) -> Answer:
    asked.abilities.end_conversation()
    return asked.say("stop")


def _volume(asked: Asked, volume: int) -> Answer:
    volume = max(0, min(100, volume))
    asked.abilities.set_volume(volume)
    return asked.say("volume", volume=volume)


def louder(asked: Asked) -> Answer:
    return _volume(asked, asked.abilities.volume() + VOLUME_STEP)


def quieter(asked: Asked) -> Answer:
    return _volume(asked, asked.abilities.volume() - VOLUME_STEP)


def volume(asked: Asked) -> Answer:
    return _volume(asked, int(asked.match.slots["volume"]))


def mute(asked: Asked) -> Answer:
    asked.abilities.mute()
    asked.abilities.end_conversation()
    return asked.say("muted")


def persona(asked: Asked) -> Answer:
    personas, wanted = asked.abilities.personas, str(asked.match.slots["persona"])
    try:
        name = personas.switch(wanted)
    except PersonaError:
        return asked.say("persona_unknown", persona=wanted, personas=asked.book.listing(personas.names()))
    return asked.say("persona", persona=personas.persona.meta.get("name", "").strip() or name)


def name(asked: Asked) -> Answer:
    return asked.say("name", name=asked.abilities.personas.persona.meta.get("name", "").strip() or "Billy")


HANDLERS = {
    "BillySing": sing,
    "BillyStop": stop,
    "BillyLouder": louder,
    "BillyQuieter": quieter,
    "BillyVolume": volume,
    "BillyMute": mute,
    "BillyPersona": persona,
    "BillyName": name,
}
