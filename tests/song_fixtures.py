"""Song folders in the original project's two formats, written here with numpy (never the original's files).

Each song is 4 s at 120 bpm (a beat every 0.5 s). The drums stem carries a burst at the start of some beats:
loud ones (RMS about 6000 on the int16 scale), soft ones (about 700, under the default threshold of 1500) and,
in the v2 song, ones of about 1000 that only pass the threshold because `gain = 2.0` multiplies them first.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

SECONDS = 4.0
BEAT = 0.5
LOUD, SOFT, MID = 6000, 700, 1000


def stereo_wav(path: Path, mono: np.ndarray, rate: int) -> None:
    """16-bit stereo, as the original's songs are; the channels differ a little, as real stems do."""
    left = np.clip(mono * 1.02, -32768, 32767).astype(np.int16)
    right = np.clip(mono * 0.98, -32768, 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.column_stack([left, right]).tobytes())
    path.write_bytes(buffer.getvalue())


def drum_track(rate: int, hits: dict[int, float]) -> np.ndarray:
    """A 60 ms noise burst with the given RMS at the start of each listed beat."""
    rng = np.random.default_rng(7)
    track = np.zeros(int(SECONDS * rate))
    burst = int(0.06 * rate)
    for beat, rms in hits.items():
        at = int(beat * BEAT * rate)
        noise = rng.uniform(-1, 1, burst)
        track[at : at + burst] = noise / np.sqrt(np.mean(noise**2)) * rms
    return track


def vocal_track(rate: int, sung: list[tuple[float, float]]) -> np.ndarray:
    t = np.arange(int(SECONDS * rate)) / rate
    track = np.zeros_like(t)
    for start, end in sung:
        inside = (t >= start) & (t < end)
        track[inside] = np.sin(2 * np.pi * 220 * t[inside]) * 9000
    return track


def write_song(folder: Path, rate: int, hits: dict[int, float], metadata_name: str, metadata: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    drums = drum_track(rate, hits)
    vocals = vocal_track(rate, [(0.2, 1.2), (2.2, 3.4)])
    t = np.arange(int(SECONDS * rate)) / rate
    backing = np.sin(2 * np.pi * 110 * t) * 2000
    stereo_wav(folder / "full.wav", np.clip(drums + vocals + backing, -32768, 32767), rate)
    stereo_wav(folder / "vocals.wav", vocals, rate)
    stereo_wav(folder / "drums.wav", drums, rate)
    (folder / metadata_name).write_text(metadata)
    return folder


# v1: sounds/songs/<name>/metadata.txt, no section, 48 kHz stems.
V1_HITS = {0: LOUD, 1: LOUD, 3: SOFT, 4: LOUD, 6: SOFT, 7: LOUD}
V1_METADATA = (
    "gain=1.0\nbpm=120\ntail_threshold=1500\ncompensate_tail=0\n"
    "half_tempo_tail_flap=false\nhead_moves=0.5:1.0,2.5:0.5\n"
)
V1_FLAP_BEATS = [0, 1, 4, 7]
V1_HEAD = [(0.5, 1.5), (2.5, 3.0)]

# v2: custom_songs/<name>/metadata.ini [SONG], 24 kHz stems; gain 2 lifts MID hits over the threshold.
V2_HITS = {0: MID, 2: LOUD, 3: SOFT, 5: MID, 6: SOFT}
V2_METADATA = """[SONG]
title = Tuna Tango
keywords = tango, fishy dance
bpm = 120
gain = 2.0
tail_threshold = 1500
compensate_tail = 0.0
head_moves = 1.0:0.5, 3.0:0.6
tail_moves =
mouth_mutes = 2.2:0.4
mouth_articulation = 5
led_color = #00ff00
half_tempo_tail_flap = False
mouth_threshold = 1500
enabled = true
"""
V2_FLAP_BEATS = [0, 2, 5]
V2_HEAD = [(1.0, 1.5), (3.0, 3.6)]


def v1_song(root: Path, name: str = "river_groove") -> Path:
    return write_song(root / name, 48000, V1_HITS, "metadata.txt", V1_METADATA)


def v2_song(root: Path, name: str = "tuna_tango") -> Path:
    return write_song(root / name, 24000, V2_HITS, "metadata.ini", V2_METADATA)
