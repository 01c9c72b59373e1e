"""BRAIN=realtime: the cloud's Realtime voice hears, thinks and speaks (issue 26), against a stand-in Realtime
server on a real WebSocket with the real STT and TTS behind it. The local LLM stand-in is the pipeline that
answers while the cloud is down."""

from __future__ import annotations

import json
import logging

import pytest
from test_conversation import all_motors_off, mouth_moves_only_while_sound_plays
from test_knowledge import HOUSE_NOTES
from test_wake_word import RAISED_VOICE_DB, WAKE, _ask_after_the_wake_up_clip, _raised, _talked_for
from waiting import wait_until

from billy.appliance.brain_choice import brain_for
from billy.appliance.status import status_of
from billy.conversation.tools import ToolBox, ToolError
from billy.devtools.realtime_standin import CallFunction, DropMidTurn, ErrorEvent, Garbage, RealtimeStandIn, Speak
from billy.knowledge import Knowledge
from billy.media.songs import SongLibrary
from billy.persona.library import PersonaLibrary
from billy.services.llm.client import ToolCall
from billy.services.realtime.link import RealtimeError, RealtimeVoice, probe
from billy.services.stt.client import SttClient
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

from billy_harness import TEST_TIMEOUT
from mosquitto import Collector, Mosquitto
from standins import HomeAssistantStandIn, Reply
from text_match import contains_words, words

KEY = "sk-realtime-billy"
QUESTION = "What do you like to eat?"


@pytest.fixture
def cloud(stt_service, tts_service):
    standin = RealtimeStandIn(KEY, stt_service.base_url, tts_service.base_url).start()
    yield standin
    standin.close()


def _realtime(cloud, **more) -> dict[str, str]:
    # The local pipeline's LLM stand-in stays reachable: it answers only when the cloud is down.
    return {**_realtime_env(cloud.base_url), **more}


def _realtime_env(base_url: str) -> dict[str, str]:
    return {"BRAIN": "realtime", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base_url}


def test_a_spoken_question_is_answered_in_the_clouds_streamed_voice_with_the_fish_moving(
    tank_factory, llm, cloud, speak
):
    cloud.then(Speak("Worms, mostly. And the occasional fly."))
    tank = tank_factory(_realtime(cloud, VOICE="ballad"))
    turn = tank.ask(speak(QUESTION))
    tank.wait_idle()
    result = turn.result
    assert words(result.heard) == words(QUESTION) and result.said == "Worms, mostly. And the occasional fly."
    assert result.answered_by == "realtime" and not result.failed_stage and llm.requests == []
    assert any(block.rate == 24000 and block.loud for block in tank.speaker.played_since())
    mouth_moves_only_while_sound_plays(tank)
    all_motors_off(tank)
    session = cloud.sessions[0]
    assert "Billy" in session["instructions"] and session["audio"]["output"]["voice"] == "ballad"
    assert {"smart_home_command", "play_song"} <= {tool["name"] for tool in session["tools"]}
    # The question went to the cloud as it was spoken, and the cloud's voice detector (TURN_EAGERNESS=medium:
    # the original's 1000 ms) ended it; Billy asked for the reply only then, and never committed it himself.
    detection = session["audio"]["input"]["turn_detection"]
    assert detection["type"] == "server_vad" and detection["silence_duration_ms"] == 1000
    assert not detection["create_response"]
    timeline = cloud.timeline
    first_append = timeline.index("client:input_audio_buffer.append")
    assert first_append < timeline.index("server:input_audio_buffer.speech_started")
    assert timeline.index("server:input_audio_buffer.speech_started") < timeline.index(
        "server:input_audio_buffer.speech_stopped"
    )
    assert timeline.index("server:input_audio_buffer.committed") < timeline.index("client:response.create")
    assert "client:input_audio_buffer.commit" not in timeline
    assert cloud.paths == ["/v1/realtime?model=gpt-realtime-mini"]
    usage = status_of(tank.billy)["cloud"]
    assert usage["turns"] == 1 and usage["audio_in_min"] > 0 and usage["audio_out_min"] > 0
    assert (usage["input_tokens"], usage["output_tokens"]) == (120, 60)  # the stand-in's response.done usage


