"""A stand-in Realtime API for the tests and `make bench` (never a cloud figure), on a real WebSocket, as OpenAI
documents it (xAI's follows it): session.update, audio appended and committed (by the client, or by the server's
voice detector when the session asks for `server_vad`), the question's transcription,
response audio and transcript deltas, function calls and their outputs, response.cancel, error events, usage in
response.done. Behind it: the real STT service hears the question and the real TTS service voices the scripted
reply (resampled to the API's 24 kHz)."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.sync.server import ServerConnection, serve

from billy.audio.pcm import resample, wav_bytes
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient

RATE = 24000
DELTA_SAMPLES = RATE // 5  # 200 ms of audio per delta
VAD_WINDOW = RATE // 100  # the stand-in's voice detector looks at 10 ms at a time
SPEECH_PEAK = 300  # PCM16 amplitude above which a window is speech


class ServerVad:
    """The server's voice detector (`server_vad`): speech starts at a loud window and stops after the session's
    `silence_duration_ms` of quiet, counted in the audio's own time (as the server does), not by a clock."""

    def __init__(self, silence_ms: int) -> None:
        self.silence_windows = max(1, silence_ms // 10)
        self.speaking = False
        self._quiet = 0
        self._pending = np.zeros(0, dtype="<i2")

    def hear(self, samples: np.ndarray) -> list[str]:
        """What the audio appended says: "started" and "stopped", in order."""
        self._pending = np.concatenate([self._pending, samples])
        said = []
        while len(self._pending) >= VAD_WINDOW:
            window, self._pending = self._pending[:VAD_WINDOW], self._pending[VAD_WINDOW:]
            if np.abs(window.astype(np.int32)).max() > SPEECH_PEAK:
                self._quiet = 0
                if not self.speaking:
                    self.speaking = True
                    said.append("started")
            elif self.speaking:
                self._quiet += 1
                if self._quiet >= self.silence_windows:
                    self.speaking, self._quiet = False, 0
                    said.append("stopped")
        return said


@dataclass
class Speak:
    """A reply in words; `hold`: the response stays open after its audio until the client cancels it."""

    text: str
    hold: bool = False


@dataclass
class CallFunction:
    name: str
    arguments: dict


@dataclass
class DropMidTurn:
    """Some of the reply's audio, then the connection is gone (the network lost in the middle of a turn)."""

    text: str


@dataclass
class ErrorEvent:
    code: str
    message: str


@dataclass
class Garbage:
    """A frame that is not an event (a broken proxy, a truncated message)."""

    text: str


@dataclass
class RealtimeStandIn:
    key: str
    stt_url: str
    tts_url: str
    script: deque = field(default_factory=deque)
    received: list[dict] = field(default_factory=list)  # every client event, audio appends without their audio
    sessions: list[dict] = field(default_factory=list)
    function_outputs: list[dict] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    paths: list[str] = field(default_factory=list)  # each connection's path: /v1/realtime?model=...
    deaf_detector: bool = False  # the server's voice detector never hears the question end (Billy's rule must)
    # The client's events and the server's voice detector and commits, in order: "client:response.create".
    timeline: list[str] = field(default_factory=list)
    connections: int = 0
    refused: int = 0
    _holding: str = ""  # a response left open (Speak(hold=True)) until the client cancels it

    def start(self) -> RealtimeStandIn:
        self._server = serve(self._talk, "127.0.0.1", 0, process_request=self._check_key)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def base_url(self) -> str:
        """The provider's https base, as Billy's settings name it (wss is derived from it)."""
        return f"http://127.0.0.1:{self._server.socket.getsockname()[1]}/v1"

    def then(self, *steps) -> None:
        self.script.extend(steps)

    def close(self) -> None:
        self._server.shutdown()

    def _check_key(self, connection: ServerConnection, request) -> Response | None:
        self.paths.append(request.path)
        if request.headers.get("Authorization") != f"Bearer {self.key}" or not request.path.startswith(
            "/v1/realtime?model="
        ):
            self.refused += 1
            return connection.respond(401, "Incorrect API key provided\n")
        return None

    def _talk(self, connection: ServerConnection) -> None:
        self.connections += 1
        ids = itertools.count(1)
        connection.send(json.dumps({"type": "session.created", "session": {"id": f"sess_{self.connections}"}}))
        audio, vad, answers = bytearray(), None, True
        for message in connection:
            event = json.loads(message)
            kind = event["type"]
            self._heard_from_client(event)
            if kind == "session.update":
                self.sessions.append(event["session"])
                detection = event["session"].get("audio", {}).get("input", {}).get("turn_detection") or {}
                if detection.get("type") == "server_vad" and not self.deaf_detector:
                    vad = ServerVad(int(detection.get("silence_duration_ms", 500)))
                    answers = detection.get("create_response", True)
                connection.send(json.dumps({"type": "session.updated", "session": event["session"]}))
            elif kind == "input_audio_buffer.append":
                chunk = base64.b64decode(event["audio"])
                audio += chunk
                for said in vad.hear(np.frombuffer(chunk, dtype="<i2")) if vad is not None else ():
                    self.timeline.append(f"server:input_audio_buffer.speech_{said}")
                    connection.send(json.dumps({"type": f"input_audio_buffer.speech_{said}", "item_id": "item_q"}))
                    if said == "stopped":
                        self._commit(connection, audio)
                        if answers and not self._respond(connection, f"resp_{next(ids)}"):
                            return
            elif kind == "input_audio_buffer.commit":
                self._commit(connection, audio)
            elif kind == "conversation.item.create" and event["item"]["type"] == "function_call_output":
                self.function_outputs.append(event["item"])
            elif kind == "response.create":
                if not self._respond(connection, f"resp_{next(ids)}"):
                    return
            elif kind == "response.cancel":
                self.cancelled.set()
                if self._holding:
                    self._done(connection, self._holding, "cancelled")
                    self._holding = ""

    def _heard_from_client(self, event: dict) -> None:
        self.received.append({k: v for k, v in event.items() if k != "audio"})
        self.timeline.append(f"client:{event['type']}")

    def _commit(self, connection: ServerConnection, audio: bytearray) -> None:
        """The buffer becomes the question: committed, transcribed by the real STT service, and emptied."""
        self.timeline.append("server:input_audio_buffer.committed")
        connection.send(json.dumps({"type": "input_audio_buffer.committed", "item_id": "item_q"}))
        heard = SttClient(self.stt_url).hear(wav_bytes(bytes(audio), RATE)).text
        audio.clear()
        event = {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_q",
            "content_index": 0,
            "transcript": heard,
        }
        connection.send(json.dumps(event))

    def _respond(self, connection: ServerConnection, response_id: str) -> bool:
        """One scripted response; False when the connection was dropped."""
        step = self.script.popleft() if self.script else Speak("Blub.")
        connection.send(json.dumps({"type": "response.created", "response": {"id": response_id}}))
        if isinstance(step, Garbage):
            connection.send(step.text)
            return True
        if isinstance(step, ErrorEvent):
            connection.send(
                json.dumps(
                    {
                        "type": "error",
                        "error": {"type": "invalid_request_error", "code": step.code, "message": step.message},
                    }
                )
            )
            return True
        if isinstance(step, CallFunction):
            connection.send(
                json.dumps(
                    {
                        "type": "response.function_call_arguments.done",
                        "response_id": response_id,
                        "call_id": f"call_{response_id}",
                        "name": step.name,
                        "arguments": json.dumps(step.arguments),
                    }
                )
            )
            self._done(connection, response_id, "completed")
            return True
        samples = self._voice(step.text)
        if isinstance(step, DropMidTurn):
            self._deltas(connection, response_id, samples[: len(samples) // 3])
            connection.close()
            return False
        if not self._deltas(connection, response_id, samples):
            return True
        connection.send(
            json.dumps(
                {"type": "response.output_audio_transcript.done", "response_id": response_id, "transcript": step.text}
            )
        )
        if step.hold:  # the rest of a long reply would come: open until the client cancels it (barge-in)
            self._holding = response_id
            return True
        self._done(connection, response_id, "completed")
        return True

    def _voice(self, text: str) -> np.ndarray:
        with TtsClient(self.tts_url).stream(text) as (rate, chunks):
            samples = np.frombuffer(b"".join(chunks), dtype="<i2")
        return resample(samples, rate, RATE).astype("<i2")

    def _deltas(self, connection: ServerConnection, response_id: str, samples: np.ndarray) -> bool:
        """The reply's audio; between deltas, what the client sent meanwhile, as a real server reads while it
        streams. False when a cancel stopped it."""
        for start in range(0, len(samples), DELTA_SAMPLES):
            if self._cancel_arrived(connection):
                with contextlib.suppress(ConnectionClosed):  # the client may hang up right after its cancel
                    self._done(connection, response_id, "cancelled")
                return False
            chunk = samples[start : start + DELTA_SAMPLES].tobytes()
            delta = {
                "type": "response.output_audio.delta",
                "response_id": response_id,
                "delta": base64.b64encode(chunk).decode(),
            }
            try:
                connection.send(json.dumps(delta))
            except ConnectionClosed:  # the client cancelled and hung up between two deltas: read what it sent
                self._cancel_arrived(connection)
                return False
        return True

    def _cancel_arrived(self, connection: ServerConnection) -> bool:
        try:
            while True:
                event = json.loads(connection.recv(timeout=0))
                self._heard_from_client(event)
                if event["type"] == "response.cancel":
                    self.cancelled.set()
                    return True
        except (TimeoutError, ConnectionClosed):  # closed: what the client sent before is read first
            return False

    @staticmethod
    def _done(connection: ServerConnection, response_id: str, status: str) -> None:
        usage = {
            "total_tokens": 180,
            "input_tokens": 120,
            "output_tokens": 60,
            "input_token_details": {"audio_tokens": 100, "text_tokens": 20},
            "output_token_details": {"audio_tokens": 50, "text_tokens": 10},
        }
        connection.send(
            json.dumps({"type": "response.done", "response": {"id": response_id, "status": status, "usage": usage}})
        )
