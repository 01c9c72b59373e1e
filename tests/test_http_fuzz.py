"""Malformed HTTP at the STT and TTS services, over raw sockets: bad multipart, bad JSON, wrong methods, huge
headers, truncated bodies, broken chunking. Zero crashes (no 5xx, the process alive), the next good request
answered, memory bounded. `make test` sends a few dozen per service; `make fuzz` FUZZ_REQUESTS=1000 each.
"""

from __future__ import annotations

import json
import os
import random
import socket
from collections import Counter
from collections.abc import Callable

import numpy as np
from test_soak import rss_kib

from billy.audio.pcm import wav_bytes
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient

from billy_harness import TEST_TIMEOUT
from text_match import words

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "60"))
OUT = os.environ.get("FUZZ_OUT", "")
STT_PATH, TTS_PATH = "/v1/audio/transcriptions", "/v1/audio/speech"


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"", length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _multipart(rng: random.Random) -> tuple[dict[str, str], bytes]:
    boundary = "b" + str(rng.randrange(10**9))
    good_part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'.encode()
        + wav_bytes(np.zeros(1600, np.int16), 16000)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    choices = [
        good_part[: rng.randrange(1, len(good_part))],  # cut anywhere
        good_part.replace(boundary.encode(), b"other", 1),  # the first boundary is wrong
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{boundary}--\r\n".encode(),  # no name
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'.encode() + rng.randbytes(500),
        rng.randbytes(rng.randrange(0, 2000)),
        f'--{boundary}\r\nContent-Disposition: form-data; name="language"\r\n\r\n\xff\xfe\r\n--{boundary}--'.encode(
            "latin-1"
        ),
        f'--{boundary}\r\nContent-Disposition: form-data; name="sample_rate"\r\n\r\n-7\r\n'.encode() + good_part,
        (f'--{boundary}\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n' * 50).encode()  # many fields
        if (n := rng.randrange(9))
        else b"",
    ]
    content_type = rng.choice(
        [
            f"multipart/form-data; boundary={boundary}",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/mixed; boundary=x",
            "text/plain",
        ]
    )
    return {"Content-Type": content_type}, rng.choice(choices)


def _json(rng: random.Random) -> tuple[dict[str, str], bytes]:
    bodies = [
        b"",
        b"{",
        b"null",
        b"[]",
        b'{"input": 5}',
        b'{"input": "hi", "speed": "fast"}',
        b'{"input": "hi", "speed": 1e999}',
        b'{"input": "hi", "voice": 7}',
        b'{"input": "hi", "voice": "../../etc/passwd"}',
        b'{"input": "hi", "response_format": ["wav"]}',
        b'{"input": "\xff\xfe"}',
        b'{"input": "\\ud800"}',
        b'{"a":' * 500 + b"1" + b"}" * 500,
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"input": "x" * 5000}).encode(),
        rng.randbytes(rng.randrange(1, 3000)),
    ]
    content_type = rng.choice(["application/json", "application/json; charset=latin-1", "text/html", ""])
    return ({"Content-Type": content_type} if content_type else {}), rng.choice(bodies)


def fuzz_requests(rng: random.Random, path: str, count: int) -> list[tuple[str, bytes, bool]]:
    """(kind, raw request, whether it ends early): the client shuts its side once this is sent."""
    made = []
    while len(made) < count:
        kind = rng.choice(["multipart", "json", "method", "huge header", "truncated", "chunked", "path"])
        if kind in ("multipart", "json"):
            headers, body = (_multipart if kind == "multipart" else _json)(rng)
            made.append((kind, _request("POST", path, headers, body, len(body)), False))
        elif kind == "method":
            method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW", "G E T", "\x00"])
            made.append((kind, _request(method, rng.choice([path, "/api/health"]), {}, b"", 0), False))
        elif kind == "huge header":
            size = rng.choice([9000, 70_000, 300_000])
            made.append((kind, _request("POST", path, {"X-Big": "a" * size}, b"{}", 2), False))
        elif kind == "truncated":
            headers, body = (_multipart if rng.random() < 0.5 else _json)(rng)
            made.append((kind, _request("POST", path, headers, body[: len(body) // 2], len(body) + 10), True))
        elif kind == "chunked":
            headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}
            # Bad chunk sizes, or a body cut short; a cut body is followed by closing (else both sides wait).
            body, cut = rng.choice(
                [
                    (b"zz\r\nabc\r\n0\r\n\r\n", False),
                    (b"5\r\nab", True),
                    (b"fffffffffff\r\n", True),
                    (b"3\r\nabc\r\n", True),
                ]
            )
            made.append((kind, _request("POST", path, headers, body), cut))
        else:
            bad_path = rng.choice(["/", "/%", "/v1/../../etc/passwd", "/" + "a" * 5000, "/api/requests/\x7f"])
            made.append((kind, _request("GET", bad_path, {}), False))
    return made


def _send(port: int, raw: bytes, end_early: bool) -> int | None:
    """The status the server answered, or None when it closed without a response (allowed for broken input)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        try:
            connection.sendall(raw)
            if end_early:
                connection.shutdown(socket.SHUT_WR)
            answer = connection.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return None
    if not answer.startswith(b"HTTP/1."):
        return None
    return int(answer.split()[1])


def _fuzz(service, path: str, seed: int, still_works: Callable[[], None]) -> dict:
    rng = random.Random(seed)
    requests = fuzz_requests(rng, path, REQUESTS)
    pid = service.process.pid
    warm = max(1, len(requests) // 10)
    statuses: Counter = Counter()
    rss = []
    for index, (kind, raw, end_early) in enumerate(requests):
        status = _send(service.port, raw, end_early)
        statuses[str(status)] += 1
        assert status is None or status < 500, (kind, raw[:300], status)
        assert service.process.poll() is None, f"the service died on {kind}: {raw[:300]!r}"
        if index + 1 in (warm, len(requests)):
            rss.append(rss_kib(pid))
    still_works()
    return {
        "requests": len(requests),
        "statuses": dict(statuses),
        "rss_kib_after_warm_up": rss[0],
        "rss_kib_last": rss[-1],
    }


def test_stt_survives_malformed_requests(stt_service, tts_service):
    wav = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT).speak_wav("Good morning.")

    def still_hears() -> None:
        heard = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(wav)
        assert words(heard) == ["good", "morning"], f"after the fuzz the STT heard {heard!r}"

    _report("stt-server", _fuzz(stt_service, STT_PATH, 11, still_hears))


def test_tts_survives_malformed_requests(tts_service):
    tts = TtsClient(tts_service.base_url, timeout=TEST_TIMEOUT)
    before = tts.speak_wav("Still here.")  # the tests' voice is deterministic: the same text, the same audio

    def still_speaks() -> None:
        assert tts.speak_wav("Still here.") == before, "after the fuzz the TTS said it differently"

    _report("tts-server", _fuzz(tts_service, TTS_PATH, 12, still_speaks))


def _report(name: str, figures: dict) -> None:
    print(name, json.dumps(figures))
    if OUT:
        from pathlib import Path

        out = Path(OUT)
        out.parent.mkdir(parents=True, exist_ok=True)
        known = json.loads(out.read_text()) if out.exists() else {}
        out.write_text(json.dumps({**known, name: figures}, indent=2) + "\n")
    if REQUESTS >= 500:
        assert figures["rss_kib_last"] < figures["rss_kib_after_warm_up"] * 1.1, figures
