"""Languages Billy may hear and speak: their codes and names.

Whisper reports a language as an ISO 639-1 code ("de"; OpenAI's API says "german"); piper voices carry a
locale ("de_DE"); Home Assistant takes a code ("de"). Everything here is keyed by the two-letter code.
"""

from __future__ import annotations

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
