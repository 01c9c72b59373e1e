"""The session's memory: the system prompt from the persona, and the last turns, bounded."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from billy.languages import language_name
from billy.persona.persona import Persona


class Conversation:
    def __init__(self, persona: Persona, max_turns: int = 8, short_prompt: bool = False) -> None:
        self.persona = persona
        self.short_prompt = short_prompt  # a small model's profile (billy.services.llm.profile)
        # Who is talking and what they asked Billy to remember (persona/people.py), for the prompt.
        self.about: Callable[[], str] = lambda: ""
        # The owner's notes that answer this question, if any (billy/knowledge.py), given by the wiring.
        self.notes: Callable[[str], str] = lambda question: ""
        self._turns: deque[list[dict]] = deque(maxlen=max_turns)

    def messages_for(self, user_text: str, language: str = "") -> list[dict]:
        """Built fresh every turn, so a trait changed a moment ago is in this turn's system prompt.

        `language` is the one the user spoke: Billy answers in it (the persona is written in English, so only
        another language needs saying, and English prompts stay as they were for the prompt cache).
        """
        history = [message for turn in self._turns for message in turn]
        system = self.persona.system_prompt(self.short_prompt)
        if told := self.about():
            system += f"\n{told}"
        if notes := self.notes(user_text):
            system += f"\n{notes}"
        if language and language != "en":
            system += f"\nAlways answer in {language_name(language)}, the language the user speaks."
        return [
            {"role": "system", "content": system},
            *history,
            {"role": "user", "content": user_text},
        ]

    def remember(self, messages: list[dict]) -> None:
        """One turn's messages: the user's, the assistant's (with any tool calls) and the tool results."""
        self._turns.append(messages)

    def forget(self) -> None:
        self._turns.clear()
