"""The one place piper voices are loaded: voices found in a directory, loaded once, used under a lock."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
PAUSE_BETWEEN_SENTENCES_S = 0.15
# Piper gets one core by default (TTS_THREADS): it speaks one sentence while the model writes the next, and
# onnxruntime's default (a spinning thread per core) fights the model for them. On this 2-core machine a first
# piece took 0.13 s beside the model that way, 0.085 s on one thread (0.07 s alone), and the model's 60 tokens
# 2.0 s instead of 1.4 s beside it (1.36 s on one).
DEFAULT_THREADS = 1


class UnknownVoiceError(LookupError):
    """No voice of that name in the voice directory."""


@dataclass(frozen=True)
class VoiceInfo:
    name: str
    model_path: Path
    language: str
    sample_rate: int
    quality: str


class PiperEngine:
    def __init__(
        self, voice_dir: Path, default_voice: str, threads: int = DEFAULT_THREADS, deterministic: bool = False
    ) -> None:
        self.voice_dir = voice_dir
        self.default_voice = default_voice
        self.threads = threads
        # Piper adds noise to each rendering (the voice's noise_scale and noise_w), so a sentence never sounds
        # quite the same twice; at zero it always does, which tests want (TTS_DETERMINISTIC).
        self.noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if deterministic else {}
        self._loaded: dict[str, object] = {}
        self._voices: dict[str, VoiceInfo] | None = None
        self._lock = threading.Lock()
        self._scan_lock = threading.Lock()

    def voices(self) -> dict[str, VoiceInfo]:
        """The voices in the directory, scanned once: adding a voice takes a restart, as loading one would."""
        with self._scan_lock:  # not the synthesis lock: the event loop asks this while a voice speaks
            if self._voices is None:
                self._voices = self._scan()
            return self._voices

    def _scan(self) -> dict[str, VoiceInfo]:
        found = {}
        for model_path in sorted(self.voice_dir.rglob("*.onnx")):
            config_path = model_path.with_name(model_path.name + ".json")
            if not config_path.is_file():
                continue
            try:
                config = json.loads(config_path.read_text())
                found[model_path.stem] = VoiceInfo(
                    name=model_path.stem,
                    model_path=model_path,
                    language=config.get("language", {}).get("code", ""),
                    sample_rate=int(config["audio"]["sample_rate"]),
                    quality=config["audio"].get("quality", ""),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                LOG.warning("skipping voice %s: its %s is unusable (%r)", model_path.stem, config_path.name, error)
        return found

    def voice_info(self, name: str | None) -> VoiceInfo:
        name = name or self.default_voice
        voices = self.voices()
        if name not in voices:
            known = ", ".join(voices) or f"none (no .onnx voices in {self.voice_dir})"
            raise UnknownVoiceError(f"unknown voice {name!r}: available voices are {known}")
        return voices[name]

    def load(self, name: str | None = None) -> VoiceInfo:
        info = self.voice_info(name)
        with self._lock:
            if info.name not in self._loaded:
                started = time.monotonic()
                self._loaded[info.name] = _load_voice(info.model_path, self.threads)
                LOG.info("piper voice %s loaded in %.1f s", info.name, time.monotonic() - started)
        return info

    def synthesize(
        self,
        sentences: list[str],
        voice: str | None = None,
        speed: float = 1.0,
        on_event: Callable[[str, int], None] = lambda event, index: None,
    ) -> Iterator[bytes]:
        """PCM16 mono for each sentence, yielded as soon as that sentence is synthesised."""
        from piper import SynthesisConfig

        info = self.load(voice)
        piper_voice = self._loaded[info.name]
        config = SynthesisConfig(length_scale=1.0 / speed, **self.noise)
        pause = b"\0\0" * int(info.sample_rate * PAUSE_BETWEEN_SENTENCES_S)
        for index, sentence in enumerate(sentences):
            on_event("synthesis_started", index)
            with self._lock:
                audio = b"".join(chunk.audio_int16_bytes for chunk in piper_voice.synthesize(sentence, config))
            on_event("synthesis_finished", index)
            yield audio + (pause if index < len(sentences) - 1 else b"")


def _load_voice(model_path: Path, threads: int):
    """A piper voice whose ONNX session uses `threads` cores (PiperVoice.load takes onnxruntime's default: all)."""
    import onnxruntime  # heavy imports, kept out of the CLI's start-up
    from piper import PiperConfig, PiperVoice

    options = onnxruntime.SessionOptions()
    if threads:  # 0: onnxruntime's default, a thread per core
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    config = PiperConfig.from_dict(json.loads(Path(f"{model_path}.json").read_text(encoding="utf-8")))
    session = onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)
