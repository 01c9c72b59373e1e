"""An original Billy B-Assistant install folder as an owner has it, written here in the original's formats
(never its files): `.env`, `persona.ini`, `personas/<name>/`, `custom_songs/`, `sounds/songs/`, `sounds/wake-up/`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from billy.audio.pcm import wav_bytes

from song_fixtures import v1_song, v2_song

ENV = """# Billy B-Assistant settings
OPENAI_API_KEY=sk-test-not-a-real-key
OPENAI_MODEL=gpt-4o-mini-realtime-preview
VOICE=ballad
MQTT_HOST=192.168.1.5
MQTT_PORT=1883
MQTT_USERNAME="billy"
MQTT_PASSWORD='fish "and" chips'
HA_TOKEN=
MIC_PREFERENCE=usbpath:1-1.3
SILENCE_THRESHOLD=2000.0
MIC_TIMEOUT_SECONDS=8  # seconds
RUN_MODE=dory
LOG_LEVEL=INFO
export DEBUG_MODE=false
BILLY_MODEL=trout
PORCUPINE_ACCESS_KEY=pv-key
FLASK_PORT=80
USE_LOCAL_MODELS=false
LOCAL_STT_MODEL=small
LOCAL_TTS_VOICE=default
SOMETHING_ELSE=1
"""
PERSONA_V1 = """[PERSONALITY]
humor = 85
sarcasm = 70
honesty = 90
respectfulness = 40
optimism = 60
confidence = 75
warmth = 55
curiosity = 65
verbosity = 25
formality = 10

[BACKSTORY]
origin = A garage sale in 2003.
species = Largemouth bass (animatronic)

[META]
instructions = You are Billy, a sarcastic singing fish. Keep it short.
"""
PERSONA_V2 = """[PERSONALITY]
humor = 90
sarcasm = 10

[BACKSTORY]
origin = Sailed the seven seas on a pirate ship's wall.

[META]
name = Captain Billy
description = A pirate fish
voice = ballad
mouth_articulation = 6
instructions = You are Captain Billy, a pirate fish. Say arr a lot.

[WAKEUP]
1 = Arr, who goes there?
2 = Ahoy, matey!
"""


def clip(seconds: float = 0.5, rate: int = 24000, hz: float = 440) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return wav_bytes((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), rate)


def write_install(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".env").write_text(ENV)
    (root / "persona.ini").write_text(PERSONA_V1)
    pirate = root / "personas" / "pirate"
    (pirate / "wakeup").mkdir(parents=True)
    (pirate / "persona.ini").write_text(PERSONA_V2)
    (pirate / "wakeup" / "1.wav").write_bytes(clip(hz=500))
    (root / "personas" / "empty").mkdir()
    v2_song(root / "custom_songs")
    v1_song(root / "sounds" / "songs")
    broken = root / "sounds" / "songs" / "broken"
    broken.mkdir()
    (broken / "full.wav").write_bytes(b"not a wav at all")
    (root / "sounds" / "wake-up" / "custom").mkdir(parents=True)
    (root / "sounds" / "wake-up" / "hello.wav").write_bytes(clip(hz=300))
    (root / "sounds" / "wake-up" / "custom" / "1.wav").write_bytes(clip(hz=350))
    return root
