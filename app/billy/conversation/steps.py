"""The steps a turn takes between hearing and the LLM (Pipeline.before_llm), as the settings ask.

Each step is given (heard, language): words (who answered, what to say) answer the turn; None passes it on.

- `VoiceForLanguage`: Billy answers in the voice of the language he heard. It only shapes the reply.
- `HomeFirst`: Home Assistant's own intent engine gets the sentence first. Home Assistant recognises "turn on
  the kitchen lights" by itself, with no language model: when it handled the sentence (a home command done, a
  question about the house answered, or a command it understood but could not carry out), Billy speaks its
  answer at once and the LLM is never asked. When it did not recognise the sentence (`no_intent_match`,
  `no_valid_targets`), or cannot be reached, the turn goes on to the LLM. `HA_CONVERSATION` chooses: `first`
  (this step, and the `smart_home_command` tool), `llm` (the tool only), `off` (no Home Assistant at all).
"""

from __future__ import annotations

import logging

import httpx

from billy.conversation.answer import Answer
from billy.integrations.home_assistant import HomeAssistant, with_nearest_name
from billy.intents.matcher import LANGUAGES
from billy.intents.phrasebook import Phrasebook
from billy.languages import language_code, language_name
from billy.services.client import ServiceError, health_url
from billy.settings.read import Settings

LOG = logging.getLogger(__name__)


def before_llm_steps(
    settings: Settings, tts_clients: list, home_assistant: HomeAssistant | None, own_intents=None, persona=None
) -> list:
    """The voice of the language heard first (so every answer is spoken in it), then Billy's own intents
    (intents/answering.py), then Home Assistant's when HA_CONVERSATION=first."""
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
    if own_intents is not None:
        steps.append(own_intents)
    if settings.ha_conversation == "first" and home_assistant is not None and home_assistant.configured:
        steps.append(HomeFirst(home_assistant, persona))
    return steps


class VoiceForLanguage:
    """A step before the LLM: Billy answers in the voice of the language he heard.

    An explicit `TTS_VOICES` entry wins; otherwise the TTS service's own list of voices (`GET /api/voices`,
    every voice in its voice folder: catalogue downloads and the owner's own) is searched for one of that
    language; otherwise the default voice speaks. It never answers the turn itself.
    """

    # It only shapes the reply, so the draft takes it as soon as the words are heard and the model may start
    # during the end-of-turn silence (Pipeline.draft).
    answers_turns = False

    def __init__(self, tts_clients: list, default_voice: str, chosen: dict[str, str], default_language: str) -> None:
        # Only clients of piper voices (Billy's service or a Wyoming piper); OpenAI's voices (VOICE) stay as set.
        self.tts_clients = [client for client in tts_clients if client.voice == default_voice]
        self.default_voice = default_voice
        self.chosen = chosen
        self.default_language = default_language
        self._found: dict[str, str] = {}

    def voice_for(self, language: str) -> str:
        if not language or language == self.default_language:
            return self.default_voice
        if language in self.chosen:
            return self.chosen[language]
        if language not in self._found:
            self._found[language] = self._ask_service(language) or self.default_voice
        return self._found[language]

    def _ask_service(self, language: str) -> str:
        for client in self.tts_clients:
            try:
                listed = httpx.get(health_url(client.base_url).replace("/health", "/voices"), timeout=5).json()
            except (httpx.HTTPError, ValueError, AttributeError):
                continue
            for voice in listed.get("voices", []):
                if language_code(str(voice.get("language", ""))) == language:
                    return str(voice["name"])
        LOG.warning("no %s voice installed: Billy answers in his default voice", language_name(language))
        return ""

    def __call__(self, heard: str, language: str) -> None:
        voice = self.voice_for(language)
        for client in self.tts_clients:
            client.voice = voice
        return None


class HomeFirst:
    # It acts on the world and may answer the turn itself: it runs only on a turn handed over, and the LLM
    # waits for its verdict (Pipeline.draft).
    answers_turns = True

    def __init__(self, home_assistant: HomeAssistant, persona=None) -> None:
        self.home_assistant = home_assistant
        self.persona = persona  # the persona in use, for Billy's own words when a device is not found

    def __call__(self, heard: str, language: str) -> Answer | None:
        try:
            answer = self.home_assistant.converse(heard, language or None)
            if answer.code == "no_valid_targets":
                return self._nearest(heard, language)
        except ServiceError as error:
            LOG.warning("Home Assistant first: %s; asking the LLM instead", error)
            return None
        if not answer.handled:
            LOG.info("HA did not handle %r (%s): the LLM answers", heard, answer.code or answer.response_type)
            return None
        LOG.info("Home Assistant handled %r (%s): %r", heard, answer.response_type, answer.speech)
        return Answer("home assistant", answer.speech)

    def _nearest(self, heard: str, language: str) -> Answer:
        """A home command whose device Home Assistant did not find: speech recognition drops plurals and
        articles ("kitchen light" for "Kitchen Lights"), so the nearest device's own name is tried once. Never
        the language model, which would pretend it switched something."""
        nearest = with_nearest_name(heard, self.home_assistant.entity_names())
        if nearest is not None:
            sentence, name = nearest
            LOG.info("Home Assistant found no %r: trying its %r", heard, name)
            answer = self.home_assistant.converse(sentence, language or None)
            if answer.handled:
                return Answer("home assistant", answer.speech)
        book = Phrasebook(language if language in LANGUAGES else "en")
        return Answer("home assistant", book.say("no_such_device", self.persona))
