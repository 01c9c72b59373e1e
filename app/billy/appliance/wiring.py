"""How a running Billy is put together from his settings: the stages and their fallbacks, the ears, the voice,
the body, MQTT, and `billy run`'s own loop around them."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

from billy.appliance import operations
from billy.appliance.backup_shelf import BackupShelf
from billy.appliance.billy import Billy
from billy.appliance.brain_choice import brain_for, brain_of, remembered
from billy.appliance.control import ControlServer, socket_path
from billy.appliance.startup import announce_ready, wait_for_services
from billy.appliance.update_entity import UpdateWatch
from billy.audio.devices import Microphone, Speaker
from billy.audio.file_device import SpoolAudio
from billy.audio.gain import with_gain
from billy.body.fish import Fish, make_button
from billy.body.pins import describe_pin_factory, make_pin_factory, wiring
from billy.body.status_led import make_status_led
from billy.body.timeline import MotionTimeline
from billy.conversation.history import Conversation
from billy.conversation.pipeline import Pipeline
from billy.conversation.stages import stage
from billy.conversation.steps import before_llm_steps
from billy.conversation.tools import ToolBox
from billy.hearing.eagerness import scaled
from billy.hearing.end_of_turn import load_end_of_turn
from billy.hearing.listening import Listener
from billy.hearing.wakeword import wake_word_watcher
from billy.integrations.home_assistant import HomeAssistant
from billy.integrations.mqtt.link import MqttLink
from billy.integrations.weather import Weather
from billy.integrations.wyoming.clients import WyomingStt, WyomingTts
from billy.intents.answering import OwnIntents
from billy.intents.asked import Abilities
from billy.intents.matcher import IntentMatcher
from billy.intents.news import NewsDesk
from billy.intents.timers import Timer, TimerBoard
from billy.knowledge import Knowledge
from billy.languages import language_code
from billy.media.playback import Player
from billy.media.songs import SongLibrary
from billy.media.sounds import SoundBank
from billy.models import defaults
from billy.persona.library import PersonaLibrary
from billy.persona.people import People, about
from billy.persona.persona import Persona
from billy.services.llm.client import ChatClient
from billy.services.llm.cloud import CloudBrain, chosen_brain, cloud_brain, speech_in_cloud
from billy.services.llm.profile import FULL, profile_for
from billy.services.stt.client import SttClient
from billy.services.tts.client import TtsClient
from billy.settings.original import log_original_settings, openai_tts_voice
from billy.settings.read import Settings

LOG = logging.getLogger(__name__)


def _openai(settings: Settings, stage_name: str) -> None:
    cloud_brain(settings, "openai").require_key(stage_name)


def build_clients(settings: Settings):
    """The three stages with their fallbacks, as the settings ask ("hybrid" is just configuration)."""
    key, base, timeout = settings.openai_api_key, settings.openai_base_url, settings.stage_timeout_seconds
    openai_stt = SttClient(base, defaults.OPENAI_STT_MODEL, key, timeout)
    openai_tts = TtsClient(base, settings.voice, defaults.OPENAI_TTS_MODEL, key, timeout)
    local_stt, local_llm, local_tts = _local_clients(settings)
    if not settings.use_local_models:
        brain = chosen_brain(settings)
        brain.require_key("USE_LOCAL_MODELS=false")
        if not speech_in_cloud(settings):
            LOG.info(
                "%s thinks; hearing and speaking stay on this Billy (%s has no speech API)",
                brain.provider,
                brain.provider,
            )
            return stage("stt", local_stt), stage("llm", _cloud_llm(settings, brain)), stage("tts", local_tts)
        return stage("stt", openai_stt), stage("llm", _cloud_llm(settings, brain)), stage("tts", openai_tts)
    for name in ("stt", "tts"):
        if getattr(settings, f"{name}_fallback") == "openai":
            _openai(settings, f"{name.upper()}_FALLBACK=openai")
    llm_fallback = None
    if settings.llm_fallback != "none":
        brain = cloud_brain(settings, settings.llm_fallback)
        brain.require_key(f"LLM_FALLBACK={settings.llm_fallback}")
        llm_fallback = _cloud_llm(settings, brain)
    return (
        stage("stt", local_stt, openai_stt if settings.stt_fallback == "openai" else None),
        stage("llm", local_llm, llm_fallback),
        stage("tts", local_tts, openai_tts if settings.tts_fallback == "openai" else None),
    )


def _cloud_llm(settings: Settings, brain: CloudBrain) -> ChatClient:
    return ChatClient(brain.base_url, brain.model, brain.api_key, settings.llm_timeout_seconds, settings.llm_max_tokens)


def _local_clients(settings: Settings):
    """This Billy's own ears, brain and voice (or the Wyoming servers named for them)."""
    timeout = settings.stage_timeout_seconds
    local_stt = (
        WyomingStt(settings.stt_wyoming_uri, timeout)
        if settings.stt_wyoming_uri
        else SttClient(settings.stt_url, settings.local_stt_model, "", timeout)
    )
    local_llm = ChatClient(
        settings.llm_url,
        settings.local_llm_model,
        "",
        settings.llm_timeout_seconds,
        settings.llm_max_tokens,
        profile_for(settings.local_llm_model),
    )
    local_tts = (
        WyomingTts(settings.tts_wyoming_uri, settings.local_tts_voice, timeout)
        if settings.tts_wyoming_uri
        else TtsClient(settings.tts_url, settings.local_tts_voice, defaults.OPENAI_TTS_MODEL, "", timeout)
    )
    return local_stt, local_llm, local_tts


