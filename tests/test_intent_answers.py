"""Billy's own intents without any service: what each family matches in every language he speaks, and what it
answers and does (timers on disk, memories per person, the volume, songs, personas), on a fixed clock."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

import pytest

from billy.intents.answering import OwnIntents
from billy.intents.asked import Abilities
from billy.intents.matcher import LANGUAGES, IntentMatcher
from billy.intents.timers import FILE as TIMERS_FILE
from billy.intents.timers import TimerBoard
from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.persona.people import People

from song_fixtures import V2_HITS, write_song

NOW = datetime(2026, 12, 6, 14, 5)
MATCHER = IntentMatcher()  # loading a language costs a fraction of a second: once for the module

# Each family in each language: what an owner says, and the intent it must be.
SAID = {
    "en": {
        "What time is it?": "HassGetCurrentTime",
        "What's the date today?": "HassGetCurrentDate",
        "Set a timer for one minute": "HassStartTimer",
        "Start a pasta timer for 3 seconds": "HassStartTimer",
        "How much time is left on my timer?": "HassTimerStatus",
        "Cancel the timer": "HassCancelTimer",
        "Pause the timer": "HassPauseTimer",
        "Sing me a song": "BillySing",
        "Stop": "BillyStop",
        "Louder": "BillyLouder",
        "Set the volume to 40": "BillyVolume",
        "Mute the microphone": "BillyMute",
        "What is your name?": "BillyName",
        "I'm Sam": "BillyIdentify",
        "Remember that I hate anchovies": "BillyRemember",
        "What do you remember about me?": "BillyRecall",
        "Forget that": "BillyForget",
        "What's in the news today?": "BillyNews",
        "What's the weather like?": "HassGetWeather",
        "Is it going to rain today?": "BillyWeather",
    },
    "de": {
        "Wie spät ist es?": "HassGetCurrentTime",
        "Stelle einen Timer für 5 Minuten": "HassStartTimer",
        "Sing mir ein Lied": "BillySing",
        "Lauter": "BillyLouder",
        "Wie heißt du?": "BillyName",
        "Ich bin Sam": "BillyIdentify",
        "Merk dir, dass ich Jazz mag": "BillyRemember",
        "Was weißt du über mich?": "BillyRecall",
        "Was sind die Nachrichten heute?": "BillyNews",
        "Wie ist das Wetter heute?": "HassGetWeather",
    },
    "fr": {
        "Quelle heure est-il ?": "HassGetCurrentTime",
        "Mets un minuteur de 5 minutes": "HassStartTimer",
        "Chante-moi une chanson": "BillySing",
        "Plus fort": "BillyLouder",
        "Je suis Sam": "BillyIdentify",
        "Souviens-toi que j'aime le jazz": "BillyRemember",
        "Que sais-tu sur moi ?": "BillyRecall",
        "Donne-moi les actualités": "BillyNews",
        "Quel temps fait-il ?": "HassGetWeather",
    },
    "nl": {
        "Hoe laat is het?": "HassGetCurrentTime",
        "Zet een timer voor 5 minuten": "HassStartTimer",
        "Zing een liedje": "BillySing",
        "Harder": "BillyLouder",
        "Ik ben Sam": "BillyIdentify",
        "Onthoud dat ik van jazz hou": "BillyRemember",
        "Wat weet je over mij?": "BillyRecall",
        "Wat is het nieuws vandaag?": "BillyNews",
        "Hoe is het weer vandaag?": "HassGetWeather",
    },
}
NOT_BILLYS = ["What is the capital of France?", "Turn on the kitchen light", "I'm hungry", "Tell me a joke"]


@pytest.mark.parametrize(
    ("language", "words", "intent"),
    [(language, words, intent) for language, said in SAID.items() for words, intent in said.items()],
)
def test_each_family_is_heard_in_each_language(language, words, intent):
    match = MATCHER.match(words, language, {"song": [], "persona": []})
    assert match is not None and match.intent == intent, match


def test_every_language_billy_speaks_has_sentences_checked_here():
    assert set(SAID) == set(LANGUAGES)


class Fish:
    """Billy's side of the abilities: the volume, the microphone and the conversation, as plain state."""

    def __init__(self) -> None:
        self.volume, self.muted, self.ended, self.user = 70, False, False, "guest"


@pytest.fixture
def intents(tmp_path: Path):
    rang: list = []
    clock = [1_000_000.0]
    fish = Fish()
    timers = TimerBoard(tmp_path, rang.append, clock=lambda: clock[0])
    people = People(tmp_path, default_user="guest")
    abilities = Abilities(
        songs=SongLibrary(tmp_path),
        personas=PersonaLibrary(tmp_path),
        people=people,
        timers=timers,
        volume=lambda: fish.volume,
        set_volume=lambda volume: setattr(fish, "volume", volume),
        mute=lambda: setattr(fish, "muted", True),
        end_conversation=lambda: setattr(fish, "ended", True),
        user=lambda: fish.user,
        set_user=lambda name: setattr(fish, "user", name),
        now=lambda: NOW,
    )
    own = OwnIntents(MATCHER, "en")
    own.abilities = abilities
    own.fish, own.clock, own.rang, own.state_dir = fish, clock, rang, tmp_path
    return own


