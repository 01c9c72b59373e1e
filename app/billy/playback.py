"""Playing audio through the speaker with the fish moving to it, stoppable between blocks.

Audio goes out in short blocks; before each block the mouth is set from that block's loudness (or from the
vocals stem of a song), so the mouth moves only while sound plays. A set `interrupt` event stops playback
within one block (40 ms), which is what makes a button press cut Billy off at once.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .audio.devices import Speaker
from .audio.pcm import loudness
from .body.fish import Fish
from .songs import Song, plan_motion

BLOCK_SECONDS = 0.04
AUDIBLE = 0.003  # RMS fraction of full scale: quieter than this is silence, for latency figures


class Player:
    def __init__(self, speaker: Speaker, fish: Fish, volume: int = 100) -> None:
        self.speaker = speaker
        self.fish = fish
        self.volume = volume  # 0..100, applied in software so every sound card and the file device obey it
        self.first_sound_at: float | None = None
        self.last_sound_at: float | None = None

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
        try:
            for start in range(0, len(samples), step):
                if interrupt.is_set():
                    return False
                block = samples[start : start + step]
                if gain != 1.0:
                    block = np.clip(block.astype(np.float32) * gain, -32768, 32767).astype(np.int16)
                seconds = start / rate
                if mouth is not None:
                    at = int(seconds * mouth_rate)
                    self.fish.follow(loudness(mouth[at : at + int(mouth_rate * BLOCK_SECONDS)]))
                if on_block is not None:
                    on_block(seconds)
                level = loudness(block)
                now = time.monotonic()
                if level >= AUDIBLE and self.first_sound_at is None:
                    self.first_sound_at = now
                self.speaker.write(block, rate)
                if level >= AUDIBLE:
                    self.last_sound_at = time.monotonic()
            return True
        finally:
            self.fish.close_mouth()

    def play_song(self, song: Song, interrupt: threading.Event) -> bool:
        """full.wav out loud; the mouth, head and tail as the song's motion plan says (see songs.py)."""
        plan = plan_motion(song)
        state = {"head": False, "next_flap": 0}
        flap_seconds = min(0.15, plan.beat_seconds / 2)

        def on_block(seconds: float) -> None:
            head_wanted = any(start <= seconds < end for start, end in plan.head_windows)
            if head_wanted != state["head"]:
                (self.fish.head_out if head_wanted else self.fish.head_back)()
                state["head"] = head_wanted
            flaps = plan.tail_flaps
            while state["next_flap"] < len(flaps) and flaps[state["next_flap"]] <= seconds:
                state["next_flap"] += 1
                threading.Thread(target=self.fish.flap_tail, args=(flap_seconds,), daemon=True).start()

        mouth = plan.mouth if plan.mouth is not None else song.full.samples
        mouth_rate = plan.mouth_rate or song.full.rate
        try:
            return self._play(song.full.samples, song.full.rate, interrupt, song.info.gain, mouth, mouth_rate, on_block)
        finally:
            self.fish.stop_all()
