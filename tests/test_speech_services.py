"""The STT and TTS services, started as real processes with real models, spoken to over HTTP."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest

from billy.audio.pcm import read_wav, wav_bytes
from billy.services.client import KEEPALIVE_S, ServiceError, kept_connection
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient

from billy_harness import TEST_TIMEOUT
from text_match import same_words, words

SENTENCE = "Hello there. I am Billy the talking fish. What would you like to know?"


def test_health_names_the_loaded_models(stt_service, tts_service):
    assert httpx.get(stt_service.url + "/api/health", timeout=TEST_TIMEOUT).json()["model"] == "tiny.en"
    assert httpx.get(tts_service.url + "/api/health", timeout=TEST_TIMEOUT).json()["voice"] == "en_US-joe-medium"
    voices = httpx.get(tts_service.url + "/api/voices", timeout=TEST_TIMEOUT).json()["voices"]
    assert {"name": "en_US-joe-medium", "language": "en_US", "sample_rate": 22050, "quality": "medium"} in voices


def test_round_trip_tts_then_stt_gives_back_the_words(stt_service, tts_service):
    wav = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav(SENTENCE)
    assert read_wav(wav).rate == 22050
    heard = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(wav)
    assert same_words(SENTENCE, heard), heard


def test_stt_response_formats(stt_service, tts_service):
    wav = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav("Good morning.")
    url = stt_service.base_url + "/audio/transcriptions"
    text = httpx.post(url, files={"file": ("a.wav", wav)}, data={"response_format": "text"}, timeout=TEST_TIMEOUT).text
    verbose = httpx.post(
        url, files={"file": ("a.wav", wav)}, data={"response_format": "verbose_json"}, timeout=TEST_TIMEOUT
    ).json()
    assert words(text) == ["good", "morning"]
    assert verbose["language"] == "en" and verbose["segments"] and verbose["duration"] > 0.3


def test_stt_accepts_raw_pcm_with_its_rate(stt_service, tts_service):
    pcm = read_wav(TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav(SENTENCE))
    response = httpx.post(
        stt_service.base_url + "/audio/transcriptions",
        files={"file": ("speech.pcm", pcm.to_bytes(), "application/octet-stream")},
        data={"sample_rate": str(pcm.rate)},
        timeout=TEST_TIMEOUT,
    )
    assert same_words(SENTENCE, response.json()["text"]), response.text


def test_pcm_streams_sentence_by_sentence(tts_service):
    long_last = (
        "And the third sentence is much longer than the others, so that synthesising it takes the server a good "
        "while, long enough that a listener already hears the first words while this one is still being made."
    )
    text = f"One fish. Two fish. {long_last}"
    body = {"input": text, "response_format": "pcm"}
    chunks, first_received = [], None
    with httpx.stream("POST", tts_service.base_url + "/audio/speech", json=body, timeout=TEST_TIMEOUT) as response:
        assert response.status_code == 200
        rate, request_id = int(response.headers["x-sample-rate"]), response.headers["x-request-id"]
        sentences = int(response.headers["x-sentences"])
        for chunk in response.iter_raw():
            if first_received is None:
                first_received = time.monotonic()
            chunks.append(chunk)
    # Four pieces: the long sentence is cut at its comma after "while", so its first half is heard sooner.
    assert rate == 22050 and sentences == 4 and sum(map(len, chunks)) % 2 == 0
    events = httpx.get(f"{tts_service.url}/api/requests/{request_id}", timeout=TEST_TIMEOUT).json()["events"]
    last_done = next(e["t"] for e in events if e["event"] == "synthesis_finished" and e["sentence"] == 3)
    # Both clocks are CLOCK_MONOTONIC on one machine: the server's own record says when it finished.
    assert first_received < last_done
    # One chunk sent per piece (the transport may join or split them on the way: the server's record counts).
    assert [e["event"] for e in events].count("chunk_sent") == 4


def test_a_deterministic_voice_says_a_text_the_same_way_every_time(tts_service, models_dir):
    from billy.services.tts.engine import PiperEngine

    tts = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT)  # the tests' service runs with --deterministic
    assert tts.speak_wav(SENTENCE) == tts.speak_wav(SENTENCE)
    lively = PiperEngine(models_dir, "en_US-joe-medium")  # piper's own noise: each rendering differs a little
    assert b"".join(lively.synthesize(["One fish."])) != b"".join(lively.synthesize(["One fish."]))


def _stt_post(service, files=None, data=None, headers=None, content=None):
    url = service.base_url + "/audio/transcriptions"
    return httpx.post(url, files=files, data=data, headers=headers, content=content, timeout=TEST_TIMEOUT)


def test_stt_rejects_bad_uploads_and_keeps_serving(stt_service, tts_service):
    ten_minutes = wav_bytes(np.zeros(16000 * 600, dtype=np.int16), 16000)
    cases = {
        "garbage": _stt_post(stt_service, files={"file": ("x.wav", b"\x13\x37" * 5000)}),
        "empty": _stt_post(stt_service, files={"file": ("x.wav", b"")}),
        "too long": _stt_post(stt_service, files={"file": ("x.wav", ten_minutes)}),
        "wrong rate": _stt_post(stt_service, files={"file": ("x.wav", wav_bytes(np.zeros(800, np.int16), 4000))}),
        "no file": _stt_post(stt_service, data={"language": "en"}),
        "not a form": _stt_post(stt_service, content=b"{}", headers={"content-type": "application/json"}),
        "bad format": _stt_post(
            stt_service, files={"file": ("x.wav", ten_minutes[:1000])}, data={"response_format": "srt"}
        ),
    }
    for name, response in cases.items():
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        assert response.json()["error"]["message"], name
    assert "limit" in cases["too long"].json()["error"]["message"]
    assert "4000 Hz" in cases["wrong rate"].json()["error"]["message"]
    wav = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav(SENTENCE)
    assert same_words(SENTENCE, SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(wav))


def test_tts_rejects_bad_requests_and_keeps_serving(tts_service):
    url = tts_service.base_url + "/audio/speech"
    cases = {
        "empty": httpx.post(url, json={"input": "   "}, timeout=TEST_TIMEOUT),
        "oversized": httpx.post(url, json={"input": "blub " * 2000}, timeout=TEST_TIMEOUT),
        "unknown voice": httpx.post(url, json={"input": "Hi.", "voice": "nemo"}, timeout=TEST_TIMEOUT),
        "garbage": httpx.post(
            url, content=b"\xff\xfe garbage", headers={"content-type": "application/json"}, timeout=TEST_TIMEOUT
        ),
        "bad format": httpx.post(url, json={"input": "Hi.", "response_format": "flac"}, timeout=TEST_TIMEOUT),
        "bad speed": httpx.post(url, json={"input": "Hi.", "speed": 99}, timeout=TEST_TIMEOUT),
        "lone surrogate": httpx.post(url, content=b'{"input": "Hi \\ud800"}', timeout=TEST_TIMEOUT),
        "deep JSON": httpx.post(url, content=b"[" * 5000 + b"]" * 5000, timeout=TEST_TIMEOUT),
    }
    for name, response in cases.items():
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert "en_US-joe-medium" in cases["unknown voice"].json()["error"]["message"]
    assert read_wav(TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav("Still here.")).seconds > 0.3


def test_clients_name_the_stage_when_a_service_is_down():
    with pytest.raises(ServiceError, match="stt"):
        SttClient("http://127.0.0.1:9/v1").transcribe(b"RIFF")
    with pytest.raises(ServiceError, match="tts"), TtsClient("http://127.0.0.1:9/v1").stream("Hi.") as (_, chunks):
        list(chunks)


def test_a_kept_connection_is_dropped_by_billy_before_the_service_closes_it():
    # The services run on uvicorn; a connection reused just as the server closes it for idling fails the turn
    # ("Server disconnected without sending a response", seen on a loaded machine): Billy lets go first.
    import uvicorn

    assert uvicorn.Config(app=None).timeout_keep_alive > KEEPALIVE_S
    with kept_connection() as http:
        assert http._transport._pool._keepalive_expiry == KEEPALIVE_S  # httpx keeps it there; no public getter
