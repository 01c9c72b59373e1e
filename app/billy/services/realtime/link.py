"""One Realtime conversation turn over a WebSocket, as OpenAI's Realtime API (and xAI's, which follows it) speak.

Here the question is a recording (BRAIN=hybrid: the local pipeline heard it and failed), so the session has no
server VAD: the question's audio is appended, committed, and a response asked for (`live.py` streams a question
as it is spoken, for BRAIN=realtime). The reply's audio
deltas are handed on as they arrive, to be played and to move the fish as piper's audio does; a function call
is run and its output sent back for the model to go on speaking. The sync client of `websockets` fits Billy's
threads (each turn's workers block; none of them runs an event loop).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from billy.services.client import ServiceError

LOG = logging.getLogger(__name__)
RATE = 24000  # both providers' PCM16 rate, in and out
APPEND_SAMPLES = RATE // 10  # 100 ms of audio per append event
POLL_SECONDS = 0.1  # how often a blocked receive looks at the turn's stop
# The beta protocol's names for the same events (some servers, xAI's among them, still send them).
AUDIO_DELTAS = ("response.output_audio.delta", "response.audio.delta")
SAID_DONE = ("response.output_audio_transcript.done", "response.audio_transcript.done")
HEARD_DONE = "conversation.item.input_audio_transcription.completed"


class RealtimeError(ServiceError):
    """The cloud refused or dropped the turn; `setting` names what the owner can change, if anything."""

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__("realtime", message)
        self.setting = setting


@dataclass(frozen=True)
class RealtimeVoice:
    """Where the provider's Realtime API is and how Billy is to sound there."""

    provider: str
    url: str  # wss://api.openai.com/v1/realtime
    model: str
    api_key: str
    key_setting: str
    voice: str
    timeout: float  # seconds the cloud may stay silent within a turn

    def address(self) -> str:
        return f"{self.url}?model={self.model}"


@dataclass
class Call:
    """A function call the model made, by the Realtime API's call id."""

    call_id: str
    name: str
    arguments: str


@dataclass
class TurnUsage:
    """What a turn cost, from the provider's `response.done` usage."""

    input_tokens: int = 0
    output_tokens: int = 0
    input_audio_tokens: int = 0
    output_audio_tokens: int = 0

    def add(self, usage: dict) -> None:
        self.input_tokens += int(usage.get("input_tokens") or 0)
        self.output_tokens += int(usage.get("output_tokens") or 0)
        self.input_audio_tokens += int((usage.get("input_token_details") or {}).get("audio_tokens") or 0)
        self.output_audio_tokens += int((usage.get("output_token_details") or {}).get("audio_tokens") or 0)


@dataclass
class CloudUsage:
    """What the Realtime voice cost on one day: turns, audio seconds each way (counted here), tokens (theirs)."""

    day: str
    turns: int = 0
    audio_in_s: float = 0.0
    audio_out_s: float = 0.0
    tokens: TurnUsage = field(default_factory=TurnUsage)

    def summary(self) -> dict:
        return {
            "day": self.day,
            "turns": self.turns,
            "audio_in_min": round(self.audio_in_s / 60, 2),
            "audio_out_min": round(self.audio_out_s / 60, 2),
            "input_tokens": self.tokens.input_tokens,
            "output_tokens": self.tokens.output_tokens,
        }


@dataclass
class TurnEvents:
    """What the turn's worker is told as the reply comes."""

    on_heard: Callable[[str], None]
    on_audio: Callable[[np.ndarray], None]  # PCM16 samples at RATE
    on_said: Callable[[str], None]
    run_call: Callable[[Call], str]  # the function's output, as JSON text
    stopped: Callable[[], bool]  # the user interrupted, or the turn was dropped
    usage: TurnUsage = field(default_factory=TurnUsage)


def realtime_tools(chat_tools: list[dict]) -> list[dict]:
    """The chat API's tool schemas (`{"type": "function", "function": {...}}`) in the Realtime API's flat form."""
    return [{"type": "function", **tool["function"]} for tool in chat_tools]


def session_update(voice: RealtimeVoice, instructions: str, tools: list[dict], vad_silence_ms: int = 0) -> dict:
    """The session: Billy's persona, voice and tools; with `vad_silence_ms` the server's voice detector ends the
    question after that much silence (and leaves the response for Billy to ask), without it Billy commits."""
    turn_detection = None
    if vad_silence_ms:
        turn_detection = {
            "type": "server_vad",
            "silence_duration_ms": vad_silence_ms,
            "create_response": False,
            "interrupt_response": False,
        }
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "instructions": instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": RATE},
                    "transcription": {"model": "gpt-4o-mini-transcribe"},
                    "turn_detection": turn_detection,
                },
                "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": voice.voice},
            },
            "tools": realtime_tools(tools),
            "tool_choice": "auto",
        },
    }


def history_items(messages: list[dict]) -> Iterator[dict]:
    """The conversation so far as Realtime conversation items (text: what was heard and said)."""
    for message in messages:
        if message["role"] in ("user", "assistant") and message.get("content"):
            kind = "input_text" if message["role"] == "user" else "output_text"
            yield {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": message["role"],
                    "content": [{"type": kind, "text": message["content"]}],
                },
            }


