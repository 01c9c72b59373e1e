"""Billy's STT and TTS engines over Wyoming, beside their HTTP APIs, so Home Assistant's Assist can use them.

`billy stt-server --wyoming-port 10300` and `billy tts-server --wyoming-port 10200` (STT_WYOMING_PORT,
TTS_WYOMING_PORT) serve Wyoming from the same process and the same loaded model as HTTP: one model in memory,
requests serialised on the engine's lock. Add them in Home Assistant as the Wyoming integration at the Pi's
address and these ports.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from functools import partial

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler, AsyncServer
from wyoming.tts import Synthesize

from billy import __version__
from billy.audio.pcm import Pcm
from billy.conversation.sentences import split_sentences
from billy.languages import NAMES
from billy.services.stt.engine import WHISPER_RATE, WhisperEngine
from billy.services.tts.engine import PiperEngine, UnknownVoiceError

LOG = logging.getLogger(__name__)
WHISPER = Attribution(name="OpenAI Whisper, through faster-whisper", url="https://github.com/SYSTRAN/faster-whisper")
PIPER = Attribution(name="Piper", url="https://github.com/rhasspy/piper")
SAMPLES_PER_CHUNK = 1024


class SttHandler(AsyncEventHandler):
    """Describe -> Info; Transcribe, AudioStart, AudioChunk..., AudioStop -> Transcript."""

    def __init__(self, engine: WhisperEngine, max_seconds: float, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.engine = engine
        self.converter = AudioChunkConverter(rate=WHISPER_RATE, width=2, channels=1)
        self.audio = bytearray()
        # As the HTTP API's STT_MAX_SECONDS: past it the audio is dropped (memory stays bounded) and the
        # transcript request answered with an error.
        self.max_bytes = int(max_seconds * WHISPER_RATE) * 2
        self.too_long = False
        self.language: str | None = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(stt_info(self.engine).event())
        elif Transcribe.is_type(event.type):
            self.language = Transcribe.from_event(event).language or None
        elif AudioStart.is_type(event.type):
            self.audio.clear()
            self.too_long = False
        elif AudioChunk.is_type(event.type):
            self._take(self.converter.convert(AudioChunk.from_event(event)).audio)
        elif AudioStop.is_type(event.type):
            await self._transcribe()
        return True

    def _take(self, audio: bytes) -> None:
        if self.too_long or len(self.audio) + len(audio) > self.max_bytes:
            if not self.too_long:
                LOG.warning("wyoming: audio over %.0f s (STT_MAX_SECONDS): dropped", self.max_bytes / 2 / WHISPER_RATE)
            self.too_long = True
            self.audio.clear()
            return
        self.audio.extend(audio)

    async def _transcribe(self) -> None:
        if self.too_long:
            seconds = self.max_bytes / 2 / WHISPER_RATE
            await self.write_event(Error(text=f"the audio is longer than {seconds:.0f} s", code="too_long").event())
            self.too_long = False
            return
        if not self.engine.loaded:
            await self.write_event(Error(text="the whisper model is still loading", code="loading").event())
            return
        pcm = Pcm(np.frombuffer(bytes(self.audio), dtype="<i2"), WHISPER_RATE)
        transcript = await asyncio.get_running_loop().run_in_executor(None, self.engine.transcribe, pcm, self.language)
        LOG.info("wyoming: transcribed %.1f s: %r", pcm.seconds, transcript.text)
        await self.write_event(Transcript(text=transcript.text, language=transcript.language).event())
        self.audio.clear()
        self.language = None


class TtsHandler(AsyncEventHandler):
    """Describe -> Info; Synthesize -> AudioStart, AudioChunk..., AudioStop (one sentence at a time)."""

    def __init__(self, engine: PiperEngine, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.engine = engine

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(tts_info(self.engine).event())
        elif Synthesize.is_type(event.type):
            await self._synthesize(Synthesize.from_event(event))
        return True

    async def _synthesize(self, request: Synthesize) -> None:
        name = request.voice.name if request.voice and request.voice.name else None
        try:
            voice = self.engine.voice_info(name)
        except UnknownVoiceError as error:
            await self.write_event(Error(text=str(error), code="unknown_voice").event())
            return
        loop = asyncio.get_running_loop()
        sentences = split_sentences(request.text) or [request.text]
        audio = self.engine.synthesize(sentences, voice.name)
        await self.write_event(AudioStart(rate=voice.sample_rate, width=2, channels=1).event())
        while (pcm := await loop.run_in_executor(None, next, audio, None)) is not None:
            for start in range(0, len(pcm), SAMPLES_PER_CHUNK * 2):
                chunk = pcm[start : start + SAMPLES_PER_CHUNK * 2]
                await self.write_event(AudioChunk(rate=voice.sample_rate, width=2, channels=1, audio=chunk).event())
        await self.write_event(AudioStop().event())


def stt_info(engine: WhisperEngine) -> Info:
    english_only = engine.name.endswith(".en")
    model = AsrModel(
        name=engine.name,
        description=f"faster-whisper {engine.name}",
        attribution=WHISPER,
        installed=True,
        version=__version__,
        languages=["en"] if english_only else sorted(NAMES),
    )
    program = AsrProgram(
        name="billy-stt",
        description="Billy's speech to text (faster-whisper)",
        attribution=WHISPER,
        installed=True,
        version=__version__,
        models=[model],
    )
    return Info(asr=[program])


def tts_info(engine: PiperEngine) -> Info:
    voices = [
        TtsVoice(
            name=voice.name,
            description=f"piper {voice.name}",
            attribution=PIPER,
            installed=True,
            version=__version__,
            languages=[voice.language] if voice.language else [],
        )
        for voice in engine.voices().values()
    ]
    program = TtsProgram(
        name="billy-tts",
        description="Billy's text to speech (piper)",
        attribution=PIPER,
        installed=True,
        version=__version__,
        voices=voices,
    )
    return Info(tts=[program])


def serve_in_background(handler_class, engine, host: str, port: int, *options) -> threading.Thread:
    """A Wyoming TCP server on its own event loop, in a daemon thread beside the HTTP server; `options` go to
    each connection's handler after the engine (the STT handler's longest audio)."""
    server = AsyncServer.from_uri(f"tcp://{host}:{port}")

    def run() -> None:
        asyncio.run(server.run(partial(handler_class, engine, *options)))

    thread = threading.Thread(target=run, name=f"wyoming-{port}", daemon=True)
    thread.start()
    LOG.info("Wyoming %s on %s:%d", handler_class.__name__, host, port)
    return thread