def test_turn_eagerness_sets_the_clouds_silence_as_the_original_did():
    for eagerness, silence_ms in (("high", 250), ("medium", 1000), ("low", 1500)):
        settings = load_settings({**_realtime_env("http://127.0.0.1:9/v1"), "TURN_EAGERNESS": eagerness})
        assert brain_for(settings, "realtime").vad_silence_ms == silence_ms


def test_when_the_clouds_detector_never_ends_the_question_billys_silence_does(tank_factory, llm, cloud, speak):
    cloud.deaf_detector = True
    cloud.then(Speak("Worms."))
    turn = tank_factory(_realtime(cloud, TURN_EAGERNESS="high")).ask(speak(QUESTION))
    assert turn.result.said == "Worms." and words(turn.result.heard) == words(QUESTION)
    timeline = cloud.timeline
    assert "server:input_audio_buffer.speech_stopped" not in timeline
    assert timeline.index("client:input_audio_buffer.commit") < timeline.index("client:response.create")


def test_the_wake_phrase_while_the_cloud_speaks_cancels_its_response(tank_factory, llm, cloud, speak):
    cloud.then(Speak(" ".join(["Let me tell you about the river where I grew up, it was long and wide."] * 4), True))
    tank = tank_factory({**_realtime(cloud), **WAKE}, loopback=True)
    _ask_after_the_wake_up_clip(tank, speak(QUESTION))
    wait_until(lambda: tank.billy.state == "speaking", "Billy speaking")
    mark = tank.speaker.mark()
    wait_until(lambda: _talked_for(tank, mark, 1.0), "a second of the cloud's reply")
    tank.microphone.queue(_raised(speak("Okay Nabu."), RAISED_VOICE_DB))
    assert cloud.cancelled.wait(timeout=120), "response.cancel never reached the cloud"
    turn = tank.wait_turn(0)
    assert turn.result.interrupted and turn.result.answered_by == "realtime"
    assert len(tank.billy.wake_word.detections) == 1


def test_the_originals_xai_provider_speaks_with_grok_voice(tank_factory, llm, cloud, speak):
    cloud.key = "xai-realtime-billy"
    cloud.then(Speak("Rex here."))
    env = {"BRAIN": "realtime", "REALTIME_AI_PROVIDER": "xai", "XAI_API_KEY": cloud.key}
    turn = tank_factory({**env, "XAI_BASE_URL": cloud.base_url}).ask(speak(QUESTION))
    assert turn.result.said == "Rex here." and cloud.paths == ["/v1/realtime?model=grok-voice-latest"]
    assert cloud.sessions[0]["audio"]["output"]["voice"] == "rex"  # VOICE=ash is not one of xAI's


def test_the_second_turn_carries_the_first_as_history(tank_factory, llm, cloud, speak):
    cloud.then(Speak("Worms."), Speak("I said worms."))
    tank = tank_factory(_realtime(cloud))
    tank.ask(speak(QUESTION))
    tank.ask(speak("What did you say?"))
    history = [e["item"] for e in cloud.received if e["type"] == "conversation.item.create"]
    assert [(item["role"], item["content"][0]["text"]) for item in history][-1] == ("assistant", "Worms.")


def test_a_function_call_switches_home_assistants_light_and_billy_speaks_on(tank_factory, llm, cloud, speak):
    home = HomeAssistantStandIn(token="long-lived-token", speech="The kitchen light is now on.")
    try:
        cloud.then(
            CallFunction("smart_home_command", {"prompt": "turn on the kitchen light"}),
            Speak("Done, the kitchen is bright."),
        )
        env = {"HA_HOST": home.url, "HA_TOKEN": "long-lived-token", "HA_CONVERSATION": "llm"}
        turn = tank_factory(_realtime(cloud, **env)).ask(speak("Turn on the kitchen light."))
        assert home.requests[0]["body"]["text"] == "turn on the kitchen light"
        output = json.loads(cloud.function_outputs[0]["output"])
        assert "kitchen light is now on" in json.dumps(output).lower()
        assert turn.result.said == "Done, the kitchen is bright." and turn.result.tool_calls[0].name == (
            "smart_home_command"
        )
    finally:
        home.close()


