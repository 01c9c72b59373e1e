"""Stand-ins for the far side of a protocol, on real sockets: an OpenAI-style LLM server with scripted
replies, and Home Assistant's conversation API. Billy's own code is never replaced."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


@dataclass
class Reply:
    """One scripted answer: text streamed word by word, and/or tool calls; or a failure."""

    text: str = ""
    tool_calls: list[tuple[str, str]] = field(default_factory=list)  # (name, arguments JSON text)
    word_delay: float = 0.03
    hang: float = 0.0  # seconds to wait before answering (a timeout test)
    status: int = 200
    # Only for a request whose user message has these words: a draft started at a pause inside the question
    # (and dropped when the user went on) must not take the answer meant for the whole question.
    when: str = ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class StandIn:
    def __init__(self, handler_class) -> None:
        self.requests: list[dict] = []
        self.server = _Server(("127.0.0.1", 0), handler_class)
        self.server.standin = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedLlm(StandIn):
    def __init__(self, model: str = "billy-test") -> None:
        self.model = model
        self.script: deque[Reply] = deque()
        self.default = Reply("Blub. I am a fish.")
        self.finished_at: list[float] = []  # time.monotonic() when each streamed reply was complete
        self.answering_at: list[float] = []  # time.monotonic() when each streamed reply began
        self.hung_up: list[dict] = []  # requests whose client closed the stream before its end (cancelled)
        self.warm_ups: list[dict] = []  # non-streaming one-token requests (Billy warming the engine up)
        self._last: tuple[_Step, Reply] | None = None  # the last streamed request's step and the reply it got
        self._picking = threading.Lock()  # requests arrive on the server's threads
        super().__init__(_LlmHandler)

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def then(self, *replies: Reply) -> ScriptedLlm:
        self.script.extend(replies)
        return self

    def next_reply(self, body: dict) -> Reply:
        """The first scripted reply meant for this request (see `Reply.when`), else the default.

        A draft started at a pause inside the question asks with the words so far; when the user goes on, Billy
        drops it and asks again with the whole question. That second request is the same step of the
        conversation, so it gets the reply the draft took (a script is a list of steps, not of requests), unless
        a reply is keyed to it (`Reply.when`).
        """
        step = _Step.of(body["messages"])
        with self._picking:
            return self._pick(step)

    def _pick(self, step: _Step) -> Reply:
        redone = self._last is not None and step.goes_on_from(self._last[0]) and self._last[1] is not self.default
        if redone and not any(reply.when and _meant_for(reply, step) for reply in self.script):
            self.script.appendleft(self._last[1])  # unless a reply is keyed to the words the draft did not have
        reply = next((r for r in self.script if _meant_for(r, step)), None)
        if reply is None:
            reply = self.default
        else:
            self.script.remove(reply)
        self._last = (step, reply)
        return reply


class _Step(NamedTuple):
    """Where a request stands in the conversation: what came before, and the words of its last message."""

    history: str
    role: str
    words: str

    @classmethod
    def of(cls, messages: list[dict]) -> _Step:
        last = messages[-1]
        return cls(json.dumps(messages[:-1], sort_keys=True), last.get("role", ""), _words(last.get("content") or ""))

    def goes_on_from(self, earlier: _Step) -> bool:
        """The same question with more words: the earlier one's (all but its last, which the pause may have
        cut mid-word) begin this one's, and this one is longer."""
        if self.role != "user" or earlier.role != "user" or self.history != earlier.history:
            return False
        mine, theirs = self.words.split(), earlier.words.split()
        return len(mine) > len(theirs) and mine[: len(theirs) - 1] == theirs[:-1]


