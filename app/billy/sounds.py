"""Clips that never need the TTS service: wake-up and error phrases, rendered once with piper in-process.

They are rendered at provisioning (`billy sounds render`) into `/var/lib/billy/sounds`, so when a stage is
down Billy can still say so. A missing clip falls back to a short tone rather than silence.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np

from .audio.pcm import Pcm, read_wav, wav_bytes

CLIPS = {
    "wake-1": "Yeah? What is it?",
    "wake-2": "I'm listening.",
    "wake-3": "Go ahead, I'm all ears. Well, gills.",
    "error-stt": "Sorry, my ears are full of water. Could you say that again?",
    "error-llm": "My brain is foggy right now. Ask me again in a moment.",
    "error-tts": "Something is wrong with my voice box.",
    "error-tool": "I tried, but my fins got tangled doing that.",
    "not-heard": "I didn't catch that. Say it again?",
    "ready": "I'm awake. Press my button to talk to me.",
}
STAMP = "voice.json"
LOG = logging.getLogger(__name__)


def render_clips(voice_dir: Path, voice: str, out_dir: Path) -> list[str]:
    """Render missing clips (all of them when the voice changed). Returns the names rendered."""
    from .tts.engine import PiperEngine

    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = out_dir / STAMP
    same_voice = stamp.is_file() and json.loads(stamp.read_text()).get("voice") == voice
    wanted = [name for name in CLIPS if not (same_voice and (out_dir / f"{name}.wav").is_file())]
    if not wanted:
        return []
    engine = PiperEngine(voice_dir, voice)
    info = engine.load()
    for name in wanted:
        audio = b"".join(engine.synthesize([CLIPS[name]], voice))
        (out_dir / f"{name}.wav").write_bytes(wav_bytes(audio, info.sample_rate))
    stamp.write_text(json.dumps({"voice": voice}))
    return wanted


def tone(seconds: float = 0.3, hz: float = 660, rate: int = 22050) -> Pcm:
    t = np.arange(int(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), rate)


class SoundBank:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, Pcm] = {}

    def get(self, name: str) -> Pcm:
        if name not in self._cache:
            path = self.directory / f"{name}.wav"
            try:
                self._cache[name] = read_wav(path.read_bytes())
            except (OSError, ValueError) as error:
                LOG.warning("clip %s unavailable (%s): playing a tone instead", path, error)
                return tone()
        return self._cache[name]

    def wake(self) -> Pcm:
        return self.get(random.choice([name for name in CLIPS if name.startswith("wake-")]))

    def error(self, stage: str) -> Pcm:
        return self.get(f"error-{stage}" if f"error-{stage}" in CLIPS else "error-tool")
