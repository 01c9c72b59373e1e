"""The cloud brains an owner can pay for: OpenAI's or xAI's chat API (both OpenAI-compatible), or their Realtime
voice (BRAIN=realtime).

The original chose its cloud with `REALTIME_AI_PROVIDER` (openai|xai) and `XAI_API_KEY`/`XAI_MODEL`; here the
same settings choose which cloud thinks when `USE_LOCAL_MODELS=false`, and `LLM_FALLBACK` may name either. Only
OpenAI also hears and speaks: xAI offers no speech API of that shape, so with xAI Billy's ears and voice stay
local unless an OpenAI key is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from billy.services.realtime.link import RealtimeVoice
from billy.settings.kinds import ConfigError
from billy.settings.original import CLOUD_PROVIDERS, KEY_SETTINGS, REALTIME_ONLY_VOICES
from billy.settings.read import Settings

# Each provider's Realtime model when REALTIME_MODEL is empty (the original's defaults), and its voices.
REALTIME_MODELS = {"openai": "gpt-realtime-mini", "xai": "grok-voice-latest"}
REALTIME_VOICES = {
    "openai": ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"),
    "xai": ("rex", "ara", "sal", "eve", "leo"),
}


@dataclass(frozen=True)
class CloudBrain:
    provider: str
    base_url: str
    model: str
    api_key: str
    key_setting: str  # the setting an owner fills in when the key is missing or refused

    @property
    def speaks(self) -> bool:
        """True when the same account also serves transcription and speech (OpenAI's audio API)."""
        return self.provider == "openai"

    def require_key(self, asked_by: str) -> None:
        if not self.api_key:
            raise ConfigError(
                f"{asked_by} uses {self.provider} but {self.key_setting} is empty: set it, or use local models"
            )


def cloud_brain(settings: Settings, provider: str) -> CloudBrain:
    """The chat API of `provider` with its address, model and key from the settings."""
    if provider == "xai":
        return CloudBrain("xai", settings.xai_base_url, settings.xai_model, settings.xai_api_key, KEY_SETTINGS["xai"])
    if provider == "openai":
        return CloudBrain(
            "openai", settings.openai_base_url, settings.openai_model, settings.openai_api_key, KEY_SETTINGS["openai"]
        )
    raise ConfigError(f"unknown cloud provider {provider!r}: allowed values are {', '.join(CLOUD_PROVIDERS)}")


def chosen_brain(settings: Settings) -> CloudBrain:
    """The cloud that thinks when USE_LOCAL_MODELS=false: REALTIME_AI_PROVIDER's."""
    return cloud_brain(settings, settings.realtime_ai_provider)


def speech_in_cloud(settings: Settings) -> bool:
    """With USE_LOCAL_MODELS=false: do OpenAI's ears and voice serve too? Yes with OpenAI, or any OpenAI key."""
    return chosen_brain(settings).speaks or bool(settings.openai_api_key)


def realtime_voice(settings: Settings) -> RealtimeVoice:
    """REALTIME_AI_PROVIDER's Realtime API, beside its chat API (https -> wss), with Billy's voice there."""
    brain = chosen_brain(settings)
    brain.require_key("BRAIN=realtime")
    url = "ws" + brain.base_url.removeprefix("http") + "/realtime"
    voices = REALTIME_VOICES[brain.provider]
    # VOICE was mapped for OpenAI's speech API (ballad -> fable); the Realtime API has the original's voices.
    chosen = {speech: realtime for realtime, speech in REALTIME_ONLY_VOICES.items()}.get(settings.voice, settings.voice)
    voice = chosen if chosen in voices else voices[0]
    model = settings.realtime_model or REALTIME_MODELS[brain.provider]
    return RealtimeVoice(
        brain.provider, url, model, brain.api_key, brain.key_setting, voice, settings.llm_timeout_seconds
    )
