"""Languages Billy may hear and speak: codes, names, and the choice of a piper voice for a language.

Whisper reports a language as an ISO 639-1 code ("de"; OpenAI's API says "german"); piper voices carry a
locale ("de_DE"); Home Assistant takes a code ("de"). Everything here is keyed by the two-letter code.
"""

from __future__ import annotations

import logging

import httpx

from .service_client import health_url

LOG = logging.getLogger(__name__)
# The languages of both whisper and piper that owners ask for most, and then some.
NAMES = {
    "ar": "Arabic",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "is": "Icelandic",
    "it": "Italian",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}
_CODES = {name.lower(): code for code, name in NAMES.items()}


def language_code(value: str) -> str:
    """ "de", "de_DE", "de-DE" or "german" -> "de"; "" when unknown."""
    value = value.strip().lower()
    if value in _CODES:
        return _CODES[value]
    return value.replace("-", "_").split("_")[0] if value else ""


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def parse_voice_map(name: str, raw: str) -> dict[str, str]:
    """`TTS_VOICES=de=de_DE-thorsten-medium,fr=fr_FR-siwis-medium` -> {"de": ..., "fr": ...}."""
    from .config import ConfigError

    voices = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        code, _, voice = item.partition("=")
        if not code.strip() or not voice.strip():
            raise ConfigError(f"{name}={raw!r} is not valid: expected pairs such as de=de_DE-thorsten-medium")
        voices[language_code(code)] = voice.strip()
    return voices


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
