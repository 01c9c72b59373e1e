"""Billy end to end: a spoken question in through the microphone, a spoken answer out, the fish moving."""

from __future__ import annotations

from bisect import bisect_left

from billy.audio.pcm import read_wav
from billy.services.stt.client import SttClient

from billy_harness import TEST_TIMEOUT
from standins import Reply
from text_match import contains_words, words

QUESTION = "What do you like to eat?"
ANSWER = "My name is Billy. I live on the kitchen wall and I sing old songs."


def mouth_moves_only_while_sound_plays(tank) -> None:
    """Each mouth move is made just before its block is written (after the previous block has played out), so
    it belongs to the first block that starts at or after it: that block must be loud. Order, not a window."""
    blocks = tank.speaker.played_since()
    starts = [b.started for b in blocks]
    opened = [m for m in tank.timeline.moves() if m.part == "mouth" and m.value > 0]
    assert opened, "the mouth never moved"
    for move in opened:
        index = bisect_left(starts, move.t)
        assert index < len(blocks) and blocks[index].loud, f"mouth open at {move.t} for a silent block"


def all_motors_off(tank) -> None:
    assert tank.billy.fish.motors_off
    last = {}
    for move in tank.timeline.moves():
        last[move.part] = move.value
    assert all(value == 0 for value in last.values()), last


def test_closed_loop_spoken_question_gets_the_scripted_spoken_answer(tank_factory, llm, speak, stt_service):
    llm.then(Reply(ANSWER))
    tank = tank_factory()
    turn = tank.ask(speak(QUESTION))
    tank.wait_idle()
    assert words(turn.result.heard) == words(QUESTION)
    assert turn.result.said == ANSWER and not turn.result.failed_stage
    # The reply alone (after the question ended; not the wake-up clip), joined as played.
    reply_start = next(i for i, b in enumerate(tank.speaker.played_since()) if b.started >= turn.speech_ended_at)
    heard_back = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(
        tank.speaker.wav_since(reply_start, gaps=False)
    )
    assert contains_words(heard_back, ANSWER), heard_back
    assert turn.first_sound_s > 0  # after the question ended; how soon is the benchmark's job
    mouth_moves_only_while_sound_plays(tank)
    all_motors_off(tank)
    # The system prompt came from the persona file format and the question was the user's message.
    request = llm.requests[0]["body"]
    assert request["stream"] is True and {t["function"]["name"] for t in request["tools"]} == {
        "update_personality",
        "play_song",
        "switch_persona",
        "smart_home_command",
        "conversation_state",
        "identify_user",
        "store_memory",
    }
    assert "humor" in request["messages"][0]["content"] and words(request["messages"][-1]["content"]) == words(QUESTION)


def test_the_small_offline_model_gets_its_catalogue_profile_and_a_capped_reply(tank_factory, llm, speak):
    # SmolLM2 135M (the offline default) loops on the full prompt and calls no tools: its catalogue entry asks
    # for a short prompt, its own sampling, no tools and three sentences at most; stage directions are dropped.
    llm.model = "smollm2-135m"
    llm.then(Reply("Billy: *nods* I swim, I dive. I sing (laughs). I nap. I eat. I sleep. 😂"))
    tank = tank_factory()
    turn = tank.ask(speak(QUESTION))
    tank.wait_idle()
    assert turn.result.said == "I swim, I dive. I sing. I nap."
    request = llm.requests[0]["body"]
    assert "tools" not in request and request["temperature"] == 0.3 and request["repeat_penalty"] == 1.3
    system = request["messages"][0]["content"]
    assert system.endswith("You are honest, funny and optimistic.") and "Tools:" not in system, system


def test_first_sound_comes_before_the_reply_is_fully_generated(tank_factory, llm, speak):
    # Slow generation (0.15 s a word, about 6 s in all): Billy must be heard while the model is still writing.
    long_answer = "Hello friend. " + " ".join(["This is a long answer that goes on and on."] * 4)
    llm.then(Reply(long_answer, word_delay=0.15))
    tank = tank_factory()
    turn = tank.ask(speak(QUESTION))
    assert turn.result.said == long_answer
    assert turn.result.first_sound_at < llm.finished_at[0], "the first sound waited for the whole reply"
    assert read_wav(tank.speaker.wav_since()).seconds > 3


def test_session_goes_on_until_silence_then_idles(tank_factory, llm, speak):
    llm.then(Reply("First answer."), Reply("Second answer."), Reply("New session."))
    follow_up = speak("And how old are you?")  # made before the session: it must not outlast its 2 s of no speech
    tank = tank_factory()
    first = tank.ask(speak(QUESTION))
    tank.microphone.queue(follow_up)
    second = tank.wait_turn(1)
    tank.wait_idle()
    assert first.result.said == "First answer." and second.result.said == "Second answer."
    assert tank.states.count("listening") >= 3  # two questions, then the wait that timed out
    assert len(llm.requests[1]["body"]["messages"]) == 4  # system, first question, first answer, second question
    assert tank.ask(speak(QUESTION)).result.said == "New session."
    assert len(llm.requests[2]["body"]["messages"]) == 2  # the history belongs to the session


RIVER = "Fish swim all day in the river."
STONE = "Then they rest under a big stone near the shore where nobody finds them at all."


def test_a_reply_past_its_token_budget_ends_with_a_whole_sentence(tank_factory, llm, speak):
    # LLM_MAX_TOKENS=16: the 16th word falls inside the second sentence, which is finished and is the last.
    llm.then(Reply(f"{RIVER} {STONE} And then some more.", word_delay=0.01))
    # The server's own limit (the budget and a little more) cuts this one off mid-sentence: that part is unsaid.
    rambling = " ".join(["and the water goes on"] * 14)
    llm.then(Reply(f"{RIVER} Then the river {rambling} forever.", word_delay=0.01))
    tank = tank_factory({"LLM_MAX_TOKENS": "16"})
    assert tank.ask(speak(QUESTION)).result.said == f"{RIVER} {STONE}"
    cut = tank.ask(speak("And then?"))
    assert cut.result.said == RIVER and not cut.result.failed_stage
    assert llm.requests[0]["body"]["max_tokens"] == 16 + 48


def test_the_tail_flaps_when_the_turn_is_handed_over_before_the_brain_answers(tank_factory, llm, speak):
    # A brain that takes a while to start (a bigger model, cold): the body says "I heard you" at once.
    llm.then(Reply("Hello there.", hang=3.0))
    tank = tank_factory()
    turn = tank.ask(speak(QUESTION))
    motion, sound = turn.result.first_motion_at, turn.result.first_sound_at
    assert motion is not None and sound is not None and motion < sound
    tail = [m.t for m in tank.timeline.moves() if m.part == "tail" and m.value > 0]
    assert tail and tail[0] < sound, "the tail did not move before Billy's first sound"
    assert tail[0] < llm.answering_at[0], "the flap waited for the brain"
