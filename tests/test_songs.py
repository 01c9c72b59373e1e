"""An owner's songs in both of the original's formats: metadata read with its meaning and scale, the right song
found by name, and the motors doing what the metadata says while the song plays through a real-time speaker."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from billy.audio.file_device import FileSpeaker
from billy.body.fish import Fish, make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.media.playback import Player
from billy.media.songs import BLOCK_SECONDS, SongError, SongLibrary, load_song, plan_motion, read_info

from song_fixtures import BEAT, V1_FLAP_BEATS, V1_HEAD, V2_FLAP_BEATS, V2_HEAD, v1_song, v2_song


def test_v1_metadata_txt_keeps_the_originals_meaning_and_scale(tmp_path):
    info = read_info(v1_song(tmp_path))
    assert info.format == "txt" and info.title == "River Groove"
    assert info.head_moves == ((0.5, 1.0), (2.5, 0.5))  # start:duration, not start-end
    assert (info.bpm, info.gain, info.tail_threshold, info.compensate_tail) == (120, 1.0, 1500, 0)
    assert info.half_tempo_tail_flap is False and info.mouth_threshold == 1500


def test_v2_metadata_ini_reads_every_key(tmp_path):
    info = read_info(v2_song(tmp_path))
    assert info.format == "ini" and info.title == "Tuna Tango"
    assert info.keywords == ("tango", "fishy dance")
    assert info.gain == 2.0 and info.head_moves == ((1.0, 0.5), (3.0, 0.6))
    assert info.mouth_mutes == ((2.2, 0.4),) and info.tail_moves == () and info.enabled


def test_the_tail_plan_flaps_once_per_beat_with_a_drum_peak_over_the_threshold(tmp_path):
    v1 = plan_motion(load_song(v1_song(tmp_path / "a")))
    assert v1.tail_flaps == [beat * BEAT for beat in V1_FLAP_BEATS]
    # gain multiplies the drums before the threshold: the v2 song's hits of RMS 1000 count at gain 2.
    v2 = plan_motion(load_song(v2_song(tmp_path / "b")))
    assert v2.tail_flaps == [beat * BEAT for beat in V2_FLAP_BEATS]


def test_half_tempo_compensation_and_tail_moves(tmp_path):
    folder = v1_song(tmp_path)
    (folder / "metadata.txt").write_text("bpm=120\nhalf_tempo_tail_flap=true\ncompensate_tail=0.25\n")
    plan = plan_motion(load_song(folder))
    # one flap per two beats (1 s), moved a quarter of that earlier; the drums hit in windows 0, 0 (beat 1),
    # 2 (beat 4) and 3 (beat 7): four windows, one flap each at most.
    assert plan.beat_seconds == 1.0 and plan.tail_flaps == [0.0, 1.75, 2.75]
    (folder / "metadata.ini").write_text("[SONG]\nbpm = 120\ntail_threshold = 30000\ntail_moves = 1.0:1.0\n")
    assert plan_motion(load_song(folder)).tail_flaps == [1.0, 1.5]  # metadata.ini wins; drums too quiet


def test_mouth_mutes_and_threshold_shut_the_mouth(tmp_path):
    plan = plan_motion(load_song(v2_song(tmp_path)))
    rate = plan.mouth_rate
    muted = plan.mouth[int(2.3 * rate) : int(2.5 * rate)]
    sung = plan.mouth[int(2.7 * rate) : int(2.9 * rate)]
    silent = plan.mouth[int(1.5 * rate) : int(2.0 * rate)]
    assert not muted.any() and sung.any() and not silent.any()


def test_custom_songs_win_and_the_asked_song_is_the_one_found(tmp_path):
    v1_song(tmp_path / "songs", "tuna")
    v1_song(tmp_path / "songs", "tuna_tango")
    v2_song(tmp_path / "custom_songs", "tuna_tango")
    v1_song(tmp_path / "songs", "hidden")
    (tmp_path / "songs" / "hidden" / "metadata.ini").write_text("[SONG]\nenabled = false\n")
    library = SongLibrary(tmp_path)
    assert set(library.songs()) == {"tuna", "tuna_tango"}
    assert library.songs()["tuna_tango"].format == "ini"  # custom_songs/ over songs/
    # The old matcher took the first song whose name was inside the request or the other way round.
    assert library.find("tuna tango").name == "tuna_tango"
    assert library.find("the fishy dance").name == "tuna_tango"
    assert library.find("Tuna").name == "tuna"
    assert library.find("play tuna please").name == "tuna"
    with pytest.raises(SongError, match="no song called 'a'"):
        library.find("a")
    with pytest.raises(SongError, match="no song called 'hidden'"):
        library.find("hidden")


def _block_of(t: float, starts: list[float]) -> int:
    """The song block a motor move belongs to: the moves for block k happen after block k-1 started and before
    block k starts (the player moves the fish, then writes the block), so the order of events decides."""
    return sum(1 for start in starts if start < t)


@pytest.mark.parametrize(
    ("make", "flap_beats", "head"), [(v1_song, V1_FLAP_BEATS, V1_HEAD), (v2_song, V2_FLAP_BEATS, V2_HEAD)]
)
def test_the_motors_follow_the_song_while_it_plays(tmp_path, make, flap_beats, head):
    song = load_song(make(tmp_path))
    timeline = MotionTimeline()
    fish = Fish("classic", timeline, make_pin_factory("mock"))  # three motors: head and tail independent
    speaker = FileSpeaker(realtime=True)
    before = time.monotonic()
    try:
        assert Player(speaker, fish).play_song(song, threading.Event())
    finally:
        fish.close()
    starts = [block.started for block in speaker.played_since()]
    assert len(starts) == int(np.ceil(song.full.seconds / BLOCK_SECONDS))
    moves = [m for m in timeline.moves(before) if m.t <= speaker.played_since()[-1].started]

    head_state, expected = {}, {}
    for move in (m for m in moves if m.part == "head"):
        head_state[_block_of(move.t, starts)] = move.value > 0
    out = False
    for block in range(len(starts)):
        out = head_state.get(block, out)
        expected[block] = any(start <= block * BLOCK_SECONDS < end for start, end in head)
        assert out == expected[block], f"head at {block * BLOCK_SECONDS:.2f} s"

    flap_blocks = [_block_of(m.t, starts) for m in moves if m.part == "tail" and m.value > 0]
    wanted = [round(beat * BEAT / BLOCK_SECONDS) for beat in flap_beats]
    assert len(flap_blocks) == len(wanted), (flap_blocks, wanted)
    for got, want in zip(flap_blocks, wanted, strict=True):
        assert want <= got <= want + 2, (flap_blocks, wanted)  # a flap runs on its own thread: allow 2 blocks
    mouth_open = [_block_of(m.t, starts) * BLOCK_SECONDS for m in moves if m.part == "mouth" and m.value > 0]
    assert mouth_open and all(0.2 <= t < 3.4 for t in mouth_open), mouth_open
