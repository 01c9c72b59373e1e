"""Playing audio through the speaker with the fish moving to it, stoppable between blocks.

Audio goes out in short blocks. A sound card takes a block into its buffer and plays it `latency` seconds
later, so the mouth is not moved when a block is written but when it is due to be heard (that block's
loudness, or the song's vocals stem there), within one block; and playing ends only once the last block has
been heard, so that listening afterwards never catches the end of Billy's own voice. A set `interrupt`
stops playback within one block (40 ms), which is what makes a button press cut Billy off at once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from billy.audio.devices import Speaker
from billy.audio.pcm import loudness
from billy.body.fish import Fish
from billy.media.songs import Song, plan_motion

BLOCK_SECONDS = 0.04
AUDIBLE = 0.003  # RMS fraction of full scale: quieter than this is silence, for latency figures

ONSET_KEPT_S = 0.01  # kept before the first audible sound, so its onset is whole


def after_leading_silence(samples: np.ndarray, rate: int) -> np.ndarray:
    """`samples` from just before their first audible 5 ms (empty if there is none): piper starts each sentence
    with about 40 ms of silence, which before the reply's first sound is only a longer wait."""
    window = max(1, rate // 200)
    for start in range(0, len(samples), window):
        if loudness(samples[start : start + window]) >= AUDIBLE:
            return samples[max(0, start - int(ONSET_KEPT_S * rate)) :]
    return samples[:0]


class Player:
    def __init__(self, speaker: Speaker, fish: Fish, volume: int = 100) -> None:
        self.speaker = speaker
        self.fish = fish
        self.volume = volume  # 0..100, applied in software so every sound card and the file device obey it
        self.first_sound_at: float | None = None
        self.last_sound_at: float | None = None
        # Told the song when one starts and None when it ends (the status LED shows its led_color).
        self.song_observers: list[Callable[[Song | None], None]] = []

    def reset_marks(self) -> None:
        self.first_sound_at = self.last_sound_at = None

    def play(self, samples: np.ndarray, rate: int, interrupt: threading.Event, gain: float = 1.0) -> bool:
        """Play and lip-sync; False if interrupted."""
        return self._play(samples, rate, interrupt, gain, mouth=samples, mouth_rate=rate)

    def _play(
        self,
        samples: np.ndarray,
        rate: int,
        interrupt: threading.Event,
        gain: float,
        mouth: np.ndarray | None,
        mouth_rate: int,
        on_block=None,
    ) -> bool:
        step = max(1, int(rate * BLOCK_SECONDS))
        gain = gain * self.volume / 100
        latency = getattr(self.speaker, "latency", 0.0)
        due: deque[tuple[float, float, float]] = deque()  # (heard at, mouth loudness, seconds into the sound)
        heard_until = 0.0  # when everything written so far will have been heard

        def catch_up(now: float) -> None:
            while due and due[0][0] <= now:
                _, level, seconds = due.popleft()
                if mouth is not None:
                    self.fish.follow(level)
                if on_block is not None:
                    on_block(seconds)

        try:
            for start in range(0, len(samples), step):
                if interrupt.is_set():
                    return False
                block = samples[start : start + step]
                if gain != 1.0:
                    block = np.clip(block.astype(np.float32) * gain, -32768, 32767).astype(np.int16)
                seconds = start / rate
                at = int(seconds * mouth_rate)
                mouth_level = 0.0 if mouth is None else loudness(mouth[at : at + int(mouth_rate * BLOCK_SECONDS)])
                now = time.monotonic()
                # Without latency the write returns once the block is heard: it is heard from now on.
                heard_at = max(now + latency, heard_until) if latency else now
                heard_until = heard_at + len(block) / rate
                due.append((heard_at, mouth_level, seconds))
                catch_up(now)
                level = loudness(block)
                if level >= AUDIBLE and self.first_sound_at is None:
                    self.first_sound_at = heard_at
                self.speaker.write(block, rate)
                if level >= AUDIBLE:
                    self.last_sound_at = heard_until
            # The card still holds up to `latency` of sound: follow it out, then return.
            while latency and (due or time.monotonic() < heard_until):
                next_at = due[0][0] if due else heard_until
                if interrupt.wait(max(0.0, next_at - time.monotonic())):
                    return False
                catch_up(time.monotonic())
            return True
        finally:
            self.speaker.end_clip()
            self.fish.close_mouth()

    def play_song(self, song: Song, interrupt: threading.Event) -> bool:
        """full.wav out loud; the mouth, head and tail as the song's motion plan says (see songs.py)."""
        plan = plan_motion(song)
        # The tail is driven from this loop, block by block: no thread per drum hit, and each move is made
        # just before the block it belongs to goes out.
        state = {"head": False, "next_flap": 0, "tail_until": None}
        flap_seconds = min(0.15, plan.beat_seconds / 2)

        def on_block(seconds: float) -> None:
            head_wanted = any(start <= seconds < end for start, end in plan.head_windows)
            if head_wanted != state["head"]:
                (self.fish.head_out if head_wanted else self.fish.head_back)()
                state["head"] = head_wanted
            if state["tail_until"] is not None and seconds >= state["tail_until"]:
                self.fish.tail_back()
                state["tail_until"] = None
            flaps, due = plan.tail_flaps, False
            while state["next_flap"] < len(flaps) and flaps[state["next_flap"]] <= seconds:
                state["next_flap"] += 1
                due = True
            if due and state["tail_until"] is None and self.fish.tail_out():
                state["tail_until"] = seconds + flap_seconds

        mouth = plan.mouth if plan.mouth is not None else song.full.samples
        mouth_rate = plan.mouth_rate or song.full.rate
        for observer in self.song_observers:
            observer(song)
        try:
            return self._play(song.full.samples, song.full.rate, interrupt, song.info.gain, mouth, mouth_rate, on_block)
        finally:
            self.fish.stop_all()
            for observer in self.song_observers:
                observer(None)
