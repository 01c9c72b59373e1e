"""Every setting of Billy, declared once: what it is, what it allows, who may change it and which units read it.

The names are those of the original project's `.env` and of its local-models fork, so an owner's old file keeps
working; new settings carry the `BILLY_` prefix or name the stage they belong to. Everything else about a
setting is derived from this table: `Settings` (settings/read.py), the web page's form, which fields a browser
may change, `billy settings --help`, the role's defaults, argument specs and unit map, the boot partition's
`billy.env.example` and `docs/SETTINGS.md` (`make settings-files` writes the last four; a test checks them).

Who may change a setting (`who`) is an allow-list:

- `OWNER`: the web page, a `billy.env` on the boot partition, `billy settings apply`, `billy import`;
- `BOOT`: the boot partition's `billy.env` and `billy settings apply`, never the web page;
- `INVENTORY`: only the Ansible inventory. Commands, paths, programs and the machine's layout are here: a web
  session must never be able to choose what Billy runs or reads.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from billy.hearing import eagerness
from billy.hearing.wake_models import EVERY_BUILTIN, EVERY_OWN_SUFFIX
from billy.models import defaults
from billy.settings import original
from billy.settings.kinds import (
    Choice,
    Command,
    Country,
    Decimal,
    FilePath,
    Flag,
    GainDb,
    Host,
    Kind,
    Name,
    NameOrFile,
    Text,
    Url,
    UrlList,
    VoiceMap,
    Whole,
    WyomingUri,
)


class Who(enum.Enum):
    """Who may change a setting: an allow-list (see above). A word for tables, and what it means."""

    OWNER = ("web", "the web page, the boot partition's billy.env, billy settings apply")
    BOOT = ("boot", "the boot partition's billy.env and billy settings apply")
    INVENTORY = ("inventory", "the Ansible inventory only")

    def __init__(self, word: str, description: str) -> None:
        self.word = word
        self.description = description


OWNER, BOOT, INVENTORY = Who.OWNER, Who.BOOT, Who.INVENTORY
RUNTIME, STT, TTS, WEB = "billy", "billy-stt", "billy-tts", "billy-web"
UNITS = (RUNTIME, STT, TTS, WEB)  # every unit of Billy's that reads settings
ROLE_PREFIX = "billy_app_"


class Offer(enum.Enum):
    """Choices the web page offers for a setting from what is on this Billy (billy.web.settings_form)."""

    VOICES = "piper voices: the catalogue's and those installed"
    STT_MODELS = "whisper models: the catalogue's and those installed"
    WAKE_MODELS = "wake word models: the bundled ones and those uploaded"


@dataclass(frozen=True)
class Setting:
    name: str  # the environment variable
    kind: Kind
    default: str  # as written in an env file
    group: str
    label: str  # a few words, as the web page shows it
    description: str  # one line a fish owner understands
    units: tuple[str, ...]  # the units that read it: a change restarts these
    who: Who = INVENTORY
    secret: bool = False
    # The role's variable, when it is not billy_app_<name> (billy_app_ + the name without a BILLY_ prefix).
    role_var: str = ""
    # The role's default when it is not `default`: a Jinja expression over the role's other variables.
    role_default: str = ""
    featured: bool = False  # in billy.env.example: what most owners set before the first boot
    offer: Offer | None = None  # the web page offers these choices; it may set only what it offers
    # A secret only goes where it was typed for: changing one of these from the web page needs the secret again.
    secret_for: tuple[str, ...] = ()
    # The original project's value mapped to this Billy's (settings/original.py), after the kind read it.
    convert: Callable[[str], str] | None = None

    @property
    def attribute(self) -> str:
        return self.name.lower()

    @property
    def web(self) -> bool:
        """May a browser change it."""
        return self.who is OWNER

    @property
    def boot(self) -> bool:
        """May the boot partition's billy.env (or `billy settings apply`) change it."""
        return self.who in (OWNER, BOOT)

    @property
    def variable(self) -> str:
        return self.role_var or ROLE_PREFIX + self.name.lower().removeprefix("billy_")

    def read(self, raw: str):
        value = self.kind.read(self.name, raw)
        return self.convert(value) if self.convert is not None else value


FISH = "The fish"
LISTENING = "Listening"
WAKE = "Wake word"
VOICE = "Voice and models"
HOME = "Home Assistant and MQTT"
NEWS = "News and weather"
CLOUD = "Hybrid and cloud"
SERVICES = "Where the services are"
TUNING = "Speech services"
BEHAVIOUR = "Behaviour"
MACHINE = "The machine"
# Who answers a turn (appliance/brain_choice.py): the pipeline of stages, the cloud's Realtime voice, or the
# pipeline with the Realtime voice taking the turns a local stage fails.
BRAINS = ("local", "realtime", "hybrid")
GROUPS = (FISH, LISTENING, WAKE, VOICE, HOME, NEWS, CLOUD, SERVICES, TUNING, BEHAVIOUR, MACHINE)
EVERY_UNIT = UNITS
PORT = Whole(1, 65535)

