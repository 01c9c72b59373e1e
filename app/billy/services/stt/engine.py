"""The one place the whisper model is loaded; transcriptions are serialised on a lock."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from billy.audio.pcm import Pcm, to_float
from billy.services.stt.short_window import transcribe_short

WHISPER_RATE = 16000
LOG = logging.getLogger(__name__)


def default_threads() -> int:
    """Half the cores, at least one (STT_THREADS=0). The transcription shares the moment with the end-of-turn
    judge, and a short window gains nothing from more threads: on this 2-core machine tiny.en took 0.115 s alone
    and 0.145 s beside the judge on 1 thread, 0.124 and 0.214 s on 2, 0.132 and 0.194 s on CTranslate2's default
    of 4; whisper's whole 30 s window too was fastest on 1 (0.60 s against 0.74 s on 2)."""
    return max(1, len(os.sched_getaffinity(0)) // 2)


@dataclass
class Transcript:
    text: str
    language: str
    duration: float
    segments: list[dict] = field(default_factory=list)
    window_s: float = 30.0  # how much audio the encoder heard: the clip and some silence, or whisper's 30 s


class WhisperEngine:
    def __init__(
        self,
        model_dir: Path,
        compute_type: str = "int8",
        beam_size: int = 1,
        threads: int = 0,
        language: str | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.threads = threads or default_threads()
        self.language = language
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.model_dir.name

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        from faster_whisper import WhisperModel  # heavy import, kept out of the CLI's start-up

        if not (self.model_dir / "model.bin").is_file():
            raise FileNotFoundError(
                f"no whisper model in {self.model_dir} (model.bin missing): run `billy models fetch NAME --dir DIR`"
            )
        started = time.monotonic()
        self._model = WhisperModel(
            str(self.model_dir), device="cpu", compute_type=self.compute_type, cpu_threads=self.threads
        )
        LOG.info("whisper model %s loaded in %.1f s", self.name, time.monotonic() - started)

    @staticmethod
    def knows_language(code: str) -> bool:
        """A language code whisper has (an English-only model still transcribes such a request, in English)."""
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        return code in _LANGUAGE_CODES

    def transcribe(self, pcm: Pcm, language: str | None = None) -> Transcript:
        if self._model is None:
            raise RuntimeError("the whisper model is not loaded yet")
        audio = to_float(pcm.resampled(WHISPER_RATE).samples)
        language = language or self.language
        with self._lock:
            short = self._transcribe_short(audio, language)
            if short is not None:
                segment = {"id": 0, "start": 0.0, "end": round(pcm.seconds, 2), "text": short.text}
                return Transcript(short.text, language or "en", round(pcm.seconds, 3), [segment], short.window_s)
            segments, info = self._model.transcribe(
                audio,
                language=language,
                beam_size=self.beam_size,
                condition_on_previous_text=False,
                # A spoken question is one short segment: timestamp tokens would only cost decoding steps.
                without_timestamps=True,
            )
            parts = [
                {"id": index, "start": round(s.start, 2), "end": round(s.end, 2), "text": s.text.strip()}
                for index, s in enumerate(segments)
            ]
        text = " ".join(part["text"] for part in parts if part["text"]).strip()
        return Transcript(text=text, language=info.language, duration=round(pcm.seconds, 3), segments=parts)

    def _transcribe_short(self, audio, language: str | None):
        """The short window's transcript, or None: the clip is long, the language unknown, or the result doubtful.

        The language must be known: detecting it is the full window's job (STT_LANGUAGE=auto).
        """
        from faster_whisper.tokenizer import Tokenizer

        multilingual = self._model.model.is_multilingual
        if multilingual and language is None:
            return None
        tokenizer = Tokenizer(
            self._model.hf_tokenizer, multilingual, task="transcribe", language=language if multilingual else "en"
        )
        return transcribe_short(self._model, tokenizer, audio, self.beam_size)
