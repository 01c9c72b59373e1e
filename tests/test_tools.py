"""Tools called by the model (scripted tool calls): personality, songs, Home Assistant."""

from __future__ import annotations

import json
from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest

from billy.audio.pcm import wav_bytes
from billy.conversation.tools import ToolBox, ToolError
from billy.integrations.home_assistant import HomeAssistant
from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.services.llm.client import ToolCall
from billy.services.stt.client import SttClient

from billy_harness import TEST_TIMEOUT
from standins import HomeAssistantStandIn, Reply
from text_match import contains_words

QUESTION = "Could you do something for me?"
SONG_RATE = 16000
DRUM_HITS = (0.5, 1.5, 2.5)


def test_update_personality_writes_persona_ini_when_allowed(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("update_personality", json.dumps({"humor": 12, "sarcasm": 95}))]), Reply("Fine."))
    joke = speak("Tell me a joke.")  # made before the session: it must not outlast its 2 s of no speech
    tank = tank_factory({"ALLOW_UPDATE_PERSONALITY_INI": "true"})
    turn = tank.ask(speak(QUESTION))
    assert "Humor 12" in turn.result.said and "sarcasm 95" in turn.result.said
    written = (tank.state_dir / "persona.ini").read_text()
    assert "humor = 12" in written and "sarcasm = 95" in written and "[BACKSTORY]" in written
    tank.microphone.queue(joke)
    tank.wait_turn(1)
    assert "humor 12/100" in llm.requests[1]["body"]["messages"][0]["content"]


def test_update_personality_leaves_the_file_alone_when_not_allowed(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("update_personality", json.dumps({"humor": 3}))]))
    tank = tank_factory({"ALLOW_UPDATE_PERSONALITY_INI": "false"})
    turn = tank.ask(speak(QUESTION))
    assert "Humor 3" in turn.result.said and "Just for now" in turn.result.said
    assert not (tank.state_dir / "persona.ini").exists()
    assert tank.billy.persona.traits["humor"] == 3


def _make_song(folder: Path) -> None:
    """A 3.5 s song: a hummed tone, a vocals stem that 'sings' from 0.2 to 2.8 s, drum clicks at known times."""
    folder.mkdir(parents=True)
    t = np.arange(int(3.5 * SONG_RATE)) / SONG_RATE
    full = (np.sin(2 * np.pi * 220 * t) * 6000).astype(np.int16)
    vocals = np.where((t > 0.2) & (t < 2.8), np.sin(2 * np.pi * 300 * t) * 9000, 0).astype(np.int16)
    drums = np.zeros_like(full)
    for hit in DRUM_HITS:
        start = int(hit * SONG_RATE)
        drums[start : start + 800] = (np.random.default_rng(1).uniform(-1, 1, 800) * 20000).astype(np.int16)
    for name, samples in (("full", full), ("vocals", vocals), ("drums", drums)):
        (folder / f"{name}.wav").write_bytes(wav_bytes(samples, SONG_RATE))
    (folder / "metadata.txt").write_text(
        "title = Take Me To The River\nkeywords = river, fish song\ngain = 1.0\nhead_moves = 3.0:0.4\n"
    )


def test_play_song_moves_the_tail_on_the_drum_hits(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("play_song", json.dumps({"song": "take me to the river"}))]))
    tank = tank_factory()
    _make_song(tank.state_dir / "songs" / "river")
    turn = tank.ask(speak("Could you play some music for me?"))
    assert not turn.result.failed_stage and "playing_song" in tank.states
    song_blocks = [b for b in tank.speaker.played_since() if b.rate == SONG_RATE]
    assert sum(len(b.samples) for b in song_blocks) / SONG_RATE > 3.4
    step = len(song_blocks[0].samples)

    def block_of(second: float) -> int:
        """The index of the song block that holds this moment of the song."""
        return int(second * SONG_RATE) // step

    # Each motor move is made just before the block it belongs to is written: after the previous block has
    # played out and no later than the moment its own block starts. So a move belongs to the first block that
    # starts at or after it; an order of events, not a time window, which holds on a busy machine.
    starts = [b.started for b in song_blocks]
    before_song = max((b.started for b in tank.speaker.played_since() if b.started < starts[0]), default=0.0)

    def moved_in(part: str) -> list[int]:
        moves = tank.timeline.moves()
        return [bisect_left(starts, m.t) for m in moves if m.part == part and m.value > 0 and m.t > before_song]

    # A flap is due once the song's clock has passed its beat: the hit's own block, or the next one when the
    # hit falls inside a block (the plan is read at each block's start).
    # The tail's "I heard you" flaps at the hand-over end before the song: they fall in block 0 or earlier.
    flaps = [block for block in moved_in("tail") if block > 0]
    assert len(flaps) == len(DRUM_HITS), flaps
    assert all(block_of(hit) <= flap <= block_of(hit) + 1 for flap, hit in zip(flaps, DRUM_HITS, strict=True)), flaps
    assert block_of(3.0) in moved_in("head")
    mouth = moved_in("mouth")
    assert mouth and min(mouth) >= block_of(0.15) and max(mouth) <= block_of(2.85), mouth
    assert tank.billy.fish.motors_off


