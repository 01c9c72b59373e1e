"""The control socket `billy run` serves for the web page: each request does its one thing, a bad one is
answered with the reason and Billy carries on."""

from __future__ import annotations

import time

import pytest
from waiting import wait_until

from billy.appliance.control import ControlClient, ControlError, ControlServer, socket_path


@pytest.fixture
def billy_on_socket(tank_factory, tmp_path):
    tank = tank_factory(state_dir=tmp_path / "state")
    server = ControlServer(tank.billy, socket_path(tmp_path / "state")).start()
    yield tank, ControlClient(socket_path(tmp_path / "state"))
    server.stop()


def test_status_pulse_and_refusals(billy_on_socket) -> None:
    tank, control = billy_on_socket
    status = control.request("status")
    assert status["state"] == "idle" and status["volume"] == 80 and status["turns"] == []
    started = time.monotonic()
    control.request("pulse", motor="mouth")
    assert [m.value for m in tank.timeline.moves(started) if m.part == "mouth"] == [0.8, 0.0]
    for op, fields, reason in (
        ("dance", {}, "unknown request 'dance'"),
        ("say", {"text": "  "}, "the text is empty"),
        ("song", {"name": "nope"}, "no song called 'nope'; the songs are: none yet"),
        ("pulse", {"motor": "fin"}, "no motor called 'fin'"),
        ("clip", {"name": "../../etc/passwd"}, "no clip called"),
        ("brain", {"name": "cloudy"}, "unknown brain 'cloudy': allowed values are local, realtime, hybrid"),
        ("brain", {"name": "realtime"}, "BRAIN=realtime uses openai but OPENAI_API_KEY is empty"),
    ):
        with pytest.raises(ControlError, match=reason):
            control.request(op, **fields)
    status = control.request("status")
    assert status["state"] == "idle" and status["brain"] == "local"  # still answering, on the brain it had


def test_mic_level_hears_the_microphone(billy_on_socket, speak) -> None:
    tank, control = billy_on_socket
    assert control.request("mic_level")["level"] < 0.01  # silence
    tank.microphone.queue(speak("Testing the microphone, one two three."))
    assert control.request("mic_level")["level"] > 0.01


def test_unreachable_runtime_is_named(tmp_path) -> None:
    with pytest.raises(ControlError, match=r"not answering on .*control\.sock"):
        ControlClient(socket_path(tmp_path)).request("status")


def test_the_wifi_setup_speaks_through_billy(billy_on_socket, tmp_path) -> None:
    """The setup network has no screen: what the owner must do is said by Billy, through this socket."""
    from billy.appliance.billy import NullReporter
    from billy.cli.wifi import _say
    from billy.settings.read import load_settings

    class Said(NullReporter):
        def __init__(self) -> None:
            self.texts: list[str] = []

        def publish_said(self, text: str) -> None:
            self.texts.append(text)

    tank, _ = billy_on_socket
    tank.billy.reporter = said = Said()
    _say(load_settings({"BILLY_STATE_DIR": str(tmp_path / "state")}), "I'm on HomeNet now.")
    wait_until(lambda: said.texts == ["I'm on HomeNet now."], what="Billy saying it")
    _say(load_settings({"BILLY_STATE_DIR": str(tmp_path / "nobody")}), "Nobody hears this.")  # no runtime: no error
