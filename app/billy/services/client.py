"""What the clients of Billy's services share: one error type naming the stage, and where health lives."""

from __future__ import annotations

import httpx

# How long an idle kept connection is reused: below the services' own keep-alive (uvicorn's 5 s, llama.cpp's
# 5 s). At httpx's default, also 5 s, a request sent as the server closed the idle connection met a closed socket
# ("Server disconnected without sending a response"), a failed turn on a busy machine.
KEEPALIVE_S = 2.0


class ServiceError(RuntimeError):
    """A stage (stt, tts, llm) could not answer: down, timed out, or refused the request."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage


def kept_connection() -> httpx.Client:
    """An HTTP client that keeps its connections between requests: one per service client.

    `httpx.post()` builds a whole client for each request, its TLS context included even for plain http: 46 ms
    here, paid by each of a turn's STT, LLM and TTS requests, against 0.9 ms on a kept connection.
    """
    return httpx.Client(limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S))


def health_url(base_url: str) -> str:
    """`http://host:5003/v1` -> `http://host:5003/api/health` (Billy's services keep health off /v1)."""
    root = base_url.rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")]
    return root + "/api/health"


def get_health(stage: str, base_url: str) -> dict:
    """The service's health document; ServiceError if it is unreachable or not ready."""
    try:
        response = httpx.get(health_url(base_url), timeout=5)
    except httpx.HTTPError as error:
        raise ServiceError(stage, f"unreachable at {base_url}: {error}") from None
    if response.status_code != 200:
        raise ServiceError(stage, error_message(response))
    return response.json()


def no_answer(stage: str, base_url: str, error: httpx.HTTPError) -> ServiceError:
    return ServiceError(stage, f"no answer from {base_url}: {type(error).__name__} {error}")


def error_message(response: httpx.Response) -> str:
    """The message of an OpenAI-shaped error body, else the start of the body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}: {response.text[:200]}"


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}
