"""Billy's own intents, spoken to a whole Billy (real STT and TTS, the scripted LLM): each family answered with
no model, before Home Assistant and the model, in the persona's words; timers that ring and outlive a restart;
memories per person; follow-ups when Billy asked something."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from waiting import wait_until

from billy.audio.pcm import read_wav
from billy.intents.timers import FILE as TIMERS_FILE
from billy.media.sounds import chime
from billy.persona.people import People
from billy.services.stt.client import SttClient

from billy_harness import TEST_TIMEOUT
from song_fixtures import v2_song
from standins import HomeAssistantStandIn, Reply
from text_match import contains_words

TOKEN = "long-lived-token"


def _played(tank, samples, since: int = 0) -> bool:
    """Was this sound (a clip, the timer's bell) among what the speaker played, at whatever volume? The blocks
    from one that starts it on are the sound times one gain, to within a few steps of 16 bits (the volume's
    product is rounded, seen up to 1.9 off). The gain is measured on the whole sound: its opening block may be a
    near-silent lead-in, which alone says nothing."""
    sound = samples.astype(float)
    blocks = [block for block in tank.speaker.played_since(since) if block.rate == 22050]
    played = np.concatenate([block.samples for block in blocks]).astype(float) if blocks else np.zeros(0)
    for start in np.cumsum([0] + [len(block.samples) for block in blocks[:-1]]):
        window = played[start : start + len(sound)]
        if len(window) < len(sound):
            break
        gain = window @ sound / (sound @ sound)
        if gain > 0.05 and np.abs(window - gain * sound).max() <= 3:
            return True
    return False


def test_the_time_the_volume_and_a_song_need_no_model(tank_factory, llm, speak):
    tank = tank_factory()
    v2_song(tank.state_dir / "custom_songs")
    before = datetime.now()
    turn = tank.ask(speak("What time is it?"))
    assert turn.result.answered_by == "billy" and not turn.result.failed_stage
    hours = {f"{moment.hour % 12 or 12}:{moment.minute:02d}" for moment in (before, datetime.now())}
    assert any(hour in turn.result.said for hour in hours), turn.result.said
    turn = tank.ask(speak("Louder."))
    assert turn.result.said.startswith("Volume 90 percent") and tank.billy.volume == 90
    turn = tank.ask(speak("Sing me a song."))
    assert "Tuna Tango" in turn.result.said and "playing_song" in tank.states
    assert llm.requests == []  # none of them asked the model
    assert tank.billy.answered_by == {"Billy himself": 3}


def test_an_answer_that_changes_nothing_is_voiced_on_the_draft_one_that_acts_is_not(tank_factory, speak, tmp_path):
    """During the end-of-turn silence Billy may voice the time (it reads the clock), as he drafts the model's
    reply; a timer is set only once the turn is handed over, never on a draft that may be dropped."""
    state = tmp_path / "state"
    pipeline = tank_factory(state_dir=state).billy.pipeline
    time_draft = pipeline.draft(read_wav(speak("What time is it?")))
    time_draft.join()  # transcribed, answered and voiced, with nothing played
    assert time_draft.answer is not None and time_draft.answer.by == "billy"
    assert time_draft.spoken and " ".join(time_draft.spoken) == time_draft.answer.words
    assert not time_draft.audio.empty()
    timer_draft = pipeline.draft(read_wav(speak("Set a timer for five minutes.")))
    timer_draft.join()
    assert timer_draft.answer is None and timer_draft.spoken == []
    assert not (state / TIMERS_FILE).exists() or json.loads((state / TIMERS_FILE).read_text()) == []
    for draft in (time_draft, timer_draft):
        draft.cancel()


def test_a_timer_rings_until_a_word_and_outlives_a_restart(tank_factory, llm, speak, tmp_path, stt_service):
    state = tmp_path / "state"
    tank = tank_factory(state_dir=state)
    turn = tank.ask(speak("Set a timer for one second."))
    assert turn.result.said.startswith(("Your 1 second timer is running", "1 second timer, starting now"))
    mark = tank.speaker.mark()
    wait_until(lambda: _played(tank, chime().samples, mark), "the timer's bell")
    tank.microphone.queue(speak("Stop."))  # any word stops the ringing
    tank.wait_idle()
    wait_until(lambda: not json.loads((state / TIMERS_FILE).read_text()), "the rung timer to be done with")
    # A timer set, then Billy stops before it ends: it rings when he is back, saying it ended meanwhile.
    tank.microphone.queue(speak("Set a timer for three seconds."))
    tank.press_button()
    kept = wait_until(lambda: json.loads((state / TIMERS_FILE).read_text()), "the timer on disk")
    tank.close()
    ends_at = kept[0]["ends_at"]
    wait_until(lambda: time.time() > ends_at, "the timer's end, with Billy away")
    again = tank_factory(state_dir=state)
    wait_until(lambda: _played(again, chime().samples), "the bell after the restart")
    again.microphone.queue(speak("Stop."))
    again.wait_idle()
    heard = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(again.speaker.wav_since(0, gaps=False))
    assert contains_words(heard, "timer ended while i was away"), heard
    assert llm.requests == []


def test_memories_belong_to_the_person_who_asked(tank_factory, llm, speak):
    tank = tank_factory()
    assert tank.ask(speak("I'm Sam.")).result.said.startswith("Hello Sam")
    assert "jazz" in tank.ask(speak("Remember that I like jazz.")).result.said
    tank.wait_idle()
    # Another conversation: Billy still knows who is talking, offline, without the model.
    turn = tank.ask(speak("What do you remember about me?"))
    assert turn.result.answered_by == "billy" and "you like jazz" in turn.result.said
    # The model is told too, for what Billy answers with it.
    llm.then(Reply("Jazz it is."))
    tank.ask(speak("What do you like to eat?"))
    system = llm.requests[-1]["body"]["messages"][0]["content"]
    assert "You are talking with Sam. Sam told you to remember: I like jazz." in system
    people = People(tank.state_dir)
    assert [memory.memory for memory in people.memories("sam")] == ["I like jazz"] and people.memories("guest") == []
    assert tank.ask(speak("Forget that.")).result.said.startswith("Forgotten")
    assert People(tank.state_dir).memories("sam") == []


def test_billys_intents_come_before_home_assistant_and_home_assistant_before_the_model(tank_factory, llm, speak):
    home = HomeAssistantStandIn(token=TOKEN, intents={"switch on the kitchen light": "Turned on the light."})
    try:
        tank = tank_factory({"HA_HOST": home.url, "HA_TOKEN": TOKEN})
        assert tank.ask(speak("What time is it?")).result.answered_by == "billy"
        assert home.requests == [] and llm.requests == []
        turn = tank.ask(speak("Switch on the kitchen light."))
        assert turn.result.answered_by == "home assistant" and turn.result.said == "Turned on the light."
        assert llm.requests == []
        llm.then(Reply("Why did the fish blush? It saw the ocean's bottom."))
        turn = tank.ask(speak("Tell me a joke."))
        assert turn.result.answered_by == "" and len(home.requests) == 2 and len(llm.requests) == 1
        assert tank.billy.answered_by == {"Billy himself": 1, "Home Assistant": 1, "the model": 1}
    finally:
        home.close()


def test_a_device_home_assistant_does_not_find_gets_its_nearest_name_and_never_the_model(tank_factory, llm, speak):
    home = HomeAssistantStandIn(
        token=TOKEN,
        intents={"switch on the kitchen lights": "Turned on the Kitchen Lights."},
        entities=["Kitchen Lights", "Hall Lamp"],
    )
    try:
        tank = tank_factory({"HA_HOST": home.url, "HA_TOKEN": TOKEN})
        # The plural's "s" dropped, as the Pi's whisper did. ("Switch", not "Turn": tiny.en drops a sentence's
        # first word "Turn" in this voice.)
        turn = tank.ask(speak("Switch on the kitchen light."))
        assert turn.result.said == "Turned on the Kitchen Lights." and turn.result.answered_by == "home assistant"
        turn = tank.ask(speak("Switch on the garage door."))
        assert turn.result.said == "I couldn't find that in your home." or "No such thing" in turn.result.said
        assert llm.requests == []  # the model never pretended it switched something
    finally:
        home.close()


def test_a_question_of_billys_keeps_the_microphone_open_for_the_answer(tank_factory, llm, speak, sounds_dir):
    llm.then(Reply("Do you like fish?"), Reply("Me too."))
    tank = tank_factory()
    mark = tank.speaker.mark()  # before the question: on a busy machine the cue may come before ask() returns
    tank.ask(speak("Tell me about yourself."))
    follow_up = read_wav((sounds_dir / "follow-up.wav").read_bytes())
    wait_until(lambda: _played(tank, follow_up.samples, mark), "the cue after a silence: Hm?")
    tank.microphone.queue(speak("Yes, I do."))
    assert tank.wait_turn(1).result.said == "Me too."
    tank.wait_idle()


def test_no_follow_up_when_billy_asked_nothing_or_the_owner_said_none(tank_factory, llm, speak, sounds_dir):
    follow_up = read_wav((sounds_dir / "follow-up.wav").read_bytes())
    llm.then(Reply("Fish are friends."), Reply("Do you like fish?"))
    tank = tank_factory()
    tank.ask(speak("Tell me about yourself."))
    tank.wait_idle()
    quiet = tank_factory({"FOLLOW_UP_RETRY_LIMIT": "0"})
    quiet.ask(speak("Tell me about yourself."))
    quiet.wait_idle()
    for billy in (tank, quiet):
        assert not _played(billy, follow_up.samples)


def test_an_announcement_that_asks_listens_for_the_answer(tank_factory, llm, speak):
    llm.then(Reply("Enjoy your dinner."))
    tank = tank_factory()
    tank.microphone.queue(speak("Yes, I am coming."))
    tank.billy.perform(
        "say", {"text": "Dinner is ready. Are you coming?", "literal": True, "interactive": False, "follow_up": True}
    )
    turn = tank.wait_turn(0)
    assert contains_words(turn.result.heard, "yes i am coming") and turn.result.said == "Enjoy your dinner."


def test_a_profile_of_the_original_is_read_as_it_is(tmp_path):
    (tmp_path / "profiles").mkdir()
    memories = [
        {"id": "1", "date": "2026-01-01T10:00:00", "memory": "likes jazz", "importance": "high", "category": "fact"}
    ]
    (tmp_path / "profiles" / "sam.ini").write_text(
        "[USER_INFO]\nname = sam\ndisplay_name = Sam\n\n[CORE_MEMORIES]\nmemories = " + json.dumps(memories) + "\n"
    )
    people = People(tmp_path)
    assert people.display_name("Sam") == "Sam" and [m.memory for m in people.memories("Sam")] == ["likes jazz"]
    people.remember("Sam", "hates anchovies")
    kept = json.loads((tmp_path / "profiles" / "sam.ini").read_text().split("memories = ", 1)[1])
    assert [entry["memory"] for entry in kept] == ["likes jazz", "hates anchovies"] and kept[0]["importance"] == "high"


def test_people_kept_beyond_twenty_memories_keep_the_newest(tmp_path):
    people = People(Path(tmp_path))
    for number in range(25):
        people.remember("Sam", f"fact number {number}")
    assert [m.memory for m in people.memories("sam")] == [f"fact number {n}" for n in range(5, 25)]
