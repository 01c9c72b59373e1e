"""Voices to test and measure with, made on this machine: espeak-ng's (every language, many variants).

The wake-word benchmark and the multilingual tests speak through these besides piper, so a result does not
hang on one synthetic voice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


class NoEspeakError(RuntimeError):
    """espeak-ng is not installed."""


def espeak(text: str, voice: str = "en", words_per_minute: int = 160, pitch: int = 50) -> bytes:
    """A WAV of `text` in espeak-ng's `voice` (a language, optionally `+variant`, e.g. `en-us+m3`)."""
    if shutil.which("espeak-ng") is None:
        raise NoEspeakError("espeak-ng is not installed: apt-get install espeak-ng (make setup does)")
    # A file, not --stdout: espeak-ng streams its WAV with the sizes in the header left unset.
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "-w", str(wav), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return wav.read_bytes()