def converse(
    voice: RealtimeVoice,
    instructions: str,
    tools: list[dict],
    history: list[dict],
    question: np.ndarray,
    events: TurnEvents,
) -> None:
    """One turn: `question` (PCM16 at RATE) asked with `history` before it; the reply handed to `events`."""
    with realtime_errors(voice), open_session(voice) as socket:
        socket.send(json.dumps(session_update(voice, instructions, tools)))
        for item in history_items(history):
            socket.send(json.dumps(item))
        for start in range(0, len(question), APPEND_SAMPLES):
            chunk = question[start : start + APPEND_SAMPLES].astype("<i2").tobytes()
            socket.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(chunk).decode()}))
        socket.send(json.dumps({"type": "input_audio_buffer.commit"}))
        socket.send(json.dumps({"type": "response.create"}))
        replies(socket, voice, events)


@contextlib.contextmanager
def realtime_errors(voice: RealtimeVoice) -> Iterator[None]:
    """Whatever goes wrong on the socket, as a RealtimeError that names the setting to change, if any."""
    try:
        yield
    except ConnectionClosed as closed:
        raise RealtimeError(f"{voice.provider} closed the connection mid-turn ({closed})") from None
    except InvalidStatus as refused:
        raise _refusal(voice, refused.response.status_code) from None
    except (OSError, TimeoutError, WebSocketException) as error:
        raise RealtimeError(f"{voice.provider} is unreachable at {voice.url}: {error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # not JSON, or an event without its fields
        raise RealtimeError(f"{voice.provider} sent an event Billy cannot read: {error!r}"[:300]) from None


def probe(voice: RealtimeVoice) -> None:
    """Connect and hear the session start: RealtimeError if the cloud cannot take a turn now."""
    try:
        with open_session(voice) as socket:
            event = json.loads(socket.recv(timeout=voice.timeout))
            if event.get("type") == "error":
                raise error_event(voice, event)
    except InvalidStatus as refused:
        raise _refusal(voice, refused.response.status_code) from None
    except (OSError, TimeoutError, WebSocketException, ValueError) as error:
        raise RealtimeError(f"{voice.provider} is unreachable at {voice.url}: {error}") from None


def open_session(voice: RealtimeVoice) -> ClientConnection:
    headers = {"Authorization": f"Bearer {voice.api_key}"}
    return connect(voice.address(), additional_headers=headers, open_timeout=voice.timeout, max_size=2**24)


def replies(socket: ClientConnection, voice: RealtimeVoice, events: TurnEvents) -> None:
    """Receive until the response is done and no function output is waiting for another response."""
    waited = 0.0
    calls_answered = False
    while True:
        if events.stopped():
            socket.send(json.dumps({"type": "response.cancel"}))
            return
        try:
            event = json.loads(socket.recv(timeout=POLL_SECONDS))
        except TimeoutError:
            waited += POLL_SECONDS
            if waited >= voice.timeout:
                raise RealtimeError(f"{voice.provider} said nothing for {voice.timeout:g} s") from None
            continue
        waited = 0.0
        kind = event.get("type", "")
        if kind in AUDIO_DELTAS:
            events.on_audio(np.frombuffer(base64.b64decode(event["delta"]), dtype="<i2"))
        elif kind == HEARD_DONE:
            events.on_heard(event.get("transcript", ""))
        elif kind in SAID_DONE:
            events.on_said(event.get("transcript", ""))
        elif kind == "response.function_call_arguments.done":
            output = events.run_call(Call(event["call_id"], event["name"], event.get("arguments", "")))
            socket.send(
                json.dumps(
                    {
                        "type": "conversation.item.create",
                        "item": {"type": "function_call_output", "call_id": event["call_id"], "output": output},
                    }
                )
            )
            calls_answered = True
        elif kind == "response.done":
            events.usage.add((event.get("response") or {}).get("usage") or {})
            status = (event.get("response") or {}).get("status", "completed")
            if status == "failed":
                raise RealtimeError(f"{voice.provider}'s response failed: {event['response'].get('status_details')}")
            if not calls_answered:
                return
            calls_answered = False  # the model speaks on with the functions' outputs
            socket.send(json.dumps({"type": "response.create"}))
        elif kind == "error":
            raise error_event(voice, event)


def error_event(voice: RealtimeVoice, event: dict) -> RealtimeError:
    error = event.get("error") or {}
    code, message = str(error.get("code") or error.get("type") or ""), str(error.get("message", ""))[:300]
    if code in ("invalid_api_key", "authentication_error"):
        return RealtimeError(f"{voice.provider} refused the key: {message}", voice.key_setting)
    if code in ("model_not_found", "invalid_model"):
        return RealtimeError(f"{voice.provider} cannot use model {voice.model}: {message}", "REALTIME_MODEL")
    if code in ("rate_limit_exceeded", "insufficient_quota"):
        return RealtimeError(f"{voice.provider} limits this account ({code}): {message}")
    return RealtimeError(f"{voice.provider} error {code or 'unknown'}: {message}")


def _refusal(voice: RealtimeVoice, status: int) -> RealtimeError:
    if status in (401, 403):
        return RealtimeError(f"{voice.provider} refused the key (HTTP {status})", voice.key_setting)
    if status == 404:
        return RealtimeError(f"{voice.provider} has no Realtime model {voice.model} (HTTP 404)", "REALTIME_MODEL")
    if status == 429:
        return RealtimeError(f"{voice.provider} limits this account (HTTP 429): try later")
    return RealtimeError(f"{voice.provider} answered HTTP {status}: the service may be down")
