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
# The most a chat template writes after a message's words and before the reply ("<|im_end|>\n<|im_start|>
# assistant\n" is 32 characters): text past the words that is longer is not that opening, and not read ahead.
OPENING_CHARS = 200


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
        self._raw_prompts: bool | None = None  # whether the engine reads raw prompts (llama.cpp): None until asked

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

    def read_ahead(self, messages: list[dict], tools: list[dict] | None = None) -> int | None:
        """Have the engine read these messages into its cache up to the end of the last one's words, and no
        further: not the reply's opening the chat template adds after them, and no token of a reply. The next
        request, on the same messages with more words, shares the whole prefix read here; the opening and a
        token would be thrown away with it (on Qwen 1.5B here, about 0.3 s of both cores per read-ahead, which
        the last one before the pause takes from the transcript and the turn's own request).

        llama.cpp's server renders its template (/apply-template) and reads a raw prompt without writing
        (/completion, n_predict 0); an engine without them (Ollama, a cloud) gets `warm_up`, from then on.
        Returns how many tokens of the prompt the engine now holds, where it says (llama.cpp), else None."""
        if self._raw_prompts is not False:
            try:
                rendered = self._rendered(messages, tools)
                if rendered is None:
                    self._raw_prompts = False  # not llama.cpp: the chat request is the one way in
                elif (words := _up_to_the_words(rendered, messages[-1]["content"])) is not None:
                    self._raw_prompts = True
                    return self._read(words)
            except httpx.HTTPError as error:
                raise no_answer("llm", self.base_url, error) from None
        self.warm_up(messages, tools)
        return None

    def _rendered(self, messages: list[dict], tools: list[dict] | None) -> str | None:
        """The chat template's text for `messages`, as the engine renders it for a chat request; None if it
        does not render templates for others (not llama.cpp's server)."""
        if not self.base_url.endswith("/v1") or not messages or not isinstance(messages[-1].get("content"), str):
            return None
        body: dict = {"messages": messages}
        if offered := self.profile.offered(tools):
            body["tools"] = offered
        response = self._http.post(
            f"{self._server}/apply-template", json=body, headers=auth_headers(self.api_key), timeout=self.timeout
        )
        return _field(response, "prompt", str) if response.status_code == 200 else None

    def _read(self, prompt: str) -> int | None:
        response = self._http.post(
            f"{self._server}/completion",
            json={"prompt": prompt, "n_predict": 0, "cache_prompt": True},
            headers=auth_headers(self.api_key),
            timeout=max(self.timeout, WARM_UP_TIMEOUT_S),
        )
        if response.status_code != 200:
            raise ServiceError("llm", error_message(response))
        return _field(response, "tokens_evaluated", int)

    @property
    def _server(self) -> str:
        """llama.cpp's own paths are beside its OpenAI ones, not under /v1."""
        return self.base_url.removesuffix("/v1")


def _up_to_the_words(prompt: str, words: str) -> str | None:
    """`prompt` cut after the last `words` in it, if only the reply's opening follows them; else None."""
    end = prompt.rfind(words)
    if not words or end < 0 or len(prompt) - end - len(words) > OPENING_CHARS:
        return None
    return prompt[: end + len(words)]


def _field(response: httpx.Response, name: str, kind: type):
    """The JSON body's `name`, if the body is a JSON object and the value a `kind`; else None."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError):  # not a JSON object: not the server it looked like
        return None
    return value if isinstance(value, kind) else None


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