def test_the_button_while_the_cloud_speaks_cancels_its_response(tank_factory, llm, cloud, speak):
    cloud.then(Speak("Let me tell you a long story about the sea and every fish in it.", hold=True))
    tank = tank_factory(_realtime(cloud))
    tank.microphone.queue(speak(QUESTION))
    tank.press_button()
    wait_until(lambda: tank.billy.state == "speaking", "Billy speaking")
    wait_until(lambda: any(b.loud for b in tank.speaker.played_since()), "Billy to be heard")
    tank.press_button()
    assert cloud.cancelled.wait(timeout=120), "response.cancel never reached the cloud"
    turn = tank.wait_turn(0)
    assert turn.result.interrupted and tank.billy.fish.motors_off


def test_a_drop_mid_turn_plays_the_error_clip_then_the_local_pipeline_answers_until_the_cloud_is_back(
    tank_factory, llm, cloud, speak, caplog
):
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    cloud.then(DropMidTurn("Worms, mostly, and then"), Speak("The cloud is back."))
    llm.then(Reply("Answered on this Billy."))
    tank = tank_factory(_realtime(cloud))
    brain = tank.billy.pipeline.realtime
    brain.probe_every = 0.2
    first = tank.ask(speak(QUESTION))
    assert first.result.failed_stage == "llm" and "closed the connection mid-turn" in caplog.text
    assert "closed the connection" in status_of(tank.billy)["cloud"]["down_because"] or brain.up
    second = tank.ask(speak(QUESTION))
    assert second.result.said == "Answered on this Billy." and second.result.answered_by != "realtime"
    assert brain.wait_back(timeout=120)
    third = tank.ask(speak(QUESTION))
    assert third.result.said == "The cloud is back." and third.result.answered_by == "realtime"
    assert len(llm.requests) == 1 and cloud.connections >= 3  # the two turns and the probe


def test_a_key_refused_while_the_question_is_spoken_leaves_the_turn_to_the_local_pipeline(
    tank_factory, llm, cloud, speak, caplog
):
    # The session opens as the user starts speaking, so the refusal comes before the question ends: nothing was
    # said or done, and the local pipeline hears the same question (no error clip).
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    llm.then(Reply("Answered on this Billy."), Reply("Still this Billy."))
    tank = tank_factory({**_realtime(cloud), "OPENAI_API_KEY": "sk-wrong"})
    first = tank.ask(speak(QUESTION))
    assert cloud.refused >= 1 and cloud.connections == 0
    assert "refused the key (HTTP 401)" in caplog.text and "check OPENAI_API_KEY" in caplog.text
    assert first.result.said == "Answered on this Billy." and not first.result.failed_stage
    assert tank.billy.pipeline.realtime.usage.turns == 0  # the cloud answered none
    assert words(first.result.heard) == words(QUESTION) and first.result.answered_by != "realtime"
    second = tank.ask(speak(QUESTION))
    assert second.result.said == "Still this Billy." and second.result.answered_by != "realtime"


def test_an_error_event_names_what_to_change():
    # The stand-in answers response.create with the provider's documented error shape.
    voice = RealtimeVoice(
        "openai", "ws://127.0.0.1:9/v1/realtime", "gpt-realtime-mini", KEY, "OPENAI_API_KEY", "ash", 5
    )
    with pytest.raises(RealtimeError, match="openai is unreachable"):
        probe(voice)
    with pytest.raises(ConfigError, match="BRAIN=realtime uses xai but XAI_API_KEY is empty"):
        from billy.services.llm.cloud import realtime_voice

        realtime_voice(load_settings({"BRAIN": "realtime", "REALTIME_AI_PROVIDER": "xai"}))


