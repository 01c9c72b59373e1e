"""The owner's own wake words, uploaded on the web page: kept under `wakewords/<name>/` in the state folder, and
only after they have loaded and run.

- openWakeWord: one classifier file, `.onnx` (what the original's owners trained or downloaded, "hey_billy.onnx")
  or `.tflite`;
- microWakeWord: its `.json` and the `.tflite` the json names.

A model is tried before it is kept: loaded by the detector Billy would use and fed three seconds of silence and
of noise, which it must get through without an error. The web page then offers it for WAKE_WORD_MODEL (by its
path, which only this code writes), with the detector it needs.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

from billy.folders import put_folder
from billy.hearing.wake_models import OWN_MODELS_FOLDER

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MAX_BYTES = 20 * 2**20  # openWakeWord's classifiers are ~200 kB, microWakeWord's ~60 kB
TRIAL_SECONDS = 3
RATE = 16000


class WakeWordUploadError(ValueError):
    """The upload is refused; the message says what and why."""


def own_wake_models(state_dir: Path) -> list[Path]:
    """The model file of each uploaded wake word (a microWakeWord's .json, an openWakeWord's classifier)."""
    folder = state_dir / OWN_MODELS_FOLDER
    found = []
    for model in sorted(path for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []:
        files = sorted(model.iterdir())
        configs = [path for path in files if path.suffix == ".json"]
        found += configs or [path for path in files if path.suffix in (".onnx", ".tflite")][:1]
    return found


def backend_of(model: Path) -> str:
    return "microwakeword" if model.suffix == ".json" else "openwakeword"


def add_own_model(state_dir: Path, files: dict[str, bytes]) -> Path:
    """Keep an uploaded model (`files`: file name -> bytes) once it loads and runs; the path of its model file."""
    names = {Path(name).name: data for name, data in files.items()}
    if sum(map(len, names.values())) > MAX_BYTES:
        raise WakeWordUploadError(f"bigger than {MAX_BYTES // 2**20} MB: a wake word model is far smaller")
    model_name = _model_file(names)
    stem = Path(model_name).stem
    if not NAME.match(stem):
        raise WakeWordUploadError(f"{model_name!r}: name the model with letters, digits, _ and - (at most 40)")
    folder = put_folder(state_dir / OWN_MODELS_FOLDER, stem, names, lambda staging: try_model(staging / model_name))
    return folder / model_name


def remove_own_model(state_dir: Path, name: str) -> None:
    target = state_dir / OWN_MODELS_FOLDER / name
    if not NAME.match(name) or not target.is_dir():
        raise WakeWordUploadError(f"no wake word called {name!r}")
    shutil.rmtree(target)


def _model_file(names: dict[str, bytes]) -> str:
    """Which of the files is the model, once the set is one Billy can use."""
    suffixes = sorted(Path(name).suffix for name in names)
    if suffixes in ([".onnx"], [".tflite"]):
        return next(iter(names))
    if suffixes == [".json", ".tflite"]:
        config_name = next(name for name in names if name.endswith(".json"))
        try:
            named = json.loads(names[config_name]).get("model")
        except (ValueError, AttributeError):
            raise WakeWordUploadError(f"{config_name}: not microWakeWord's JSON") from None
        if named not in names:
            raise WakeWordUploadError(f"{config_name} names the model {named!r}, which is not among the files")
        return config_name
    raise WakeWordUploadError(
        "upload an openWakeWord model (one .onnx or .tflite file) or a microWakeWord model (its .json and .tflite)"
    )


def try_model(model: Path) -> None:
    """Load the model as Billy would and run it on silence and noise; WakeWordUploadError saying why if it fails."""
    from billy.hearing.wakeword import WakeWordDetector

    quiet = np.zeros(TRIAL_SECONDS * RATE, np.int16)
    noise = np.random.default_rng(0).normal(0, 1000, TRIAL_SECONDS * RATE).astype(np.int16)
    try:
        detector = WakeWordDetector(backend_of(model), str(model))
        for sound in (quiet, noise):
            for start in range(0, len(sound), 1280):
                detector.detect(sound[start : start + 1280].astype("<i2").tobytes())
    except Exception as error:  # whatever the model's runtime raises: the owner is told, nothing is kept
        raise WakeWordUploadError(f"{model.name} does not load and run as a wake word: {error}") from None
