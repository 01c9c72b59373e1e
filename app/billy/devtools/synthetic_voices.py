"""Voices to test and measure with, made on this machine: espeak-ng's (every language, many variants).

The wake-word benchmark and the multilingual tests speak through these besides piper, so a result does not
hang on one synthetic voice.
"""

from __future__ import annotations

import json
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


def relabelled_voice(model: Path, folder: Path, name: str) -> Path:
    """A piper voice `name` (e.g. `de_DE-owner-medium`) in `folder` that is `model`'s voice under the language
    of its name: where no voice of a language can be fetched (Hugging Face out of reach), what is exercised is
    Billy choosing a voice by language, not how it sounds. `model`: a voice's `.onnx`, its `.onnx.json` beside."""
    code = name.split("-")[0]  # de_DE
    config = json.loads(model.with_suffix(".onnx.json").read_text())
    config["language"] = {"code": code, "family": code.split("_")[0], "region": code.split("_")[-1]}
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / f"{name}.onnx"
    if not onnx.exists():
        onnx.symlink_to(model.resolve())
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))
    return onnx