def _build_billy(settings: Settings, microphone: Microphone, speaker: Speaker, fish: Fish) -> Billy:
    stt, llm, tts = build_clients(settings)
    microphone = with_gain(microphone, settings.mic_gain)  # MIC_GAIN, before anything listens
    watcher = wake_word_watcher(settings, microphone)
    if watcher is not None:  # the watcher reads the microphone; the Listener reads what it hands on
        microphone, speaker = watcher.tap, watcher.speaker(speaker)
    state_dir = settings.billy_state_dir
    personas = PersonaLibrary(state_dir)
    songs = SongLibrary(state_dir)
    sounds = SoundBank(state_dir / "sounds")
    home_assistant = (
        None
        if settings.ha_conversation == "off"
        else HomeAssistant(settings.ha_host, settings.ha_token, settings.ha_lang, settings.stage_timeout_seconds)
    )
    toolbox = ToolBox(personas, settings.allow_update_personality_ini, songs, home_assistant)
    toolbox.news = news_desk(settings, home_assistant)
    # A small local model gets a short prompt and a capped reply (its fallback, if any, gets the same prompt).
    profile = profile_for(settings.local_llm_model) if settings.use_local_models else FULL
    pipeline = Pipeline(
        stt,
        llm,
        tts,
        Player(speaker, fish),
        fish,
        sounds,
        Conversation(personas.persona, settings.billy_history_turns, profile.short_prompt),
        toolbox,
        language=None if settings.stt_language in ("", "auto") else settings.stt_language,
        text_only=settings.text_only_mode,
    )
    pipeline.max_sentences = profile.max_sentences
    pipeline.prefills = settings.use_local_models
    pipeline.realtime = brain_for(settings, remembered(settings))
    own_intents = OwnIntents(IntentMatcher(), default_language(settings)) if settings.billy_intents else None
    pipeline.before_llm = before_llm_steps(settings, tts.clients, home_assistant, own_intents, personas.persona)
    waits = (settings.end_of_speech_ms, settings.end_of_turn_complete_ms, settings.end_of_turn_incomplete_ms)
    end_of_turn = load_end_of_turn(
        settings.end_of_turn, settings.models_dir, *(scaled(wait, settings.turn_eagerness) for wait in waits)
    )
    listener = Listener(
        microphone, end_of_turn, settings.vad_threshold, settings.max_utterance_seconds, settings.silence_threshold
    )
    personas.on_switch.append(lambda persona: use_persona_voice(tts, settings, persona.voice))
    use_persona_voice(tts, settings, personas.persona.voice)
    personas.on_switch.append(lambda persona: setattr(fish, "articulation", articulation_of(persona, settings)))
    fish.articulation = articulation_of(personas.persona, settings)
    fish.head_retract_delay = settings.head_retract_delay_seconds
    billy = Billy(settings, microphone, pipeline, listener, fish, sounds, personas, songs, operations.BY_NAME)
    billy.people = People(state_dir, settings.default_user)
    billy.timers = TimerBoard(state_dir, lambda timer: billy.enqueue("ring", ring_arguments(timer, billy.timers)))
    pipeline.conversation.about = lambda: about(billy.people, billy.user)
    toolbox.knowledge = Knowledge(state_dir)
    pipeline.conversation.notes = toolbox.knowledge.notes_for
    toolbox.people, toolbox.user = billy.people, lambda: billy.user
    toolbox.set_user = lambda name: setattr(billy, "user", name)
    if own_intents is not None:
        own_intents.abilities = abilities_of(billy)
        own_intents.abilities.news = toolbox.news
        own_intents.matcher.warm_up(own_intents.default_language)
    if watcher is not None:
        billy.wake_word = watcher
        watcher.start(billy.press, billy.stopping)  # a detection is a button press
    return billy


