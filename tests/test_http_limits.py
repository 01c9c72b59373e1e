"""The services' limits hold whatever the framing: bytes are counted as they arrive, not taken from a header."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from waiting import wait_until

from billy.audio.pcm import wav_bytes
from billy.devtools.stack import ServiceProcess
from billy.services.tts.client import TtsClient

from billy_harness import TEST_TIMEOUT

BOUNDARY = "billy-test-boundary"


@pytest.fixture(scope="module")
def small_stt(models_dir, tmp_path_factory) -> Iterator[ServiceProcess]:
    """An STT service that takes at most one second of audio (about 257 kB of upload)."""
    log = tmp_path_factory.mktemp("small-stt") / "stt.log"
    service = ServiceProcess.billy(
        ["stt-server", "--model-dir", str(models_dir / "tiny.en"), "--max-seconds", "1"], log
    )
    yield service
    service.stop()


def _chunked(data: bytes, size: int = 16384) -> Iterator[bytes]:
    """A body without Content-Length: httpx sends a generator with chunked transfer encoding."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _multipart(name: str, payload: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="x.wav"\r\n\r\n'
    return head.encode() + payload + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_stt_counts_a_chunked_upload_and_answers_413(small_stt):
    too_big = _multipart("file", wav_bytes(np.zeros(16000 * 20, np.int16), 16000))  # 640 kB, no length declared
    response = httpx.post(
        small_stt.base_url + "/audio/transcriptions",
        content=_chunked(too_big),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=TEST_TIMEOUT,
    )
    assert response.status_code == 413, response.text
    assert "limit" in response.json()["error"]["message"]
    # A file part that is not the audio is counted too: the whole body is what is limited.
    response = httpx.post(
        small_stt.base_url + "/audio/transcriptions",
        content=_chunked(_multipart("padding", b"x" * 600_000)),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=TEST_TIMEOUT,
    )
    assert response.status_code == 413, response.text
    short = wav_bytes(np.zeros(8000, np.int16), 16000)
    ok = httpx.post(
        small_stt.base_url + "/audio/transcriptions", files={"file": ("a.wav", short)}, timeout=TEST_TIMEOUT
    )
    assert ok.status_code == 200, ok.text


def test_stt_unknown_language_is_a_400(stt_service):
    short = wav_bytes(np.zeros(8000, np.int16), 16000)
    response = httpx.post(
        stt_service.base_url + "/audio/transcriptions",
        files={"file": ("a.wav", short)},
        data={"language": "klingon"},
        timeout=TEST_TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert "klingon" in response.json()["error"]["message"]


def test_tts_refuses_an_oversize_json_body_before_reading_it_whole(tts_service):
    # Valid JSON with a short input and a huge extra field, chunked: over the byte limit whatever it says.
    body = b'{"input": "Hi.", "padding": "' + b"x" * 400_000 + b'"}'
    response = httpx.post(
        tts_service.base_url + "/audio/speech",
        content=_chunked(body),
        headers={"content-type": "application/json"},
        timeout=TEST_TIMEOUT,
    )
    assert response.status_code == 413, response.text
    assert "limit" in response.json()["error"]["message"]
    assert httpx.post(
        tts_service.base_url + "/audio/speech", json={"input": "Still here."}, timeout=TEST_TIMEOUT
    ).is_success


def test_tts_health_answers_while_a_long_wav_is_synthesised(tts_service):
    text = " ".join(f"This is sentence number {n} of a long reply about the sea and its fish." for n in range(30))
    # The server numbers requests: the next one after this probe is the long WAV.
    probe = httpx.post(
        tts_service.base_url + "/audio/speech", json={"input": "Hi.", "response_format": "pcm"}, timeout=TEST_TIMEOUT
    )
    long_id = str(int(probe.headers["x-request-id"]) + 1)
    done = threading.Event()
    result: dict = {}

    def synthesise() -> None:
        result["response"] = httpx.post(tts_service.base_url + "/audio/speech", json={"input": text}, timeout=300)
        done.set()

    worker = threading.Thread(target=synthesise)
    worker.start()
    try:
        events_url = f"{tts_service.url}/api/requests/{long_id}"

        def started() -> bool:
            response = httpx.get(events_url, timeout=TEST_TIMEOUT)
            return response.status_code == 200 and any(
                e["event"] == "synthesis_started" for e in response.json()["events"]
            )

        wait_until(started, "the long WAV's synthesis to start")
        health = httpx.get(tts_service.url + "/api/health", timeout=TEST_TIMEOUT)
        answered_at = time.monotonic()
        assert health.status_code == 200
        assert done.wait(300), "the long WAV never came"
    finally:
        worker.join()
    assert result["response"].status_code == 200
    events = httpx.get(events_url, timeout=TEST_TIMEOUT).json()["events"]
    # Both clocks are CLOCK_MONOTONIC on one machine: health was answered while synthesis was still going on.
    last_done = max(e["t"] for e in events if e["event"] == "synthesis_finished")
    assert answered_at < last_done
    assert TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav("Still here.")
