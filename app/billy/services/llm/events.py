"""What a streamed chat reply is made of: text, the budget's end, the server's cut, tool calls."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Overtime:
    """The reply has written its budget of tokens (LLM_MAX_TOKENS): the sentence under way is to be its last."""


@dataclass(frozen=True)
class CutOff:
    """The server stopped the reply at its token limit, in the middle of a sentence."""


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text as the model wrote it: may be malformed, the caller validates


Event = TextDelta | Overtime | CutOff | ToolCall
