"""Start-up in order: Billy stays `starting` until STT, TTS and the LLM answer, then says "ready" once."""

from __future__ import annotations

import logging
import shutil
import threading

from billy.appliance.startup import announce_ready, wait_for_services
from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.audio.pcm import read_wav
from billy.body.pins import make_pin_factory
from billy.settings.read import load_settings


class StateLog:
    """Where the states go, as MQTT's billy/state would carry them."""

    def __init__(self) -> None:
        self.states: list[str] = []

    def publish_state(self, state: str) -> None:
        self.states.append(state)

    def publish_heard(self, text: str) -> None: ...

    def publish_said(self, text: str) -> None: ...


def test_billy_waits_for_every_service_then_says_ready_once(tmp_path, sounds_dir, stt_service, tts_service, llm):
    shutil.copytree(sounds_dir, tmp_path / "sounds")
    wanted_model = "billy-loading"  # not served yet: the LLM is still "loading" it
    settings = load_settings(
        {
            "BILLY_STATE_DIR": str(tmp_path),
            "STT_BASE_URL": stt_service.base_url,
            "TTS_BASE_URL": tts_service.base_url,
            "LLM_BASE_URL": llm.base_url,
            "LOCAL_LLM_MODEL": wanted_model,
        }
    )
    speaker, reporter = FileSpeaker(realtime=False), StateLog()
    billy = start_billy(settings, FileMicrophone(), speaker, make_pin_factory("mock"), start=False)
    billy.reporter = reporter
    waiting = threading.Event()
    handler = logging.Handler()
    handler.emit = lambda record: waiting.set() if record.getMessage().startswith("waiting for llm") else None
    logging.getLogger("billy.appliance.startup").addHandler(handler)
    logging.getLogger("billy.appliance.startup").setLevel(logging.INFO)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(wait_for_services(billy, poll_seconds=0.1)))
    waiter.start()
    try:
        assert waiting.wait(30), "Billy never said what he waits for"
        assert result == [] and reporter.states == ["starting"] and speaker.mark() == 0
        llm.model = wanted_model  # the LLM has loaded the model: every service answers now
        waiter.join(30)
        assert result == [True]
        announce_ready(billy)
        ready = read_wav((tmp_path / "sounds" / "ready.wav").read_bytes())
        played = speaker.played_since(0)  # "ready" was spoken, whole and once, before any listening
        assert sum(len(block.samples) for block in played) == len(ready.samples)
        assert {block.rate for block in played} == {ready.rate}
        assert reporter.states == ["starting"]
    finally:
        logging.getLogger("billy.appliance.startup").removeHandler(handler)
        billy.stop()
        waiter.join(10)
        billy.close()