def test_a_model_the_account_cannot_use_is_named(tank_factory, llm, cloud, speak, caplog):
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    cloud.then(ErrorEvent("model_not_found", "The model gpt-realtime-max does not exist."))
    tank = tank_factory(_realtime(cloud, REALTIME_MODEL="gpt-realtime-max"))
    first = tank.ask(speak(QUESTION))
    assert first.result.failed_stage == "llm"
    assert "cannot use model gpt-realtime-max" in caplog.text and "check REALTIME_MODEL" in caplog.text


@pytest.mark.parametrize("frame", ['{"type": "response.output_audio.delta"}', "not an event {", "[1, 2]"])
def test_an_event_billy_cannot_read_fails_the_turn_not_billy(tank_factory, llm, cloud, speak, caplog, frame):
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    cloud.then(Garbage(frame))
    llm.then(Reply("Answered on this Billy."))
    tank = tank_factory(_realtime(cloud))
    assert tank.ask(speak(QUESTION)).result.failed_stage == "llm" and "cannot read" in caplog.text
    assert tank.ask(speak(QUESTION)).result.said == "Answered on this Billy."


def test_the_brain_is_switched_from_home_assistant_at_the_next_turn_and_kept_across_a_restart(
    tank_factory, llm, cloud, speak, tmp_path
):
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    watch = Collector(broker.port, ["homeassistant/+/billy/#", "billy/brain", "billy/heard", "billy/cloud/usage"])
    try:
        cloud.then(Speak("The cloud speaks now."))
        llm.then(Reply("Billy thinks here."))
        state_dir = tmp_path / "state"
        env = {
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": cloud.base_url,
            "MQTT_HOST": "127.0.0.1",
            "MQTT_PORT": str(broker.port),
        }  # BRAIN=local, the default
        tank = tank_factory(env, state_dir=state_dir)
        watch.wait_for(lambda: watch.latest().get("billy/brain") == b"local", what="billy/brain local")
        select = json.loads(watch.latest()["homeassistant/select/billy/brain/config"])
        assert select["options"] == ["local", "realtime", "hybrid"] and select["command_topic"] == "billy/brain/set"
        assert tank.ask(speak(QUESTION)).result.said == "Billy thinks here."
        watch.publish("billy/brain/set", "cloudy")  # refused, and the state stays what Billy kept
        watch.publish("billy/brain/set", "realtime")
        watch.wait_for(lambda: watch.payloads("billy/brain")[-1:] == ["realtime"], what="billy/brain realtime")
        second = tank.ask(speak(QUESTION))
        assert second.result.said == "The cloud speaks now." and second.result.answered_by == "realtime"
        watch.wait_for(lambda: watch.payloads("billy/heard")[-1:] == [second.result.heard], what="billy/heard")
        watch.wait_for(lambda: "billy/cloud/usage" in watch.latest(), what="billy/cloud/usage")
        assert json.loads(watch.latest()["billy/cloud/usage"])["turns"] == 1
        sensor = json.loads(watch.latest()["homeassistant/sensor/billy/cloud_usage/config"])
        assert sensor["unit_of_measurement"] == "min" and sensor["json_attributes_topic"] == "billy/cloud/usage"
        tank.close()
        again = tank_factory(env, state_dir=state_dir)  # a restart: the choice was kept
        assert again.billy.pipeline.realtime is not None
        again.close()
        # The owner sets BRAIN on the settings page afterwards: that wins, and the earlier choice is gone.
        assert tank_factory({**env, "BRAIN": "realtime"}, state_dir=state_dir).billy.pipeline.realtime is not None
        assert tank_factory({**env, "BRAIN": "local"}, state_dir=state_dir).billy.pipeline.realtime is None
        assert len(llm.requests) == 1
    finally:
        watch.close()
        broker.stop()


