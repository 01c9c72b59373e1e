"""The cloud brains an owner can pay for: OpenAI's or xAI's chat API, both OpenAI-compatible.

The original chose its cloud with `REALTIME_AI_PROVIDER` (openai|xai) and `XAI_API_KEY`/`XAI_MODEL`; here the
same settings choose which cloud thinks when `USE_LOCAL_MODELS=false`, and `LLM_FALLBACK` may name either. Only
OpenAI also hears and speaks: xAI offers no speech API of that shape, so with xAI Billy's ears and voice stay
local unless an OpenAI key is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from billy.settings.kinds import ConfigError
from billy.settings.original import CLOUD_PROVIDERS
from billy.settings.read import Settings


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
        return CloudBrain("xai", settings.xai_base_url, settings.xai_model, settings.xai_api_key, "XAI_API_KEY")
    if provider == "openai":
        return CloudBrain(
            "openai", settings.openai_base_url, settings.openai_model, settings.openai_api_key, "OPENAI_API_KEY"
        )
    raise ConfigError(f"unknown cloud provider {provider!r}: allowed values are {', '.join(CLOUD_PROVIDERS)}")


def chosen_brain(settings: Settings) -> CloudBrain:
    """The cloud that thinks when USE_LOCAL_MODELS=false: REALTIME_AI_PROVIDER's."""
    return cloud_brain(settings, settings.realtime_ai_provider)


def speech_in_cloud(settings: Settings) -> bool:
    """With USE_LOCAL_MODELS=false: do OpenAI's ears and voice serve too? Yes with OpenAI, or any OpenAI key."""
    return chosen_brain(settings).speaks or bool(settings.openai_api_key)
