"""Wyoming: the `wyoming` package's own client talks to Billy's STT and TTS services, and Billy runs a turn
with Wyoming servers as his STT and TTS stages (the HTTP services pointed at closed ports, so unused)."""

from __future__ import annotations

import asyncio

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from billy.audio.pcm import read_wav, wav_bytes
from billy.devtools.stack import free_port
from billy.integrations.wyoming.clients import WyomingStt, WyomingTts
from billy.services.stt.client import SttClient

from standins import Reply
from text_match import contains_words

TIMEOUT = 60


async def _conversation(uri: str, events: list, last_type) -> list:
    async with AsyncClient.from_uri(uri) as client:
        for event in events:
            await client.write_event(event)
        received = []
        while True:
            event = await asyncio.wait_for(client.read_event(), TIMEOUT)
            assert event is not None, f"{uri} hung up after {[e.type for e in received]}"
            received.append(event)
            if last_type.is_type(event.type):
                return received


def _talk(uri: str, events: list, last_type) -> list:
    return asyncio.run(_conversation(uri, events, last_type))


def test_the_wyoming_client_describes_and_transcribes_through_billys_stt(stt_service, speak):
    info = Info.from_event(_talk(stt_service.wyoming_uri, [Describe().event()], Info)[-1])
    assert info.asr and info.asr[0].models[0].name == "tiny.en"
    question = read_wav(speak("Hello Billy, what do you like to do all day?"))
    audio = question.samples.astype("<i2").tobytes()
    chunks = [
        AudioChunk(rate=question.rate, width=2, channels=1, audio=audio[i : i + 4096]).event()
        for i in range(0, len(audio), 4096)
    ]
    events = [
        Transcribe(language="en").event(),
        AudioStart(rate=question.rate, width=2, channels=1).event(),
        *chunks,
        AudioStop().event(),
    ]
    transcript = Transcript.from_event(_talk(stt_service.wyoming_uri, events, Transcript)[-1])
    assert contains_words(transcript.text, "what do you like to do all day"), transcript.text


def test_audio_past_the_longest_recording_is_refused_and_the_next_request_is_heard(stt_service, speak):
    """As over HTTP (STT_MAX_SECONDS, 120 s here): a client sending more is answered with an error, the handler's
    buffer stops growing, and the same connection's next request is transcribed."""
    second = bytes(2 * 16000)  # one second of silence, 16 kHz 16-bit
    too_long = [AudioChunk(rate=16000, width=2, channels=1, audio=second).event() for _ in range(125)]
    question = read_wav(speak("Hello Billy, what do you like to do all day?"))
    audio = question.samples.astype("<i2").tobytes()

    async def talk() -> tuple[Error, Transcript]:
        async with AsyncClient.from_uri(stt_service.wyoming_uri) as client:
            for event in [AudioStart(rate=16000, width=2, channels=1).event(), *too_long, AudioStop().event()]:
                await client.write_event(event)
            refused = await asyncio.wait_for(client.read_event(), TIMEOUT)
            start = AudioStart(rate=question.rate, width=2, channels=1).event()
            for event in [start, AudioChunk(rate=question.rate, width=2, channels=1, audio=audio).event()]:
                await client.write_event(event)
            await client.write_event(AudioStop().event())
            heard = await asyncio.wait_for(client.read_event(), TIMEOUT)
            return Error.from_event(refused), Transcript.from_event(heard)

    refused, heard = asyncio.run(talk())
    assert refused.code == "too_long" and refused.text == "the audio is longer than 120 s", refused
    assert contains_words(heard.text, "what do you like to do all day"), heard.text


def test_the_wyoming_client_synthesises_through_billys_tts(tts_service, stt_service):
    info = Info.from_event(_talk(tts_service.wyoming_uri, [Describe().event()], Info)[-1])
    assert "en_US-joe-medium" in [voice.name for voice in info.tts[0].voices]
    request = Synthesize(text="The water is warm today.", voice=SynthesizeVoice(name="en_US-joe-medium"))
    events = _talk(tts_service.wyoming_uri, [request.event()], AudioStop)
    start = AudioStart.from_event(events[0])
    audio = b"".join(AudioChunk.from_event(e).audio for e in events if AudioChunk.is_type(e.type))
    assert start.rate == 22050 and len(audio) > start.rate  # more than half a second of speech
    heard = SttClient(stt_service.base_url).transcribe(wav_bytes(audio, start.rate))
    assert contains_words(heard, "the water is warm today"), heard


def test_a_turn_with_wyoming_servers_as_the_stt_and_tts_stages(tank_factory, llm, stt_service, tts_service, speak):
    # A reply whisper tiny hears right in every rendition (12 of 12; "Swimming is my favorite thing." was heard as
    # "sweating is my favorite ding" in 2 of 12: piper's noise differs each time).
    llm.then(Reply("The water is warm today."))
    closed = f"http://127.0.0.1:{free_port()}/v1"
    tank = tank_factory(
        {
            "STT_WYOMING_URI": stt_service.wyoming_uri,
            "TTS_WYOMING_URI": tts_service.wyoming_uri,
            "STT_BASE_URL": closed,
            "TTS_BASE_URL": closed,
        }
    )
    assert isinstance(tank.billy.pipeline.stt.clients[0], WyomingStt)
    assert isinstance(tank.billy.pipeline.tts.clients[0], WyomingTts)
    mark = tank.speaker.mark()
    turn = tank.ask(speak("What is your favorite thing?"))
    assert contains_words(turn.result.heard, "what is your favorite thing"), turn.result.heard
    assert turn.result.said == "The water is warm today." and not turn.result.failed_stage
    # Joined as played, without the silences between the wake-up clip and the reply (a long gap can end
    # whisper's transcript early), as the other heard-back checks do.
    heard_back = SttClient(stt_service.base_url).transcribe(tank.speaker.wav_since(mark, gaps=False))
    assert contains_words(heard_back, "the water is warm today"), heard_back


def test_a_dead_wyoming_stage_is_an_stt_error_not_a_crash(tank_factory, speak):
    tank = tank_factory({"STT_WYOMING_URI": f"tcp://127.0.0.1:{free_port()}"})
    turn = tank.ask(speak("Are you there?"))
    assert turn.result.failed_stage == "stt"