def _meant_for(reply: Reply, step: _Step) -> bool:
    return not reply.when or f" {_words(reply.when)} " in f" {step.words} "


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _chunk(model: str, delta: dict, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class _LlmHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        standin = self.server.standin
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": standin.model, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        standin = self.server.standin
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions":  # OpenAI's and Ollama's API: no template or raw prompt of llama.cpp
            self._json(404, {"error": {"message": f"no such path: {self.path}"}})
            return
        if not body.get("stream"):
            standin.warm_ups.append(body)
            first_word = standin.default.text.split(" ")[0]
            message = {"role": "assistant", "content": first_word}
            self._json(200, {"object": "chat.completion", "choices": [{"index": 0, "message": message}]})
            return
        request = {"body": body, "headers": dict(self.headers)}
        standin.requests.append(request)
        reply = standin.next_reply(body)
        if reply.hang:
            time.sleep(reply.hang)
        if reply.status != 200:
            self._json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        standin.answering_at.append(time.monotonic())
        try:
            self._send(_chunk(standin.model, {"role": "assistant", "content": ""}))
            words = reply.text.split(" ") if reply.text else []
            limit = body.get("max_tokens") or len(words)  # a word a token, as a real server counts them
            for index, word in enumerate(words[:limit]):
                time.sleep(reply.word_delay)
                self._send(_chunk(standin.model, {"content": word if index == 0 else " " + word}))
            for index, (name, arguments) in enumerate(reply.tool_calls):
                call = {"index": index, "id": f"call_{index}", "type": "function"}
                self._send(
                    _chunk(standin.model, {"tool_calls": [{**call, "function": {"name": name, "arguments": ""}}]})
                )
                half = len(arguments) // 2
                for part in (arguments[:half], arguments[half:]):
                    self._send(
                        _chunk(standin.model, {"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                    )
            finish = "length" if len(words) > limit else "tool_calls" if reply.tool_calls else "stop"
            self._send(_chunk(standin.model, {}, finish))
            self._send(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            standin.finished_at.append(time.monotonic())
        except (BrokenPipeError, ConnectionResetError):
            standin.hung_up.append(request)  # the client hung up: a barge-in, or a dropped draft

    def _send(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


class HomeAssistantStandIn(StandIn):
    """`GET /api/` and `POST /api/conversation/process` as Home Assistant answers them, bearer token checked.

    Without `intents` every sentence is a command done and answered with `speech`. With `intents` (sentence ->
    answer) it answers like Home Assistant's own intent engine: a known sentence (case and punctuation aside)
    is `action_done`, anything else the `error` response with code `no_intent_match`.
    """

    def __init__(
        self, token: str, speech: str = "", intents: dict[str, str] | None = None, entities: list[str] | None = None
    ) -> None:
        self.token = token
        self.speech = speech
        self.intents = None if intents is None else {_sentence(key): value for key, value in intents.items()}
        self.entities = entities or []  # friendly names, as `GET /api/states` lists them
        super().__init__(_HaHandler)

    def answer(self, text: str, language: str) -> dict:
        if self.intents is None or _sentence(text) in self.intents:
            speech = self.speech if self.intents is None else self.intents[_sentence(text)]
            response_type, data = "action_done", {"targets": [], "success": [], "failed": []}
        elif _sentence(text).startswith(("turn on ", "turn off ", "switch on ", "switch off ")):
            # A home command whose device it does not know: Home Assistant's own words for that.
            speech, response_type = "Sorry, I am not aware of any device called that", "error"
            data = {"code": "no_valid_targets"}
        else:
            speech, response_type, data = "Sorry, I couldn't understand that", "error", {"code": "no_intent_match"}
        return {
            "response": {
                "response_type": response_type,
                "language": language,
                "speech": {"plain": {"speech": speech, "extra_data": None}},
                "card": {},
                "data": data,
            },
            "conversation_id": None,
        }


def _sentence(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


class _HaHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        """`/api/`: Home Assistant's "is the API up and is this token good" endpoint."""
        standin = self.server.standin
        standin.requests.append({"path": self.path, "body": None, "headers": dict(self.headers)})
        authorised = self.headers.get("Authorization") == f"Bearer {standin.token}"
        status, answer = (200, {"message": "API running."}) if authorised else (401, {"message": "Unauthorized"})
        if self.path == "/api/states" and authorised:
            answer = [
                {"entity_id": f"light.{_sentence(name).replace(' ', '_')}", "state": "off",
                 "attributes": {"friendly_name": name}}
                for name in standin.entities
            ]  # fmt: skip
        elif self.path != "/api/":
            status, answer = 404, {"message": "Not found"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        standin = self.server.standin
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        standin.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        if self.headers.get("Authorization") != f"Bearer {standin.token}":
            self.send_response(401)
            self.end_headers()
            return
        data = json.dumps(standin.answer(str(body.get("text", "")), body.get("language", "en"))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class OpenAiStandIn(StandIn):
    """OpenAI's API as Billy uses it (transcriptions, chat completions, speech), bearer key checked.

    Behind it: the real STT and TTS services and the scripted LLM, reshaped to OpenAI's protocol where it
    differs from Billy's services (speech `pcm` is 24 kHz and carries no rate header).
    """

    def __init__(self, key: str, stt_url: str, tts_url: str, llm_url: str) -> None:
        self.key = key
        self.backends = {
            "/v1/audio/transcriptions": stt_url,
            "/v1/audio/speech": tts_url,
            "/v1/chat/completions": llm_url,
        }
        super().__init__(_OpenAiHandler)


class _OpenAiHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        import httpx
        import numpy as np
        import soxr

        standin = self.server.standin
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        standin.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.headers.get("Authorization") != f"Bearer {standin.key}":
            self._reply(401, b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}')
            return
        backend = standin.backends.get(self.path)
        if backend is None:
            self._reply(404, b'{"error": {"message": "unknown path"}}')
            return
        if self.path == "/v1/audio/speech":
            # OpenAI's voices (alloy, ash...) are not piper's: the local default voice stands in for them all.
            body = json.dumps({**json.loads(body), "voice": None}).encode()
        upstream = httpx.post(
            backend + self.path[len("/v1") :],
            content=body,
            headers={"Content-Type": self.headers["Content-Type"]},
            timeout=60,
        )
        content = upstream.content
        if self.path == "/v1/audio/speech" and json.loads(body).get("response_format") == "pcm":
            rate = int(upstream.headers["x-sample-rate"])
            samples = np.frombuffer(content, dtype="<i2")
            content = soxr.resample(samples, rate, 24000).astype("<i2").tobytes()
        self._reply(upstream.status_code, content, upstream.headers.get("content-type", "application/json"))

    def _reply(self, status: int, content: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