def test_an_unknown_song_is_answered_not_crashed_on(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("play_song", json.dumps({"song": "bohemian rhapsody"}))]))
    tank = tank_factory()
    turn = tank.ask(speak("Could you play some music for me?"))
    assert "I don't know a song called bohemian rhapsody" in turn.result.said
    assert not turn.result.failed_stage


def test_a_call_the_model_wrote_as_text_is_run_and_never_read_aloud(tank_factory, llm, speak):
    """Qwen's way through llama.cpp: the call as JSON text between tags, not a parsed call."""
    written = '<tool_call> {"name": "play_song", "arguments": {"song": "bohemian rhapsody"}} </tool_call>'
    llm.then(Reply(written))
    tank = tank_factory()
    turn = tank.ask(speak("Could you play some music for me?"))
    assert turn.result.said.startswith("I don't know a song called bohemian rhapsody"), turn.result.said
    assert "play_song" not in turn.result.said and not turn.result.failed_stage


def test_a_call_of_a_tool_nobody_offered_is_dropped_and_the_model_asked_again_for_words(tank_factory, llm, speak):
    called = Reply('{"name": "calculate", "arguments": {"expression": "15 / 3"}}')
    llm.then(called, Reply("Five, says the fish.", when="answer in words"))
    tank = tank_factory()
    turn = tank.ask(speak("What is fifteen divided by three?"))
    assert turn.result.said == "Five, says the fish." and not turn.result.failed_stage
    first, again = (request["body"] for request in llm.requests[-2:])
    # The same tools and the same messages but the last, so the engine's cached prompt prefix still serves.
    assert first["tools"] and again["tools"] == first["tools"]
    assert again["messages"][:-1] == first["messages"][:-1]
    assert again["messages"][-1]["content"].startswith(first["messages"][-1]["content"])


def test_smart_home_command_goes_to_home_assistant_and_its_answer_is_spoken(tank_factory, llm, speak, stt_service):
    home = HomeAssistantStandIn(token="long-lived-token", speech="The kitchen light is now on.")
    try:
        llm.then(Reply(tool_calls=[("smart_home_command", json.dumps({"prompt": "turn on the kitchen light"}))]))
        env = {"HA_HOST": home.url, "HA_TOKEN": "long-lived-token", "HA_LANG": "fr", "HA_CONVERSATION": "llm"}
        tank = tank_factory(env)
        mark = tank.speaker.mark()
        turn = tank.ask(speak("Turn on the kitchen light."))
        request = home.requests[0]
        assert request["path"] == "/api/conversation/process"
        assert request["headers"]["Authorization"] == "Bearer long-lived-token"
        assert request["body"] == {"text": "turn on the kitchen light", "language": "fr"}
        assert turn.result.said == "The kitchen light is now on."
        played = tank.speaker.wav_since(mark, gaps=False)
        heard_back = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(played)
        assert contains_words(heard_back, "the kitchen light is now on"), heard_back
    finally:
        home.close()


def test_out_of_range_tool_arguments_are_tool_errors(tmp_path):
    # JSON allows 1e999 (infinity to Python); int() of it overflows, and deep nesting exhausts the stack:
    # neither may escape as anything but a ToolError.
    tools = ToolBox(PersonaLibrary(tmp_path), False, SongLibrary(tmp_path), HomeAssistant("", "", "en"))
    for arguments in ('{"humor": 1e999}', '{"humor": -1e999}', '{"humor": NaN}', '{"humor": 1e400}', '{"humor": []}'):
        with pytest.raises(ToolError, match="humor"):
            tools.run(ToolCall("call-1", "update_personality", arguments))
    with pytest.raises(ToolError, match="not JSON"):
        tools.run(ToolCall("call-3", "update_personality", "[" * 100_000))
    assert tools.run(ToolCall("call-2", "update_personality", '{"humor": 1e1}')).speech.startswith("Okay. Humor 10")