def test_the_time_and_the_date_come_from_the_clock(intents):
    assert intents("What time is it?", "en").words.startswith("It's 2:05 PM")
    assert intents("What's the date today?", "en").words.startswith("Today is Sunday, December 6")
    assert intents("Wie spät ist es?", "de").words.startswith("Es ist 14 Uhr 5")


def test_a_named_timer_is_kept_on_disk_and_read_back(intents):
    answer = intents("Set a 10 minute pasta timer", "en")
    assert answer.by == "billy" and "10 minute pasta timer" in answer.words
    intents.clock[0] += 120
    assert intents("How much time is left on my timer?", "en").words.startswith("8 minutes left on your pasta timer")
    again = TimerBoard(intents.state_dir, lambda timer: None, clock=lambda: intents.clock[0])
    assert [(t.name, t.seconds) for t in again.timers()] == [("pasta", 600.0)]


def test_a_timer_rings_once_when_its_time_comes(intents):
    intents("Set a timer for one minute", "en")
    board = intents.abilities.timers
    rang = threading.Event()
    board.on_ring = lambda timer: (intents.rang.append(timer), rang.set())
    intents.clock[0] += 61  # a minute later, Billy's timer thread looks
    board.start()
    try:
        assert rang.wait(10)
    finally:
        board.close()
    assert [timer.seconds for timer in intents.rang] == [60.0]
    assert board.timers() == []  # no longer running...
    kept = json.loads((intents.state_dir / TIMERS_FILE).read_text())
    assert [timer["ringing"] for timer in kept] == [True]  # ...but kept until its ring is played
    board.rung(intents.rang[0].id)
    assert json.loads((intents.state_dir / TIMERS_FILE).read_text()) == []


def test_a_ring_lost_when_billy_stopped_rings_when_he_is_back(intents):
    intents("Set a 5 minute tea timer", "en")
    intents.clock[0] += 301
    handed = threading.Event()
    first = TimerBoard(intents.state_dir, lambda timer: handed.set(), clock=lambda: intents.clock[0]).start()
    assert handed.wait(10)
    first.close()  # it rang into a work queue that was never played: Billy stopped
    assert [timer["ringing"] for timer in json.loads((intents.state_dir / TIMERS_FILE).read_text())] == [True]
    rang = threading.Event()
    again = TimerBoard(intents.state_dir, lambda timer: rang.set(), clock=lambda: intents.clock[0]).start()
    try:
        assert rang.wait(10)
    finally:
        again.close()


def test_cancelling_and_pausing_need_a_timer(intents):
    assert intents("Cancel the timer", "en").words in (
        "There is no timer running.",
        "No timers running. I'd know, I've got nothing else to do.",
    )
    intents("Set a timer for 5 minutes", "en")
    assert "paused" in intents("Pause the timer", "en").words
    intents.clock[0] += 100
    assert "5 minutes to go" in intents("Resume the timer", "en").words
    assert "cancelled" in intents("Cancel the timer", "en").words
    assert intents.abilities.timers.timers() == []


def test_memories_belong_to_the_person_who_said_who_they_are(intents):
    assert intents("I'm Sam", "en").words
    assert intents.fish.user == "Sam"
    assert "you like jazz" in intents("Remember that I like jazz", "en").words
    intents.fish.user = "guest"
    assert "jazz" not in intents("What do you remember about me?", "en").words
    intents.fish.user = "Sam"
    assert "you like jazz" in intents("What do you remember about me?", "en").words
    assert intents("Forget that", "en").words
    assert intents.abilities.people.memories("Sam") == []


def test_an_unknown_word_after_i_am_is_not_a_name(intents):
    assert intents("I'm hungry", "en") is None
    assert intents.fish.user == "guest"


def test_volume_stays_between_nothing_and_everything(intents):
    intents("Louder", "en")
    assert intents.fish.volume == 80
    intents("Set the volume to 40", "en")
    assert intents.fish.volume == 40
    intents.fish.volume = 95
    intents("Louder", "en")
    assert intents.fish.volume == 100


def test_stop_and_mute_end_the_conversation(intents):
    intents("Stop", "en")
    assert intents.fish.ended and not intents.fish.muted
    intents("Mute the microphone", "en")
    assert intents.fish.muted


def test_a_song_is_sung_when_the_library_has_one_and_apologised_for_when_not(intents):
    empty = intents("Sing me a song", "en")
    assert empty.song is None and empty.words
    write_song(intents.state_dir / "songs" / "blub_blub", 24000, V2_HITS, "metadata.ini", "[SONG]\ntitle = Blub Blub\n")
    answer = intents("Sing me a song", "en")
    assert answer.song is not None and answer.song.name == "blub_blub"
    assert intents("Play Blub Blub", "en").song.name == "blub_blub"


@pytest.mark.parametrize("words", NOT_BILLYS)
def test_what_is_not_billys_goes_on_to_home_assistant_and_the_model(intents, words):
    assert not intents.claims(words, "en")
    assert intents(words, "en") is None
