"""Clips that never need the TTS service: wake-up and error phrases, rendered once with piper in-process.

They are rendered at provisioning (`billy sounds render`) into `/var/lib/billy/sounds`, so when a stage is
down Billy can still say so. A missing clip falls back to a short tone rather than silence.

An owner's own wake-up clips come first, as in the original: `sounds/wake-up/*.wav`, and the persona's clips
(`sounds/wake-up/custom/<i>.wav` for the default persona, `personas/<name>/wakeup/<i>.wav` for the others,
rendered here from each persona's `[WAKEUP]` phrases when missing). One of them is picked at random per
session; the rendered `wake-N` clips are used only when there is none.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import numpy as np

from billy.audio.pcm import Pcm, read_wav, wav_bytes

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
    "follow-up": "Hm?",
}
STAMP = "voice.json"
LOG = logging.getLogger(__name__)


def render_clips(voice_dir: Path, voice: str, out_dir: Path, again: bool = False) -> list[str]:
    """Render the missing clips (all of them when the voice changed, or `again`); the names rendered.

    Every clip is rendered before any is written, and each is replaced in one step: a voice that cannot be
    loaded (UnknownVoiceError, naming the voices there are) leaves the clips there were.
    """
    from billy.services.tts.engine import PiperEngine

    stamp = out_dir / STAMP
    same_voice = stamp.is_file() and json.loads(stamp.read_text()).get("voice") == voice and not again
    wanted = [name for name in CLIPS if not (same_voice and (out_dir / f"{name}.wav").is_file())]
    if not wanted:
        return []
    engine = PiperEngine(voice_dir, voice)
    info = engine.load()
    rendered = {name: wav_bytes(b"".join(engine.synthesize([CLIPS[name]], voice)), info.sample_rate) for name in wanted}
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, wav in rendered.items():
        partial = out_dir / f".{name}.wav.part"
        partial.write_bytes(wav)
        partial.replace(out_dir / f"{name}.wav")
    stamp.write_text(json.dumps({"voice": voice}))
    return wanted


def render_wakeup(voice_dir: Path, voice: str, clips: dict[Path, str]) -> list[Path]:
    """Render `{wav path: phrase}` for the paths that do not exist yet (an owner's clip is never replaced)."""
    from billy.services.tts.engine import PiperEngine

    wanted = {path: phrase for path, phrase in clips.items() if not path.is_file()}
    if not wanted:
        return []
    engine = PiperEngine(voice_dir, voice)
    info = engine.load()
    for path, phrase in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav_bytes(b"".join(engine.synthesize([phrase], voice)), info.sample_rate))
    return list(wanted)


def tone(seconds: float = 0.3, hz: float = 660, rate: int = 22050) -> Pcm:
    t = np.arange(int(seconds * rate)) / rate
    return Pcm((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), rate)


def chime(rate: int = 22050) -> Pcm:
    """A timer's bell: three notes going up, each fading out (made here: no recording of anyone's)."""
    notes = []
    for hz in (784, 988, 1175):  # G5, B5, D6
        t = np.arange(int(0.28 * rate)) / rate
        notes.append(np.sin(2 * np.pi * hz * t) * np.exp(-6 * t) * 12000)
    return Pcm(np.concatenate(notes).astype(np.int16), rate)


class SoundBank:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, Pcm] = {}

    def get(self, name: str) -> Pcm:
        if name == "timer":
            return chime()
        if name not in self._cache:
            path = self.directory / f"{name}.wav"
            try:
                self._cache[name] = read_wav(path.read_bytes())
            except (OSError, ValueError) as error:
                LOG.warning("clip %s unavailable (%s): playing a tone instead", path, error)
                return tone()
        return self._cache[name]

    def owner_wake_clips(self, persona_dir: Path | None = None) -> list[Path]:
        """The owner's wake-up clips: the persona's own, and the shared `sounds/wake-up/*.wav`."""
        folders = [self.directory / "wake-up", persona_dir or self.directory / "wake-up" / "custom"]
        return sorted(path for folder in folders if folder.is_dir() for path in folder.glob("*.wav"))

    def wake(self, persona_dir: Path | None = None) -> Pcm:
        owned = self.owner_wake_clips(persona_dir)
        for path in random.sample(owned, len(owned)):
            try:
                return read_wav(path.read_bytes())
            except (OSError, ValueError) as error:
                LOG.warning("wake-up clip %s unusable (%s): trying another", path, error)
        return self.get(random.choice([name for name in CLIPS if name.startswith("wake-")]))

    def wakeup_clip(self, index: int, persona_dir: Path | None = None) -> Pcm | None:
        """Clip number `index` of a persona (the original's `billy/wakeup/play`), or None if there is none."""
        for folder in (persona_dir, self.directory / "wake-up" / "custom"):
            path = folder / f"{index}.wav" if folder else None
            if path is not None and path.is_file():
                return read_wav(path.read_bytes())
        return None

    def error(self, stage: str) -> Pcm:
        return self.get(f"error-{stage}" if f"error-{stage}" in CLIPS else "error-tool")
