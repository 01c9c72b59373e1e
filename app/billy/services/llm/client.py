"""Streaming `/v1/chat/completions` with tools, as Ollama, llama.cpp's server and OpenAI all speak it.

The stream yields text deltas as they arrive and, at the end, the complete tool calls (their argument
fragments joined). Closing the generator early closes the HTTP response, which is how a barge-in cancels
generation on the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from billy.services.client import ServiceError, auth_headers, error_message, kept_connection, no_answer
from billy.services.llm import text_calls
from billy.services.llm.events import CutOff, Event, Overtime, TextDelta, ToolCall
from billy.services.llm.profile import FULL, ChatProfile

__all__ = ["ChatClient", "CutOff", "Event", "Overtime", "TextDelta", "ToolCall"]


# Tokens a reply may write past its budget, asked of the server so that its last sentence can end whole.
OVERTIME_TOKENS = 48
# A cold 1.5B brain reads the persona and tools (about 1,500 tokens) in 40 s on two x86 cores, longer on a Pi:
# the warm-up waits for it once at start, so that no question does.
WARM_UP_TIMEOUT_S = 600


class ChatClient:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30,
        max_tokens: int = 200,
        profile: ChatProfile = FULL,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.max_tokens = max_tokens
        self.temperature: float | None = None  # the server's default unless set (the benchmark runs greedy)
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._http = kept_connection()

    def stream(self, messages: list[dict], tools: list[dict] | None = None) -> Iterator[Event]:
        """The reply's events; Overtime once `max_tokens` were written, CutOff if the server stopped it mid-way."""
        # A spoken answer is short; the cap also bounds a rambling model's time on the Pi's CPU. The server may
        # go a little past it, so that the sentence under way ends whole (the pipeline stops at its end).
        body: dict = {"model": self.model, "messages": messages, "stream": True}
        body["max_tokens"] = self.max_tokens + OVERTIME_TOKENS
        body.update(self.profile.sampling)
        if offered := self.profile.offered(tools):
            body["tools"] = offered
        if self.temperature is not None:
            body["temperature"] = self.temperature
        timeout = httpx.Timeout(self.timeout, connect=min(5.0, self.timeout))
        try:
            with self._http.stream(
                "POST",
                f"{self.base_url}/chat/completions",
                json=body,
                headers=auth_headers(self.api_key),
                timeout=timeout,
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise ServiceError("llm", error_message(response))
                written = 0
                events = _parse_stream(response.iter_lines())
                if "tools" in body:  # a call a small model wrote as text becomes a real one
                    events = text_calls.recover(events, body["tools"])
                for event in events:
                    yield event
                    if isinstance(event, TextDelta):
                        written += 1  # a streamed delta is a token, as Ollama, llama.cpp and OpenAI send them
                        if written == self.max_tokens:
                            yield Overtime()
        except httpx.HTTPError as error:
            raise no_answer("llm", self.base_url, error) from None

    def warm_up(self, messages: list[dict], tools: list[dict] | None = None) -> None:
        """One token for this prompt, so the engine loads the model and caches the prompt's prefix."""
        body: dict = {"model": self.model, "messages": messages, "stream": False, "max_tokens": 1}
        if offered := self.profile.offered(tools):  # the same prefix as the turns' requests, or the cache is wasted
            body["tools"] = offered
        try:
            response = self._http.post(
                f"{self.base_url}/chat/completions",
                json=body,
                headers=auth_headers(self.api_key),
                timeout=max(self.timeout, WARM_UP_TIMEOUT_S),
            )
        except httpx.HTTPError as error:
            raise no_answer("llm", self.base_url, error) from None
        if response.status_code != 200:
            raise ServiceError("llm", error_message(response))


def _parse_stream(lines: Iterator[str]) -> Iterator[Event]:
    calls: dict[int, dict] = {}
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
            choices = chunk.get("choices") or []
        except (ValueError, AttributeError, RecursionError):
            raise ServiceError("llm", f"the server sent a line that is not a JSON chunk: {data[:120]!r}") from None
        for choice in choices:
            if choice.get("finish_reason") == "length":
                yield CutOff()
            delta = choice.get("delta") or {}
            if delta.get("content"):
                yield TextDelta(delta["content"])
            for fragment in delta.get("tool_calls") or []:
                call = calls.setdefault(fragment.get("index", len(calls)), {"id": "", "name": "", "arguments": ""})
                call["id"] = fragment.get("id") or call["id"]
                function = fragment.get("function") or {}
                call["name"] += function.get("name") or ""
                call["arguments"] += function.get("arguments") or ""
    for index in sorted(calls):
        call = calls[index]
        yield ToolCall(call["id"] or f"call_{index}", call["name"], call["arguments"])