def news_desk(settings: Settings, home_assistant: HomeAssistant | None) -> NewsDesk:
    """The news and the weather, for Billy's own intents and the get_news_digest tool."""
    timeout = settings.news_request_timeout_seconds
    weather = Weather(
        settings.weather_location,
        settings.open_meteo_forecast_url,
        settings.open_meteo_geocoding_url,
        timeout,
        fahrenheit=settings.weather_units == "fahrenheit",
    )
    elsewhere = home_assistant is not None and home_assistant.configured
    return NewsDesk(settings.news_feeds, weather, timeout, default_language(settings), weather_elsewhere=elsewhere)


def default_language(settings: Settings) -> str:
    """The language Billy hears and speaks unless he hears another: STT_LANGUAGE, else his voice's."""
    fixed = language_code(settings.stt_language) if settings.stt_language not in ("", "auto") else ""
    return fixed or language_code(settings.local_tts_voice) or "en"


def abilities_of(billy: Billy) -> Abilities:
    """What Billy's own intents may do with him."""

    def end_conversation() -> None:
        billy.end_session.set()

    return Abilities(
        songs=billy.songs,
        personas=billy.personas,
        people=billy.people,
        timers=billy.timers,
        volume=lambda: billy.volume,
        set_volume=billy.set_volume,
        mute=lambda: billy.set_mic_muted(True),
        end_conversation=end_conversation,
        user=lambda: billy.user,
        set_user=lambda name: setattr(billy, "user", name),
    )


def ring_arguments(timer: Timer, timers: TimerBoard) -> dict:
    """A timer's ring as it waits in Billy's work queue: what to say, in the language it was asked in."""
    late = timer.ends_at < timers.started_at  # it ended while Billy was not running
    return {
        "timer_id": timer.id,
        "name": timer.name,
        "seconds": timer.seconds,
        "language": timer.language,
        "late": late,
    }


def articulation_of(persona: Persona, settings: Settings) -> float:
    """How readily the mouth moves: the persona's `mouth_articulation` (its [META], as the original's v2 personas
    carry it), else MOUTH_ARTICULATION."""
    own = persona.meta.get("mouth_articulation", "").strip()
    if not own:
        return settings.mouth_articulation
    try:
        return max(0.0, min(10.0, float(own)))
    except ValueError:
        LOG.warning("persona mouth_articulation=%r is not a number 0-10: MOUTH_ARTICULATION decides", own)
        return settings.mouth_articulation


def use_persona_voice(tts, settings: Settings, voice: str) -> None:
    """A persona's `voice`: a piper voice name is used as is by the local TTS; an OpenAI voice name (what the
    original's personas carry) goes to the OpenAI fallback, and the local TTS keeps LOCAL_TTS_VOICE."""
    from billy.settings.original import OPENAI_TTS_VOICES, REALTIME_ONLY_VOICES

    openai_name = voice.lower() in OPENAI_TTS_VOICES or voice.lower() in REALTIME_ONLY_VOICES
    for client in tts.clients:
        if getattr(client, "api_key", ""):  # OpenAI's speech API
            client.voice = openai_tts_voice(voice) if openai_name else settings.voice
        else:
            client.voice = voice if voice and not openai_name else settings.local_tts_voice


