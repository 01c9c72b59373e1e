"""The steps a turn takes between hearing and the LLM, as the settings ask (Pipeline.before_llm)."""

from __future__ import annotations

import logging

from .config import Settings
from .home_assistant import HomeAssistant
from .home_first import HomeFirst
from .languages import VoiceForLanguage, language_code

LOG = logging.getLogger(__name__)


def before_llm_steps(settings: Settings, tts_clients: list, home_assistant: HomeAssistant | None) -> list:
    """The voice of the language heard first (so Home Assistant's answer is spoken in it too), then Home
    Assistant's intents when HA_CONVERSATION=first."""
    stt_language = language_code(settings.stt_language) if settings.stt_language != "auto" else ""
    if stt_language and language_code(settings.ha_lang) != stt_language and home_assistant is not None:
        LOG.warning(
            "HA_LANG=%s but STT_LANGUAGE=%s: Home Assistant is asked in the language heard (%s)",
            settings.ha_lang,
            settings.stt_language,
            stt_language,
        )
    default_language = language_code(settings.local_tts_voice) or "en"
    steps: list = [VoiceForLanguage(tts_clients, settings.local_tts_voice, settings.tts_voices, default_language)]
    if settings.ha_conversation == "first" and home_assistant is not None and home_assistant.configured:
        steps.append(HomeFirst(home_assistant))
    return steps