def test_past_the_daily_cap_the_local_pipeline_answers_and_billy_says_so_once(
    tank_factory, llm, cloud, speak, stt_service, caplog
):
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    cloud.then(Speak("Worms, mostly. And the occasional fly."))
    llm.then(Reply("Answered on this Billy."), Reply("Still on this Billy."))
    tank = tank_factory(_realtime(cloud, REALTIME_DAILY_CAP_MINUTES="0.03"))  # 1.8 s: less than one turn
    assert tank.ask(speak(QUESTION)).result.answered_by == "realtime"
    mark = tank.speaker.mark()
    second = tank.ask(speak(QUESTION))
    assert second.result.said == "Answered on this Billy." and "reached today's cap" in caplog.text
    heard_back = SttClient(stt_service.base_url, timeout=TEST_TIMEOUT).transcribe(tank.speaker.wav_since(mark))
    assert contains_words(heard_back, "cloud time"), heard_back
    third = tank.ask(speak(QUESTION))
    assert third.result.said == "Still on this Billy." and caplog.text.count("reached today's cap") == 1
    assert cloud.connections == 1 and status_of(tank.billy)["cloud"]["turns"] == 1


def test_hybrid_answers_locally_and_the_cloud_takes_a_turn_a_local_stage_fails(tank_factory, llm, cloud, speak):
    llm.then(Reply("Answered on this Billy."))
    cloud.then(Speak("The cloud covers for the model."))
    tank = tank_factory(_realtime(cloud, BRAIN="hybrid"))
    first = tank.ask(speak(QUESTION))
    assert first.result.said == "Answered on this Billy." and cloud.connections == 0
    llm.close()  # the local model's server goes away
    second = tank.ask(speak(QUESTION))
    assert second.result.said == "The cloud covers for the model." and second.result.answered_by == "realtime"
    assert not second.result.failed_stage and words(second.result.heard) == words(QUESTION)
    assert status_of(tank.billy)["brain"] == "hybrid"


@pytest.mark.parametrize(
    ("code", "told"),
    [("rate_limit_exceeded", "limits this account (rate_limit_exceeded)"), ("server_error", "error server_error")],
)
def test_a_rate_limit_or_an_outage_is_said_in_the_log_and_on_the_dashboard(
    tank_factory, llm, cloud, speak, caplog, code, told
):
    caplog.set_level(logging.WARNING, logger="billy.conversation.realtime_turn")
    cloud.then(ErrorEvent(code, "Try again later."))
    tank = tank_factory(_realtime(cloud))
    tank.billy.pipeline.realtime.probe_every = 3600  # keep it down while the dashboard is read
    assert tank.ask(speak(QUESTION)).result.failed_stage == "llm"
    assert told in caplog.text and caplog.text.count("the Realtime voice failed") == 1


def test_the_cloud_searches_the_owners_notes_with_the_originals_tool(tmp_path, tank_factory, llm, cloud, speak):
    # The local model is given the notes the question's words choose; the Realtime voice hears the question
    # itself, so it gets the original's search_local_knowledge instead (only when there are notes).
    state = tmp_path / "state"
    Knowledge(state).add("house.md", HOUSE_NOTES)
    cloud.then(CallFunction("search_local_knowledge", {"query": "green bin"}), Speak("Tuesday at seven, mate."))
    turn = tank_factory(_realtime(cloud), state_dir=state).ask(speak("When does the green bin go out?"))
    assert "search_local_knowledge" in {tool["name"] for tool in cloud.sessions[0]["tools"]}
    assert "Tuesday evening at seven" in json.loads(cloud.function_outputs[0]["output"])["notes"]
    assert turn.result.said == "Tuesday at seven, mate." and llm.requests == []


def test_the_search_is_offered_only_to_the_cloud_and_only_when_there_are_notes(tmp_path):
    toolbox = ToolBox(PersonaLibrary(tmp_path), False, SongLibrary(tmp_path), None)
    toolbox.knowledge = Knowledge(tmp_path)

    def offered(searching_notes: bool) -> bool:
        return "search_local_knowledge" in {tool["function"]["name"] for tool in toolbox.schemas(searching_notes)}

    assert not offered(True)
    toolbox.knowledge.add("house.md", HOUSE_NOTES)
    assert offered(True) and not offered(False)
    with pytest.raises(ToolError, match="unknown tool"):
        toolbox.run(ToolCall("c1", "search_local_knowledge", '{"query": "bin"}'))  # the local brain's
    with pytest.raises(ToolError, match="'query' must be text"):
        toolbox.run(ToolCall("c2", "search_local_knowledge", '{"query": 7}'), searching_notes=True)