SCHEMA: tuple[Setting, ...] = (
    # -- the fish ----------------------------------------------------------------------------------------------
    Setting("BILLY_MODEL", Choice(("modern", "classic")), "modern", FISH, "Fish model",
            "modern: two motors (the tail is the head motor run backwards); classic: three motors",
            (RUNTIME,), OWNER, role_var="billy_app_fish_model", featured=True),
    Setting("BILLY_PINS", Choice(("new", "legacy")), "new", FISH, "Wiring",
            "new: one pin per motor (mouth 17, head 22, tail 27, button 24); legacy: the v1 wiring with two pins "
            "per motor; the pins held low at boot follow it, so it is set with the inventory's billy_pins",
            (RUNTIME,), role_default="{{ billy_pins | default('new') }}"),
    Setting("BUTTON_PIN", Whole(0, 27, optional=True), "", FISH, "Button pin",
            "The BCM pin of the button when it is not the wiring's own; empty: the wiring's (24 new, 27 legacy)",
            (RUNTIME,), OWNER),
    Setting("BILLY_VOLUME", Whole(0, 100), "80", FISH, "Volume", "How loud Billy is when he starts, 0 to 100",
            (RUNTIME,), OWNER, featured=True),
    Setting("MOUTH_ARTICULATION", Whole(0, 10), "5", FISH, "Mouth articulation",
            "How readily the mouth moves with the words, 0 (only loud syllables) to 10 (every one); a persona's "
            "mouth_articulation wins", (RUNTIME,), OWNER),
    Setting("HEAD_RETRACT_DELAY_SECONDS", Decimal(0, 10), "0", FISH, "Head stays out",
            "Seconds the head stays out after Billy stops talking (the original's 1.5 keeps it from bobbing between "
            "answers); 0: back at once", (RUNTIME,), OWNER),
    Setting("FLAP_ON_BOOT", Flag(), "false", FISH, "Flap when ready",
            "Billy flaps his tail when he is ready after starting, beside his ready sound", (RUNTIME,), OWNER),
    Setting("STATUS_LED_ENABLED", Flag(), "false", FISH, "Status LED",
            "An LED that shows what Billy is doing (listening green, thinking purple, speaking orange, error red)",
            (RUNTIME,), OWNER),
    Setting("STATUS_LED_BACKEND", Choice(("auto", "spi", "pwm")), "auto", FISH, "Status LED kind",
            "spi: a WS2812/NeoPixel on SPI MOSI (GPIO 10; enable SPI); pwm: a plain LED on the LED pin; auto: SPI "
            "when it is enabled, else the plain LED", (RUNTIME,), OWNER),
    Setting("STATUS_LED_PIN", Whole(0, 27), "18", FISH, "Status LED pin",
            "The BCM pin of a plain (pwm) status LED", (RUNTIME,), OWNER),
    Setting("STATUS_LED_COUNT", Whole(1, 256), "1", FISH, "Status LEDs",
            "How many WS2812 LEDs are chained (all show the same colour)", (RUNTIME,), OWNER),
    Setting("STATUS_LED_BRIGHTNESS", Decimal(0, 1), "0.2", FISH, "Status LED brightness",
            "0 to 1; 0 is off", (RUNTIME,), OWNER),
    Setting("STATUS_LED_SPI_DEVICE", FilePath(), "/dev/spidev0.0", FISH, "Status LED SPI device",
            "The SPI device whose MOSI drives the WS2812s", (RUNTIME,)),
    Setting("MIC_PREFERENCE", Text(), "", FISH, "Microphone",
            "Part of the microphone's name (arecord -l), or usbpath:1-1.3 for the one on that USB port; empty: "
            "the system's default", (RUNTIME,), OWNER),
    Setting("SPEAKER_PREFERENCE", Text(), "", FISH, "Speaker",
            "Part of the speaker's name (aplay -l), or usbpath:1-1.3; empty: the system's default",
            (RUNTIME,), OWNER),
    Setting("CHUNK_MS", Whole(10, 200), "32", FISH, "Microphone block",
            "Milliseconds of sound the microphone hands over at a time", (RUNTIME,), OWNER),
    Setting("BILLY_AUDIO", Choice(("sounddevice", "file")), "sounddevice", FISH, "Sound device",
            "sounddevice: the real sound card; file: a folder of WAV files instead (machines without one)",
            (RUNTIME,), BOOT),
    Setting("BILLY_AUDIO_DIR", FilePath(), "/var/lib/billy/audio", FISH, "File sound folder",
            "Where BILLY_AUDIO=file takes questions from and puts answers", (RUNTIME,),
            role_default="{{ billy_app_state_dir }}/audio"),
    Setting("BILLY_GPIO", Choice(("auto", "mock")), "auto", FISH, "Motor pins",
            "auto: the Pi's GPIO through lgpio; mock: pretend pins, for machines without any", (RUNTIME,), BOOT),
    # -- listening ---------------------------------------------------------------------------------------------
    Setting("MIC_TIMEOUT_SECONDS", Decimal(0.5, 300), "5", LISTENING, "Listen for",
            "Seconds of silence after which Billy stops listening and the conversation ends", (RUNTIME,), OWNER),
    Setting("MIC_GAIN", GainDb(-20, 30), "max", LISTENING, "Microphone gain",
            "Decibels added to the microphone in software (a quiet USB microphone wants 10-20); max: none, the "
            "sound card's level as set; `billy calibrate` proposes one", (RUNTIME,), OWNER),
    Setting("SILENCE_THRESHOLD", Decimal(0, 32767), "0", LISTENING, "Loudness floor",
            "Sound quieter than this never counts as speech (the original's RMS on the 0-32767 scale); 0: off",
            (RUNTIME,), OWNER),
    Setting("VAD_THRESHOLD", Decimal(0.05, 0.95), "0.5", LISTENING, "Speech detector",
            "How sure the voice detector must be that a sound is speech, 0.05 to 0.95; higher hears less noise",
            (RUNTIME,), OWNER),
    Setting("END_OF_SPEECH_MS", Whole(100, 10000), "600", LISTENING, "Pause that ends a question",
            "Milliseconds of silence that end a question when the end-of-turn judge is unsure or off",
            (RUNTIME,), OWNER),
    Setting("MAX_UTTERANCE_SECONDS", Decimal(1, 120), "20", LISTENING, "Longest question",
            "A question is cut after this many seconds", (RUNTIME,), OWNER),
    Setting("END_OF_TURN", Choice(("smart", "silence")), "smart", LISTENING, "End of a question",
            "smart: a model hears whether the sentence is finished; silence: only the pause counts",
            (RUNTIME,), OWNER),
    Setting("END_OF_TURN_COMPLETE_MS", Whole(100, 5000), "400", LISTENING, "Pause after a finished sentence",
            "Milliseconds of silence that end a question that sounds finished", (RUNTIME,), OWNER),
    Setting("END_OF_TURN_INCOMPLETE_MS", Whole(100, 10000), "2000", LISTENING, "Pause mid-sentence",
            "Milliseconds Billy waits when you stop mid-sentence (\"What is the capital of ...\")",
            (RUNTIME,), OWNER),
    Setting("TURN_EAGERNESS", Choice(tuple(eagerness.FACTORS)), "medium", LISTENING, "Turn eagerness",
            "How soon Billy answers when you stop: high waits 0.6 of the three pauses above, low 1.5 of them",
            (RUNTIME,), OWNER),
    Setting("RUN_MODE", Choice(("normal", "dory")), "normal", LISTENING, "Conversation",
            "normal: Billy listens again after each answer; dory: one answer, then the conversation ends",
            (RUNTIME,), OWNER),
    Setting("FOLLOW_UP_RETRY_LIMIT", Whole(0, 10), "1", LISTENING, "Waiting for an answer",
            "When Billy asked you something, how many more silences he waits through for your answer",
            (RUNTIME,), OWNER),
    # -- wake word -----------------------------------------------------------------------------------------------
    Setting("WAKE_WORD_ENABLED", Flag(), "false", WAKE, "Wake word",
            "Listen all the time for the wake word, which works like pressing the button", (RUNTIME,), OWNER,
            featured=True),
    Setting("WAKE_WORD_BACKEND", Choice(("microwakeword", "openwakeword")), "microwakeword", WAKE, "Detector",
            "The wake-word detector: microwakeword or openwakeword", (RUNTIME,), OWNER),
    Setting("WAKE_WORD_MODEL", NameOrFile(EVERY_BUILTIN, EVERY_OWN_SUFFIX), "okay_nabu", WAKE,
            "Wake phrase",
            "A bundled model (openwakeword also has hey_rhasspy), one uploaded on the Sounds page, or, from the "
            "inventory, your own model file", (RUNTIME,), OWNER, offer=Offer.WAKE_MODELS),
    Setting("WAKE_WORD_THRESHOLD", Decimal(0, 1), "0", WAKE, "Wake sensitivity",
            "How sure the detector must be, 0 to 1; 0 keeps the model's own", (RUNTIME,), OWNER),
    Setting("WAKE_WORD_COOLDOWN_SECONDS", Decimal(0, 60), "4", WAKE, "Wake pause",
            "Seconds after a wake before the next one counts", (RUNTIME,), OWNER),
    Setting("AEC_ENABLED", Flag(), "true", WAKE, "Wake word while he talks",
            "true: an echo canceller takes Billy's own voice out, so the wake word stops him mid-answer; false: "
            "the wake word is not heard while he talks (the original's default), only the button stops him",
            (RUNTIME,), OWNER),
    # -- voice and models --------------------------------------------------------------------------------------
    Setting("LOCAL_TTS_VOICE", Name(), defaults.VOICE, VOICE, "Voice",
            "The piper voice Billy speaks with (billy models list)", (RUNTIME, TTS), OWNER,
            role_var="billy_app_tts_voice", offer=Offer.VOICES, convert=original.local_tts_voice),
    Setting("TTS_VOICES", VoiceMap(), "", VOICE, "Voices per language",
            "A piper voice for each language heard, e.g. de=de_DE-thorsten-medium; empty: any installed voice "
            "of that language", (RUNTIME,), OWNER),
    Setting("LOCAL_STT_MODEL", Name(), defaults.STT_MODEL, VOICE, "Speech recognition model",
            "The whisper model Billy hears with: tiny.en (English, fastest) or base (every language)",
            (RUNTIME, STT), OWNER, role_var="billy_app_stt_model", offer=Offer.STT_MODELS,
            convert=original.local_stt_model),
    Setting("STT_LANGUAGE", Name(), "en", VOICE, "Language heard",
            "The language Billy listens for, a code such as en or de, or auto to hear which one is spoken",
            (RUNTIME, STT), OWNER),
    Setting("LOCAL_LLM_MODEL", Text(), "qwen2.5:1.5b", VOICE, "Language model",
            "The model Billy asks the LLM server for (an Ollama tag such as qwen2.5:1.5b)", (RUNTIME,), OWNER,
            role_var="billy_app_llm_model", featured=True),
    Setting("LLM_MAX_TOKENS", Whole(16, 8192), "200", VOICE, "Longest answer",
            "The most tokens (about words) the model may write in one answer", (RUNTIME,), OWNER),
    Setting("BILLY_HISTORY_TURNS", Whole(0, 100), "8", VOICE, "Turns remembered",
            "How many earlier questions and answers of the conversation the model sees", (RUNTIME,), OWNER),
    Setting("BILLY_INTENTS", Flag(), "true", VOICE, "Billy's own skills",
            "The time, timers, songs, volume and memories answered by Billy himself, before Home Assistant and "
            "the model", (RUNTIME,), OWNER),
    Setting("DEFAULT_USER", Name(), "guest", VOICE, "Who is talking",
            "Whom Billy talks with until someone says who they are (\"I'm Sam\"); their memories go with them",
            (RUNTIME,), OWNER),
    # -- Home Assistant and MQTT ---------------------------------------------------------------------------------
    Setting("MQTT_HOST", Host(), "", HOME, "MQTT broker",
            "Your broker's address, usually Home Assistant's (homeassistant.local); empty: MQTT off",
            (RUNTIME,), OWNER, featured=True),
    Setting("MQTT_PORT", PORT, "1883", HOME, "MQTT port", "The broker's port", (RUNTIME,), OWNER, featured=True),
    Setting("MQTT_USERNAME", Text(), "", HOME, "MQTT user", "Billy's user on the broker", (RUNTIME,), OWNER,
            featured=True),
    Setting("MQTT_PASSWORD", Text(), "", HOME, "MQTT password", "Billy's password on the broker", (RUNTIME,),
            OWNER, secret=True, featured=True, secret_for=("MQTT_HOST",)),
    Setting("MQTT_TLS", Flag(), "false", HOME, "MQTT over TLS", "Talk to the broker encrypted", (RUNTIME,), OWNER),
    Setting("MQTT_CA_CERT", FilePath(optional=True), "", HOME, "MQTT CA certificate",
            "The CA certificate file for TLS; empty: the system's", (RUNTIME,)),
    Setting("MQTT_TOPIC_PREFIX", Name(), "billy", HOME, "Topic prefix",
            "Billy's topics start with this (billy/state, billy/say ...)", (RUNTIME,), OWNER),
    Setting("MQTT_DISCOVERY_PREFIX", Name(), "homeassistant", HOME, "Discovery prefix",
            "Home Assistant's MQTT discovery prefix", (RUNTIME,), OWNER),
    Setting("MQTT_DEVICE_NAME", Text(), "Big Mouth Billy Bass", HOME, "Device name",
            "Billy's name in Home Assistant", (RUNTIME,), OWNER),
    Setting("MQTT_MAX_PAYLOAD_BYTES", Whole(64, 1048576), "4096", HOME, "Largest message",
            "MQTT messages longer than this many bytes are ignored", (RUNTIME,), OWNER),
    Setting("BILLY_MQTT_POWER_COMMANDS", Flag(), "true", HOME, "Power buttons",
            "Offer shutdown and reboot in Home Assistant and obey them over MQTT", (RUNTIME,), OWNER),
    Setting("HA_HOST", Url(), "", HOME, "Home Assistant",
            "Home Assistant's address, e.g. http://homeassistant.local:8123; empty: none", (RUNTIME,), OWNER,
            featured=True),
    Setting("HA_TOKEN", Text(), "", HOME, "Home Assistant token",
            "A long-lived access token (your Home Assistant profile, at the bottom)", (RUNTIME,), OWNER,
            secret=True, featured=True, secret_for=("HA_HOST",)),
    Setting("HA_LANG", Text(), "en", HOME, "Home Assistant language",
            "The language Home Assistant is asked in when Billy does not know which one was spoken",
            (RUNTIME,), OWNER, featured=True),
    Setting("HA_CONVERSATION", Choice(("first", "llm", "off")), "first", HOME, "Home Assistant first",
            "first: Home Assistant's own commands are tried before the language model; llm: only through the "
            "model's tool; off: no Home Assistant", (RUNTIME,), OWNER),
    Setting("BILLY_WEB_URL", Url(base=False), "http://billy.local/", HOME, "Web page address",
            "The address Home Assistant's \"Visit\" link on Billy's device opens", (RUNTIME,), OWNER,
            role_default="http://{{ billy_os_mdns_name | default('billy') }}.local{{ '' if billy_app_web_port | "
            "int == 80 else ':' ~ billy_app_web_port }}/"),
    # -- news and weather --------------------------------------------------------------------------------------
    Setting("NEWS_FEEDS", UrlList(), "", NEWS, "News feeds",
            "RSS or Atom feeds Billy reads headlines from (\"what's in the news?\"), separated by commas",
            (RUNTIME,), OWNER),
    Setting("NEWS_REQUEST_TIMEOUT_SECONDS", Decimal(1, 30), "6", NEWS, "News wait",
            "Seconds a feed or the weather may take before Billy says he can't reach it", (RUNTIME,), OWNER),
    Setting("WEATHER_LOCATION", Text(), "", NEWS, "Weather place",
            "Where Billy's weather is for: a place (\"Utrecht\", \"Springfield, Illinois\") or latitude,longitude; "
            "empty: Home Assistant's weather, if any", (RUNTIME,), OWNER),
    Setting("WEATHER_UNITS", Choice(("celsius", "fahrenheit")), "celsius", NEWS, "Temperatures in",
            "The unit Billy says temperatures in", (RUNTIME,), OWNER),
    Setting("OPEN_METEO_FORECAST_URL", Url(), "https://api.open-meteo.com/v1/forecast", NEWS, "Forecast address",
            "Open-Meteo's forecast API (no key needed), or a self-hosted one", (RUNTIME,)),
    Setting("OPEN_METEO_GEOCODING_URL", Url(), "https://geocoding-api.open-meteo.com/v1/search", NEWS,
            "Place search address", "Open-Meteo's geocoding API, which finds a place's coordinates", (RUNTIME,)),
    # -- hybrid and cloud ---------------------------------------------------------------------------------------
    Setting("USE_LOCAL_MODELS", Flag(), "true", CLOUD, "Local models",
            "true: hear, think and speak on this Billy; false: the cloud does (REALTIME_AI_PROVIDER)", (RUNTIME,),
            OWNER, featured=True),
    Setting("OPENAI_API_KEY", Text(), "", CLOUD, "OpenAI key",
            "Only for fallbacks or USE_LOCAL_MODELS=false", (RUNTIME,), OWNER, secret=True, featured=True,
            secret_for=("OPENAI_BASE_URL",)),
    Setting("OPENAI_MODEL", Text(), "gpt-4o-mini", CLOUD, "OpenAI model",
            "OpenAI's chat model; the original's Realtime names are mapped to one", (RUNTIME,), OWNER,
            convert=original.openai_chat_model),
    Setting("OPENAI_BASE_URL", Url(), "https://api.openai.com/v1", CLOUD, "OpenAI address",
            "Where OpenAI's API is (or a compatible one)", (RUNTIME,), BOOT),
    Setting("REALTIME_AI_PROVIDER", Choice(original.CLOUD_PROVIDERS), "openai", CLOUD, "Cloud brain",
            "Whose model thinks when USE_LOCAL_MODELS=false: openai, or xai (Grok; Billy's ears and voice then stay "
            "local unless the OpenAI key is set)", (RUNTIME,), OWNER, featured=True),
    Setting("BRAIN", Choice(BRAINS), "local", CLOUD, "Brain",
            "local: the pipeline above; realtime: REALTIME_AI_PROVIDER's Realtime voice hears, thinks and speaks, "
            "the pipeline answering while it is down; hybrid: the pipeline, the Realtime voice taking turns a "
            "local stage fails", (RUNTIME,), OWNER, featured=True),
    Setting("REALTIME_MODEL", Text(), "", CLOUD, "Realtime model",
            "The Realtime model for BRAIN=realtime; empty: gpt-realtime-mini (openai) or grok-voice-latest (xai)",
            (RUNTIME,), OWNER),
    Setting("REALTIME_DAILY_CAP_MINUTES", Decimal(0, 1440), "0", CLOUD, "Realtime minutes a day",
            "Cloud audio (heard and spoken) the Realtime voice may use a day; past it the local pipeline answers "
            "until midnight, and Billy says so once; 0: no cap", (RUNTIME,), OWNER),
    Setting("XAI_API_KEY", Text(), "", CLOUD, "xAI key",
            "Only for REALTIME_AI_PROVIDER=xai or LLM_FALLBACK=xai", (RUNTIME,), OWNER, secret=True,
            secret_for=("XAI_BASE_URL",)),
    Setting("XAI_MODEL", Text(), original.XAI_CHAT_MODEL, CLOUD, "xAI model",
            "xAI's chat model; the original's voice models (grok-voice-latest) are mapped to one", (RUNTIME,),
            OWNER, convert=original.xai_chat_model),
    Setting("XAI_BASE_URL", Url(), "https://api.x.ai/v1", CLOUD, "xAI address", "Where xAI's API is",
            (RUNTIME,), BOOT),
    Setting("VOICE", Text(), "ash", CLOUD, "OpenAI voice", "OpenAI's voice for the speech fallback",
            (RUNTIME,), OWNER, role_var="billy_app_openai_voice", convert=original.openai_tts_voice),
    Setting("LLM_FALLBACK", Choice(("none", *original.CLOUD_PROVIDERS)), "none", CLOUD, "When the model is down",
            "none, openai or xai (needs that cloud's key)", (RUNTIME,), OWNER, featured=True),
    Setting("STT_FALLBACK", Choice(("none", "openai")), "none", CLOUD, "When speech recognition is down",
            "none, or openai (needs the OpenAI key)", (RUNTIME,), OWNER, featured=True),
    Setting("TTS_FALLBACK", Choice(("none", "openai")), "none", CLOUD, "When the voice is down",
            "none, or openai (needs the OpenAI key)", (RUNTIME,), OWNER, featured=True),
    # -- where the services are --------------------------------------------------------------------------------
    Setting("LOCAL_LLM_HOST", Host(), "127.0.0.1", SERVICES, "LLM server",
            "Where the language model server is (Ollama, llama.cpp), this Billy or another computer",
            (RUNTIME,), OWNER, role_var="billy_app_llm_host", featured=True),
    Setting("LOCAL_LLM_PORT", PORT, "11434", SERVICES, "LLM port", "The language model server's port",
            (RUNTIME,), OWNER, role_var="billy_app_llm_port", featured=True),
    Setting("LOCAL_STT_HOST", Host(), "127.0.0.1", SERVICES, "Speech recognition server",
            "Where the speech recognition service listens and Billy calls it", (RUNTIME, STT), OWNER,
            role_var="billy_app_stt_host"),
    Setting("LOCAL_STT_PORT", PORT, "5003", SERVICES, "Speech recognition port",
            "The speech recognition service's port", (RUNTIME, STT), OWNER, role_var="billy_app_stt_port"),
    Setting("LOCAL_TTS_HOST", Host(), "127.0.0.1", SERVICES, "Voice server",
            "Where the voice service listens and Billy calls it", (RUNTIME, TTS), OWNER,
            role_var="billy_app_tts_host"),
    Setting("LOCAL_TTS_PORT", PORT, "5002", SERVICES, "Voice port", "The voice service's port", (RUNTIME, TTS),
            OWNER, role_var="billy_app_tts_port"),
    Setting("LLM_BASE_URL", Url(), "", SERVICES, "LLM address",
            "An OpenAI-style address ending in /v1 that wins over the LLM host and port", (RUNTIME,), OWNER),
    Setting("STT_BASE_URL", Url(), "", SERVICES, "Speech recognition address",
            "An OpenAI-style address ending in /v1 that wins over its host and port", (RUNTIME,), OWNER),
    Setting("TTS_BASE_URL", Url(), "", SERVICES, "Voice address",
            "An OpenAI-style address ending in /v1 that wins over its host and port", (RUNTIME,), OWNER),
    Setting("STT_WYOMING_URI", WyomingUri(), "", SERVICES, "Wyoming speech recognition",
            "An existing Wyoming speech-to-text server as Billy's ears, tcp://HOST:PORT; empty: his own",
            (RUNTIME,), OWNER),
    Setting("TTS_WYOMING_URI", WyomingUri(), "", SERVICES, "Wyoming voice",
            "An existing Wyoming text-to-speech server as Billy's voice, tcp://HOST:PORT; empty: his own",
            (RUNTIME,), OWNER),
    Setting("STT_WYOMING_PORT", Whole(0, 65535), "0", SERVICES, "Serve speech recognition to Assist",
            "Billy's speech recognition also speaks Wyoming on this port, for Home Assistant's Assist; 0: off",
            (STT,), OWNER),
    Setting("TTS_WYOMING_PORT", Whole(0, 65535), "0", SERVICES, "Serve the voice to Assist",
            "Billy's voice also speaks Wyoming on this port, for Home Assistant's Assist; 0: off", (TTS,), OWNER),
    Setting("LLM_TIMEOUT_SECONDS", Decimal(1, 600), "30", SERVICES, "Model timeout",
            "Seconds the model may take before Billy gives up on an answer", (RUNTIME,), OWNER),
    Setting("STAGE_TIMEOUT_SECONDS", Decimal(1, 600), "20", SERVICES, "Service timeout",
            "Seconds speech recognition, the voice or Home Assistant may take", (RUNTIME,), OWNER),
    # -- speech services ----------------------------------------------------------------------------------------
    Setting("STT_COMPUTE_TYPE", Choice(("int8", "int8_float32", "int16", "float32", "default")), "int8", TUNING,
            "Recognition arithmetic", "How whisper computes; int8 is the fastest on a Pi", (STT,), OWNER),
    Setting("STT_BEAM_SIZE", Whole(1, 10), "1", TUNING, "Recognition beam",
            "How many guesses whisper weighs at once, 1 to 10; 1 is the fastest", (STT,), OWNER),
    Setting("STT_THREADS", Whole(0, 64), "0", TUNING, "Recognition cores", "Cores whisper uses; 0: half of them",
            (STT,), OWNER),
    Setting("STT_MAX_SECONDS", Decimal(1, 3600), "120", TUNING, "Longest recording",
            "Longer recordings are refused by the speech recognition service", (STT,), OWNER),
    Setting("TTS_MAX_CHARS", Whole(1, 100000), "4000", TUNING, "Longest text",
            "Longer texts are refused by the voice service", (TTS,), OWNER),
    Setting("TTS_THREADS", Whole(0, 64), "1", TUNING, "Voice cores",
            "Cores piper uses; 1 leaves the others to the model writing the rest; 0: all", (TTS,), OWNER),
    Setting("TTS_DETERMINISTIC", Flag(), "false", TUNING, "Same voice every time",
            "true: the same text is spoken exactly the same way every time (flatter; for tests)", (TTS,), OWNER),
    Setting("BILLY_MODELS_DIR", FilePath(optional=True), "", TUNING, "Models folder",
            "Where the whisper models and piper voices are; empty: the state folder's models/",
            EVERY_UNIT, role_default="{{ billy_app_state_dir }}/models"),
    Setting("BILLY_STT_MODEL_DIR", FilePath(optional=True), "", TUNING, "Whisper model folder",
            "The whisper model's own folder; empty: the models folder's LOCAL_STT_MODEL", (STT,)),
    Setting("BILLY_TTS_VOICE_DIR", FilePath(optional=True), "", TUNING, "Voices folder",
            "Where piper's voices are; empty: the models folder", (TTS,)),
    # -- behaviour -----------------------------------------------------------------------------------------------
    Setting("DEBUG_MODE", Flag(), "false", BEHAVIOUR, "Debug log", "Write everything to the log", EVERY_UNIT, OWNER,
            role_var="billy_app_debug"),
    Setting("LOG_LEVEL", Choice(("debug", "verbose", "info", "warning", "error", "critical"), optional=True), "",
            BEHAVIOUR, "Log level", "How much goes to the log; empty: DEBUG_MODE decides", EVERY_UNIT, OWNER),
    Setting("TEXT_ONLY_MODE", Flag(), "false", BEHAVIOUR, "Text only",
            "Answer in the log and on MQTT only, without speaking", (RUNTIME,), OWNER,
            role_var="billy_app_text_only"),
    Setting("ALLOW_UPDATE_PERSONALITY_INI", Flag(), "true", BEHAVIOUR, "Keep personality changes",
            "A trait changed by voice or MQTT is saved to persona.ini (else it lasts until a restart)",
            (RUNTIME,), OWNER, role_var="billy_app_allow_persona_update"),
    # -- the machine ---------------------------------------------------------------------------------------------
    Setting("BILLY_STATE_DIR", FilePath(), "/var/lib/billy", MACHINE, "State folder",
            "Persona, songs, sounds, models and the control socket", EVERY_UNIT),
    Setting("BILLY_CONFIG_DIR", FilePath(), "/etc/billy", MACHINE, "Settings folder",
            "Where the units' settings files and local.env are", (WEB,)),
    Setting("BILLY_SHUTDOWN_COMMAND", Command(), "systemctl poweroff", MACHINE, "Shutdown command",
            "What a shutdown over MQTT runs", (RUNTIME,)),
    Setting("BILLY_REBOOT_COMMAND", Command(), "systemctl reboot", MACHINE, "Reboot command",
            "What a reboot over MQTT runs", (RUNTIME,)),
    Setting("BILLY_RESTART_COMMAND", Command(), "systemctl restart billy.service", MACHINE, "Restart command",
            "What restart-billy over MQTT runs", (RUNTIME,)),
    Setting("BILLY_UPDATE_COMMAND", Command(), "systemctl start --no-block billy-update.service", MACHINE,
            "Update command", "What Home Assistant's Install button and the web page's run", (RUNTIME,)),
    # Not from the web page nor the boot partition: the feed chooses what code runs as root.
    Setting("BILLY_UPDATE_URL", Url(base=False), "", MACHINE, "Release feed",
            "Where new releases are offered: the address of a release feed (latest.json); empty: none offered",
            (RUNTIME,)),
    Setting("BILLY_UPDATE_HEALTH_SECONDS", Whole(30, 3600), "300", MACHINE, "Update health wait",
            "How long a new release has to come back working before the previous one returns, in seconds",
            (RUNTIME,)),
    # Not from the web page: a folder is a path, and backups hold the owner's files.
    Setting("BILLY_BACKUP_DIR", FilePath(optional=True), "", MACHINE, "Backup folder",
            "Where Home Assistant's Back up button keeps backups (a mounted USB stick or share survives the card); "
            "empty: backups/ in the state folder",
            (RUNTIME, WEB)),
    Setting("BILLY_BACKUPS_KEPT", Whole(1, 30), "3", MACHINE, "Backups kept",
            "How many of the button's backups stay in the backup folder (the oldest go)", (RUNTIME,), OWNER),
    Setting("BILLY_WIFI_SETUP_SECONDS", Whole(0, 3600), "60", MACHINE, "Wi-Fi setup wait",
            "Seconds after boot without a network before Billy opens his Billy-Setup Wi-Fi; 0: only when the "
            "button is held at boot", (RUNTIME,), OWNER),
    Setting("BILLY_WIFI_SETUP_RETRY_SECONDS", Whole(0, 86400), "600", MACHINE, "Wi-Fi setup retry",
            "While Billy-Setup is open and nobody chose a network, how often Billy tries the network he knows again "
            "(a router slower than the fish after a power cut), in seconds; 0: never", (RUNTIME,), OWNER),
    Setting("WIFI_COUNTRY", Country(), "", MACHINE, "Wi-Fi country",
            "The country the Wi-Fi radio is in (two letters), for its channels; empty: the radio's default",
            (RUNTIME,), OWNER),
    Setting("BILLY_WEB_HOST", Host(), "0.0.0.0", MACHINE, "Web page address to listen on",
            "The address the web page binds", (WEB,)),
    Setting("BILLY_WEB_PORT", PORT, "80", MACHINE, "Web page port", "The web page's port", (WEB,), BOOT),
    Setting("BILLY_WEB_PASSWORD", Text(), "", MACHINE, "First web password",
            "The web page's password until one is set there (hashed on first use, then ignored)", (WEB,), BOOT,
            secret=True, featured=True),
    Setting("BILLY_WEB_MAX_UPLOAD_MB", Whole(1, 4096), "200", MACHINE, "Largest upload",
            "The largest song upload the web page takes, in MB", (WEB,), OWNER),
    Setting("BILLY_WEB_SYSTEMCTL", Command(), "systemctl", MACHINE, "Service control command",
            "The command the web page restarts units with", (WEB,)),
    Setting("BILLY_WEB_JOURNAL_DIR", FilePath(optional=True), "", MACHINE, "Journal folder",
            "A journal folder for the logs page; empty: the system's journal", (WEB,)),
)  # fmt: skip

BY_NAME = {setting.name: setting for setting in SCHEMA}
SECRET_NAMES = frozenset(setting.name for setting in SCHEMA if setting.secret)
