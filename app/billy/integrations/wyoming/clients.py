"""Wyoming STT and TTS as Billy's stages (STT_WYOMING_URI, TTS_WYOMING_URI): for example Home Assistant's
faster-whisper and piper add-ons instead of Billy's own services.

They have the shape of `SttClient` and `TtsClient` (transcribe/hear; stream/speak_wav), and fail with the same
`ServiceError`, so the pipeline's fallbacks and error clips work as with HTTP. Each request is one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Iterator

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from billy.audio.pcm import read_wav, wav_bytes
from billy.languages import language_code
from billy.services.client import ServiceError
from billy.services.stt.client import Heard

SAMPLES_PER_CHUNK = 1024
_DONE = object()


class _Wyoming:
    stage = ""

    def __init__(self, uri: str, timeout: float) -> None:
        self.uri = uri
        self.base_url = uri  # where the doctor and the logs say this stage lives
        self.timeout = timeout

    async def _exchange(self, events: list, until) -> list:
        """Send `events`, then read events until `until(event)` is true; every event read is returned."""
        read = []
        async with AsyncClient.from_uri(self.uri) as client:
            for event in events:
                await client.write_event(event)
            while True:
                event = await client.read_event()
                if event is None:
                    raise ServiceError(self.stage, f"{self.uri} closed the connection before answering")
                if Error.is_type(event.type):
                    raise ServiceError(self.stage, f"{self.uri}: {Error.from_event(event).text}")
                read.append(event)
                if until(event):
                    return read

    def _run(self, coroutine):
        try:
            return asyncio.run(asyncio.wait_for(coroutine, self.timeout))
        except (TimeoutError, OSError) as error:
            raise ServiceError(self.stage, f"no answer from {self.uri}: {type(error).__name__} {error}") from None

    def health(self) -> dict:
        events = self._run(self._exchange([Describe().event()], lambda e: Info.is_type(e.type)))
        return {"status": "ok", "wyoming": Info.from_event(events[-1]).to_dict()}


class WyomingStt(_Wyoming):
    stage = "stt"

    def __init__(self, uri: str, timeout: float = 20) -> None:
        super().__init__(uri, timeout)

    def transcribe(self, wav: bytes, language: str | None = None) -> str:
        return self.hear(wav, language).text

    def hear(self, wav: bytes, language: str | None = None) -> Heard:
        pcm = read_wav(wav)
        audio = pcm.samples.astype("<i2").tobytes()
        step = SAMPLES_PER_CHUNK * 2
        events = [
            Transcribe(language=language or None).event(),
            AudioStart(rate=pcm.rate, width=2, channels=1).event(),
            *(
                AudioChunk(rate=pcm.rate, width=2, channels=1, audio=audio[i : i + step]).event()
                for i in range(0, len(audio), step)
            ),
            AudioStop().event(),
        ]
        read = self._run(self._exchange(events, lambda e: Transcript.is_type(e.type)))
        transcript = Transcript.from_event(read[-1])
        return Heard(transcript.text.strip(), language_code(transcript.language or language or ""))


class WyomingTts(_Wyoming):
    stage = "tts"

    def __init__(self, uri: str, voice: str = "", timeout: float = 20) -> None:
        super().__init__(uri, timeout)
        self.voice = voice

    def _request(self, text: str) -> list:
        voice = SynthesizeVoice(name=self.voice) if self.voice else None
        return [Synthesize(text=text, voice=voice).event()]

    @contextlib.contextmanager
    def stream(self, text: str, speed: float = 1.0) -> Iterator[tuple[int, Iterator[bytes]]]:
        """(sample rate, PCM16 chunks as they arrive), like TtsClient.stream; `speed` is not in Wyoming."""
        chunks: queue.Queue = queue.Queue()
        worker = threading.Thread(target=self._receive, args=(text, chunks), daemon=True)
        worker.start()
        first = chunks.get()
        if isinstance(first, ServiceError):
            raise first
        if first is _DONE:
            raise ServiceError("tts", f"{self.uri} sent no audio")
        yield first, _drain(chunks)

    def _receive(self, text: str, chunks: queue.Queue) -> None:
        """Read the answer on a worker, handing the rate, then each chunk, then _DONE (or the error) over."""

        async def receive() -> None:
            async with AsyncClient.from_uri(self.uri) as client:
                for event in self._request(text):
                    await client.write_event(event)
                while (event := await client.read_event()) is not None:
                    if Error.is_type(event.type):
                        raise ServiceError("tts", f"{self.uri}: {Error.from_event(event).text}")
                    if AudioStart.is_type(event.type):
                        chunks.put(AudioStart.from_event(event).rate)
                    elif AudioChunk.is_type(event.type):
                        chunks.put(AudioChunk.from_event(event).audio)
                    elif AudioStop.is_type(event.type):
                        return
                raise ServiceError("tts", f"{self.uri} closed the connection mid-answer")

        try:
            self._run(receive())
        except ServiceError as error:
            chunks.put(error)
        finally:
            chunks.put(_DONE)

    def speak_wav(self, text: str, speed: float = 1.0) -> bytes:
        with self.stream(text, speed) as (rate, chunks):
            return wav_bytes(b"".join(chunks), rate)


def _drain(chunks: queue.Queue) -> Iterator[bytes]:
    while (item := chunks.get()) is not _DONE:
        if isinstance(item, ServiceError):
            raise item
        yield item
