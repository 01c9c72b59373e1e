"""The demo's song, made on this machine: a twelve-bar fish boogie of our own (no third-party audio).

The backing is a bass line and chords from sine waves, the drums are noise bursts on the beat, and the vocals are
Billy's own piper voice saying the lyrics one line per two bars. It is written in the original's v2 song format
(`full.wav`, `vocals.wav`, `drums.wav`, `metadata.ini`), so "sing me a song" finds it like any owner's song.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from billy.audio.pcm import read_wav, resample, wav_bytes

NAME = "blub_blub_boogie"
TITLE = "Blub Blub Boogie"
BPM = 120
RATE = 24000
BARS = 12
LYRICS = (
    "Blub blub, I'm a fish on the wall.",
    "I sing for you, I sing for all.",
    "Press my button, hear me sing.",
    "Blub blub boogie, that's my thing!",
)
# The bass of a twelve-bar blues in E: the root of each bar, in Hz.
ROOTS = (82.4, 82.4, 82.4, 82.4, 110.0, 110.0, 82.4, 82.4, 123.5, 110.0, 82.4, 123.5)
METADATA = f"""[SONG]
title = {TITLE}
keywords = boogie, fish song, blub blub
bpm = {BPM}
gain = 1.0
tail_threshold = 1500
mouth_threshold = 1500
head_moves = 0:4, 8:4, 16:4
"""


def _seconds_per_bar() -> float:
    return 4 * 60 / BPM


def _backing(length: int) -> np.ndarray:
    t = np.arange(length) / RATE
    track = np.zeros(length)
    bar = int(_seconds_per_bar() * RATE)
    for index, root in enumerate(ROOTS):
        part = slice(index * bar, min(length, (index + 1) * bar))
        for ratio, level in ((1.0, 2500), (1.5, 900), (2.0, 700)):  # root, fifth, octave
            track[part] += np.sin(2 * np.pi * root * ratio * t[part]) * level
    return track


def _drums(length: int) -> np.ndarray:
    """A burst on every beat, louder on one and three: the tail flaps with it."""
    rng = np.random.default_rng(12)
    track = np.zeros(length)
    beat, burst = int(60 / BPM * RATE), int(0.05 * RATE)
    for number, at in enumerate(range(0, length - burst, beat)):
        noise = rng.uniform(-1, 1, burst) * np.linspace(1, 0, burst)
        track[at : at + burst] = noise * (9000 if number % 2 == 0 else 5000)
    return track


def _vocals(length: int, speak: Callable[[str], bytes]) -> np.ndarray:
    """Each line starts on its own two bars; a line longer than that is cut at the next one."""
    track = np.zeros(length)
    lines = int(2 * _seconds_per_bar() * RATE)
    for index, line in enumerate((LYRICS * 2)[: BARS // 2]):
        pcm = read_wav(speak(line))
        voice = resample(pcm.samples, pcm.rate, RATE).astype(float)[:lines]
        start = index * lines
        track[start : start + len(voice)] += voice[: max(0, length - start)]
    return track


def write_demo_song(folder: Path, speak: Callable[[str], bytes]) -> None:
    """The song into `folder` (a song folder's path); `speak(text) -> WAV bytes` gives the vocals."""
    length = int(BARS * _seconds_per_bar() * RATE)
    vocals, drums = _vocals(length, speak), _drums(length)
    full = np.clip(_backing(length) + drums + vocals, -32768, 32767)
    folder.mkdir(parents=True, exist_ok=True)
    for name, track in (("full.wav", full), ("vocals.wav", vocals), ("drums.wav", drums)):
        (folder / name).write_bytes(wav_bytes(np.clip(track, -32768, 32767).astype(np.int16), RATE))
    (folder / "metadata.ini").write_text(METADATA)