def attach_mqtt(billy: Billy, settings: Settings) -> MqttLink:
    """Connect Billy to the broker (a no-op when MQTT_HOST is empty): he reports there and obeys it."""
    link = MqttLink(
        settings,
        billy,
        lambda: billy.persona.traits,
        lambda: billy.volume,
        lambda: billy.mic_muted,
        billy.personas.names,
        lambda: billy.persona.name,
        lambda: brain_of(billy),
    )
    billy.personas.on_switch.append(lambda persona: link.persona_changed())

    def cloud_usage(turn) -> None:  # after every turn: the cloud may have gone down, or come back, meanwhile
        if billy.pipeline.realtime is not None:
            link.publish_cloud_usage(billy.pipeline.realtime.report())

    billy.turn_observers.append(cloud_usage)
    billy.reporter = link
    link.start()
    if link.configured:
        UpdateWatch(settings.billy_state_dir, link.publish_update).start()
        link.publish_backup(BackupShelf.of(settings).entity())
    return link


def start_billy(
    settings: Settings,
    microphone: Microphone,
    speaker: Speaker,
    pin_factory=None,
    timeline: MotionTimeline | None = None,
    start: bool = True,
) -> Billy:
    """The one wiring of a running Billy (`billy run`, the demo, the benchmark, the tests): built from the
    settings, on MQTT (when MQTT_HOST is set), with his button, his loop started. `billy.close()` undoes it.

    `timeline` records every motor move, for the demo's plot and the tests; the appliance keeps none.
    `start=False` leaves the loop to the caller (`billy run` first waits for the services to answer).
    """
    fish = Fish(settings.billy_model, timeline, pin_factory, wiring(settings.billy_pins, settings.billy_model))
    billy = _build_billy(settings, microphone, speaker, fish)
    billy.link = attach_mqtt(billy, settings)
    billy.button = make_button(settings.button_pin, billy.press, pin_factory)
    billy.status_led = make_status_led(settings, pin_factory)
    if billy.status_led is not None:
        billy.state_observers.append(billy.status_led.set_state)
        billy.pipeline.player.song_observers.append(billy.status_led.show_song)
    billy.timers.on_change.append(lambda timers: billy.reporter.publish_timers(timers))
    billy.reporter.publish_timers(billy.timers.timers())
    billy.timers.start()
    if start:
        billy.start()
    return billy


def run_forever(settings: Settings, audio: str, audio_dir: Path, gpio: str) -> int:
    """`billy run`: real sound card and GPIO on the Pi; `audio=file` and `gpio=mock` elsewhere."""
    log_original_settings(os.environ)
    pin_factory = make_pin_factory(gpio)
    spool = None
    if audio == "file":
        spool = SpoolAudio(audio_dir)
        microphone, speaker = spool.microphone, spool.speaker
    else:
        from billy.audio.devices import SoundDeviceMicrophone, SoundDeviceSpeaker

        microphone = SoundDeviceMicrophone(settings.mic_preference, settings.chunk_ms)
        speaker = SoundDeviceSpeaker(settings.speaker_preference)
    billy = start_billy(settings, microphone, speaker, pin_factory, start=False)
    control = ControlServer(billy, socket_path(settings.billy_state_dir)).start()
    if spool is not None:
        billy.turn_observers.append(lambda turn: spool.write_reply(turn.result.heard, turn.result.said))
    signal.signal(signal.SIGTERM, lambda signum, frame: billy.stop())
    LOG.info(
        "Billy is starting (%s fish, %s wiring, pin library %s, button on GPIO%d, audio %s)",
        settings.billy_model,
        settings.billy_pins,
        describe_pin_factory(pin_factory),
        settings.button_pin,
        audio,
    )
    try:
        if wait_for_services(billy):
            announce_ready(billy)
            billy.start()
        while not billy.stopping.is_set():
            if spool is not None and billy.idle and spool.take_question() is not None:
                billy.press()
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        control.stop()
        billy.close()
    return 0
