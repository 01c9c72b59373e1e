"""Tools called by the model (scripted tool calls): personality, songs, Home Assistant."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from billy.audio.pcm import wav_bytes
from billy.stt.client import SttClient

from standins import HomeAssistantStandIn, Reply
from text_match import contains_words

QUESTION = "Could you do something for me?"
SONG_RATE = 16000
DRUM_HITS = (0.5, 1.5, 2.5)


def test_update_personality_writes_persona_ini_when_allowed(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("update_personality", json.dumps({"humor": 12, "sarcasm": 95}))]), Reply("Fine."))
    tank = tank_factory({"ALLOW_UPDATE_PERSONALITY_INI": "true"})
    turn = tank.ask(speak(QUESTION))
    assert "Humor 12" in turn.result.said and "sarcasm 95" in turn.result.said
    written = (tank.state_dir / "persona.ini").read_text()
    assert "humor = 12" in written and "sarcasm = 95" in written and "[BACKSTORY]" in written
    tank.microphone.queue(speak("Tell me a joke."))
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
    turn = tank.ask(speak("Sing me a song."))
    assert not turn.result.error and "playing_song" in tank.billy.states
    song_blocks = [b for b in tank.speaker.played_since() if b.rate == SONG_RATE]
    assert sum(len(b.samples) for b in song_blocks) / SONG_RATE > 3.4
    starts = np.cumsum([0] + [len(b.samples) for b in song_blocks]) / SONG_RATE

    def wall_time(song_seconds: float) -> float:
        """When the block holding that moment of the song started playing."""
        return song_blocks[int(np.searchsorted(starts, song_seconds, side="right")) - 1].started

    song_start = song_blocks[0].started
    flaps = [m.t for m in tank.timeline.moves(song_start) if m.part == "tail" and m.value > 0]
    for hit in DRUM_HITS:
        assert any(abs(flap - wall_time(hit)) < 0.06 for flap in flaps), (hit, flaps)
    assert len(flaps) == len(DRUM_HITS)
    head_out = [m.t for m in tank.timeline.moves(song_start) if m.part == "head" and m.value > 0]
    assert any(abs(t - wall_time(3.0)) < 0.06 for t in head_out), head_out
    mouth_open = [m.t for m in tank.timeline.moves(song_start) if m.part == "mouth" and m.value > 0]
    assert mouth_open and min(mouth_open) >= wall_time(0.15) and max(mouth_open) <= wall_time(2.85)
    assert tank.billy.fish.motors_off


def test_an_unknown_song_is_answered_not_crashed_on(tank_factory, llm, speak):
    llm.then(Reply(tool_calls=[("play_song", json.dumps({"song": "bohemian rhapsody"}))]))
    tank = tank_factory()
    turn = tank.ask(speak("Sing me a song."))
    assert "I don't know a song called bohemian rhapsody" in turn.result.said
    assert not turn.result.error


def test_smart_home_command_goes_to_home_assistant_and_its_answer_is_spoken(tank_factory, llm, speak, stt_service):
    home = HomeAssistantStandIn(token="long-lived-token", speech="The kitchen light is now on.")
    try:
        llm.then(Reply(tool_calls=[("smart_home_command", json.dumps({"prompt": "turn on the kitchen light"}))]))
        tank = tank_factory({"HA_HOST": home.url, "HA_TOKEN": "long-lived-token", "HA_LANG": "fr"})
        mark = tank.speaker.mark()
        turn = tank.ask(speak("Turn on the kitchen light."))
        request = home.requests[0]
        assert request["path"] == "/api/conversation/process"
        assert request["headers"]["Authorization"] == "Bearer long-lived-token"
        assert request["body"] == {"text": "turn on the kitchen light", "language": "fr"}
        assert turn.result.said == "The kitchen light is now on."
        heard_back = SttClient(stt_service.base_url).transcribe(tank.speaker.wav_since(mark))
        assert contains_words(heard_back, "the kitchen light is now on"), heard_back
    finally:
        home.close()
