"""How Billy talks to a model: its sampling, whether it is offered tools, how long a prompt and reply it copes with.

A model of a hundred million parameters (the offline default, SmolLM2 135M) loops ("I'm a fish, I like to do all
day, I'm a fish, ...") and babbles on the full persona prompt with the server's default sampling, and it never
calls a tool: its catalogue entry's "chat" block says what keeps it to plain sentences (a short prompt, a repeat
penalty, a low temperature, no tools, three sentences). A catalogue brain served by Ollama (asked for by the name
Ollama's library gives it) gets the same profile. Any model the catalogue does not know (Ollama's `qwen2.5:1.5b`,
OpenAI's) gets the full prompt, the tools and the server's own sampling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billy.models.catalogue import UnknownModelError, find_brain


@dataclass(frozen=True)
class ChatProfile:
    short_prompt: bool = False  # the persona's instructions and strongest traits only (Persona.system_prompt)
    tools: bool = True
    max_sentences: int = 0  # Billy stops the reply after this many whole sentences; 0: no cap
    sampling: dict[str, Any] = field(default_factory=dict)  # merged into each /chat/completions request
    # Tools a model misuses, not offered to it. Qwen 1.5B answers "Which day comes after Monday?" with
    # conversation_state and no words; without it, Billy still waits for an answer when he asked a question.
    left_out: frozenset[str] = frozenset()

    def offered(self, tools: list[dict] | None) -> list[dict]:
        """The tools this model is offered of `tools`: none when it takes none, else all but those left out."""
        if not tools or not self.tools:
            return []
        return [tool for tool in tools if tool["function"]["name"] not in self.left_out]


FULL = ChatProfile()


def profile_for(model: str) -> ChatProfile:
    try:
        chat = find_brain(model).chat
    except UnknownModelError:
        return FULL
    return ChatProfile(
        short_prompt=chat.get("prompt") == "short",
        tools=bool(chat.get("tools", True)),
        max_sentences=int(chat.get("max_sentences", 0)),
        sampling=dict(chat.get("sampling", {})),
        left_out=frozenset(chat.get("left_out", ())),
    )
