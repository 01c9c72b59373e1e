"""A step before the LLM: Home Assistant's own intent engine gets the sentence first.

Home Assistant recognises "turn on the kitchen lights" by itself, with no language model: when it handled the
sentence (a home command done, a question about the house answered, or a command it understood but could not
carry out), Billy speaks its answer at once and the LLM is never asked. When it did not recognise the
sentence (`no_intent_match`, `no_valid_targets`), or cannot be reached, the turn goes on to the LLM.
`HA_CONVERSATION` chooses: `first` (this step, and the `smart_home_command` tool), `llm` (the tool only),
`off` (no Home Assistant at all).
"""

from __future__ import annotations

import logging

from .home_assistant import HomeAssistant
from .service_client import ServiceError

LOG = logging.getLogger(__name__)
MODES = ("first", "llm", "off")


class HomeFirst:
    # It acts on the world and may answer the turn itself: it runs only on a turn handed over, and the LLM
    # waits for its verdict (Pipeline.draft).
    answers_turns = True

    def __init__(self, home_assistant: HomeAssistant) -> None:
        self.home_assistant = home_assistant

    def __call__(self, heard: str, language: str) -> tuple[str, str] | None:
        try:
            answer = self.home_assistant.converse(heard, language or None)
        except ServiceError as error:
            LOG.warning("Home Assistant first: %s; asking the LLM instead", error)
            return None
        if not answer.handled:
            LOG.info("HA did not handle %r (%s): the LLM answers", heard, answer.code or answer.response_type)
            return None
        LOG.info("Home Assistant handled %r (%s): %r", heard, answer.response_type, answer.speech)
        return "home assistant", answer.speech
