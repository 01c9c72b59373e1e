"""Settings an owner of the original Billy B-Assistant (or its local-models fork) already has in `.env`.

Values that name something only the original had are mapped to what this Billy uses, and said so once in the
log: the Realtime API's model names (OpenAI's and xAI's chat APIs serve the cloud brain here), the Realtime voices that
OpenAI's speech API lacks, and the fork's `LOCAL_STT_MODEL=base` / `LOCAL_TTS_VOICE=default`. Known settings of
the original that this Billy has no use for are named at start, never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

LOG = logging.getLogger(__name__)

# OpenAI's speech API (tts-1) voices; the Realtime API has a few more, mapped to the closest in character.
OPENAI_TTS_VOICES = ("alloy", "ash", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer")
REALTIME_ONLY_VOICES = {"ballad": "fable", "verse": "echo", "marin": "coral", "cedar": "onyx"}
# The fork's whisper.cpp sizes, and its TTS voice "default", in terms of this Billy's catalogue.
WHISPER_SIZES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en", "large")
DEFAULT_STT_MODEL = "tiny.en"
DEFAULT_TTS_VOICE = "en_US-joe-medium"
# The original's REALTIME_AI_PROVIDER values (the clouds that may think for Billy), each with its key's setting.
KEY_SETTINGS = {"openai": "OPENAI_API_KEY", "xai": "XAI_API_KEY"}
CLOUD_PROVIDERS = tuple(KEY_SETTINGS)
# xAI's voice-agent models (the original's XAI_MODEL) have no chat API; this is the chat model that stands in.
XAI_CHAT_MODEL = "grok-3-mini"

# Settings of the original and the fork that do nothing here, with the reason an owner gets in the log.
UNUSED = {
    "DEBUG_MODE_INCLUDE_DELTA": "there are no Realtime API deltas to print",
    "PORCUPINE_ACCESS_KEY": "Porcupine is a cloud-licensed wake word engine; wake words here are local",
    "FLASK_PORT": "the web UI is billy-web.service",
    "MOCKFISH": "use BILLY_GPIO=mock",
    "BILLY_PINS": "the pin layout is chosen at deploy time",
    "STATUS_LED_DMA_CHANNEL": "a WS2812 is driven over SPI (STATUS_LED_BACKEND=spi), not by DMA",
    "STATUS_LED_PWM_CHANNEL": "a WS2812 is driven over SPI (STATUS_LED_BACKEND=spi), not by the PWM block",
}


def is_realtime_model(name: str) -> bool:
    """OpenAI's Realtime models (`gpt-realtime-mini`, `gpt-4o-mini-realtime-preview`) and xAI's voice ones."""
    return "realtime" in name.lower() or "voice" in name.lower()


def openai_chat_model(name: str) -> str:
    """A Realtime model name (`gpt-4o-mini-realtime-preview`, `gpt-realtime-mini`) -> a chat model."""
    if "realtime" not in name:
        return name
    return "gpt-4o-mini" if "mini" in name else "gpt-4o"


def xai_chat_model(name: str) -> str:
    """An xAI voice model (`grok-voice-latest`, the original's default) -> a Grok chat model."""
    return XAI_CHAT_MODEL if is_realtime_model(name) else name


def openai_tts_voice(name: str) -> str:
    return REALTIME_ONLY_VOICES.get(name.lower(), name)


def local_stt_model(name: str) -> str:
    """The fork's bare whisper size -> this Billy's default model when the catalogue lacks that size."""
    from billy.models.catalogue import load_catalogue

    if name in WHISPER_SIZES and name not in load_catalogue():
        return DEFAULT_STT_MODEL
    return name


def local_tts_voice(name: str) -> str:
    return DEFAULT_TTS_VOICE if name.lower() == "default" else name


MAPPINGS = {
    "OPENAI_MODEL": openai_chat_model,
    "XAI_MODEL": xai_chat_model,
    "VOICE": openai_tts_voice,
    "LOCAL_STT_MODEL": local_stt_model,
    "LOCAL_TTS_VOICE": local_tts_voice,
}


def conversions(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """NAME -> (the owner's value, what Billy uses) for every mapped value that changes."""
    found = {}
    for name, mapping in MAPPINGS.items():
        raw = environ.get(name, "").strip()
        if raw and mapping(raw) != raw:
            found[name] = (raw, mapping(raw))
    return found


def unused(environ: Mapping[str, str]) -> dict[str, str]:
    """NAME -> why, for each known original setting that is set and that this Billy does not use."""
    return {name: why for name, why in UNUSED.items() if environ.get(name, "").strip()}


def log_original_settings(environ: Mapping[str, str]) -> None:
    """Once at start: what was mapped and what is not used, by name."""
    for name, (raw, used) in conversions(environ).items():
        LOG.info("%s=%s is the original's name; using %s", name, raw, used)
    for name, why in unused(environ).items():
        LOG.warning("%s is set but not used by this Billy: %s", name, why)
