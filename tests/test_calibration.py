"""Microphone calibration and MIC_GAIN (issue 25, item 2): file audio at known levels into a running Billy's
microphone, measured through the control socket the web page uses, and `billy calibrate` proposing and saving
the gain and the loudness floor."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from billy.appliance.control import ControlClient, ControlError, ControlServer, socket_path
from billy.audio.gain import GainMicrophone
from billy.audio.pcm import Pcm, loudness
from billy.cli.tools import cmd_calibrate
from billy.hearing.calibration import CalibrationError, Levels, propose
from billy.settings.kinds import ConfigError
from billy.settings.local import read_overrides
from billy.settings.read import load_settings

RATE = 16000


def _noise(rms: float, seconds: float, seed: int = 1) -> Pcm:
    """White noise at `rms` of full scale: a room with a fridge in it."""
    samples = np.random.default_rng(seed).normal(0, rms * 32768, int(seconds * RATE))
    return Pcm(np.clip(samples, -32768, 32767).astype(np.int16), RATE)


class _Frames:
    def __init__(self, samples: np.ndarray) -> None:
        self.samples, self.rate = samples, RATE

    def read(self, count: int) -> np.ndarray:
        return self.samples[:count]


def test_mic_gain_is_decibels_in_software_clipped_at_full_scale():
    tone = (np.sin(np.arange(RATE) / RATE * 2 * np.pi * 440) * 1000).astype(np.int16)
    louder = GainMicrophone(_Frames(tone), 6).read(RATE)
    assert loudness(louder) / loudness(tone) == pytest.approx(10 ** (6 / 20), rel=0.001)
    assert GainMicrophone(_Frames(tone * 30), 30).read(RATE).max() == 32767
    assert GainMicrophone(_Frames(tone), 6).rate == RATE  # the rest is the microphone's


def test_mic_gain_takes_the_originals_max_or_decibels():
    assert load_settings({}).mic_gain == 0.0 and load_settings({"MIC_GAIN": "max"}).mic_gain == 0.0
    assert load_settings({"MIC_GAIN": "12"}).mic_gain == 12.0 and load_settings({"MIC_GAIN": "-6 dB"}).mic_gain == -6
    with pytest.raises(ConfigError, match=r"MIC_GAIN='40' is out of range: expected max \(no software gain\)"):
        load_settings({"MIC_GAIN": "40"})


def test_the_proposal_brings_the_voice_to_a_tenth_of_full_scale_above_the_room():
    proposal = propose(0, Levels(0.002, 0.003), Levels(0.004, 0.02))
    assert proposal.mic_gain_db == 14  # 20 log10(0.1 / 0.02) = 13.98
    after = 10 ** (14 / 20)
    assert proposal.silence_threshold == round(0.002 * after * 2 * 32767)  # 6 dB over the room, under the voice
    assert proposal.settings() == {"MIC_GAIN": "14", "SILENCE_THRESHOLD": str(proposal.silence_threshold)}
    already = propose(14, Levels(0.002 * after, 0.0), Levels(0.0, 0.1))  # measured with the gain already on
    assert already.mic_gain_db == 14
    assert propose(0, Levels(0.0001, 0.0), Levels(0.0, 0.0005)).mic_gain_db == 30  # as far as it goes
    with pytest.raises(CalibrationError, match="hardly louder than the room"):
        propose(0, Levels(0.02, 0.03), Levels(0.02, 0.03))


@pytest.fixture
def billy_on_socket(tank_factory, tmp_path):
    tank = tank_factory({"MIC_GAIN": "6"}, state_dir=tmp_path / "state")
    server = ControlServer(tank.billy, socket_path(tmp_path / "state")).start()
    yield tank, ControlClient(socket_path(tmp_path / "state"), timeout=30)
    server.stop()


def test_billy_measures_the_room_through_his_gain(billy_on_socket):
    tank, control = billy_on_socket
    tank.microphone.queue(_noise(0.002, 1.5))
    room = control.request("mic_measure", seconds=1)
    assert room["mic_gain_db"] == 6
    assert room["floor"] == pytest.approx(0.002 * 10 ** (6 / 20), rel=0.1)
    for seconds in (0, 60, "3", True):
        with pytest.raises(ControlError, match=r"seconds must be a number from 0\.5 to 10"):
            control.request("mic_measure", seconds=seconds)


def test_billy_calibrate_measures_room_and_voice_and_saves_the_proposal(billy_on_socket, speak, tmp_path, capsys):
    tank, _ = billy_on_socket
    tank.microphone.queue(_noise(0.003, 1.2, seed=2))  # the room, read first
    tank.microphone.queue(speak("Hello Billy, this is how loud I talk to you every day."))
    config = tmp_path / "etc"
    config.mkdir()
    settings = load_settings({"BILLY_STATE_DIR": str(tmp_path / "state")})
    arguments = argparse.Namespace(seconds=1.0, save=True, config_dir=str(config))
    assert cmd_calibrate(arguments, settings) == 0
    said = capsys.readouterr().out
    assert "Stay quiet for 1 seconds" in said and "proposed MIC_GAIN=" in said, said
    saved = read_overrides(config)
    gain, floor = float(saved["MIC_GAIN"]), int(saved["SILENCE_THRESHOLD"])
    room_db = 20 * math.log10(0.003) + 6
    voice_db = float(said.split("your voice ")[1].split(" dBFS")[0])
    # Applied, the new gain puts the voice within a decibel of -20 dBFS (the proposal's aim) ...
    assert abs(voice_db + (gain - 6) - (-20)) <= 1.5, (voice_db, gain)
    # ... and the loudness floor between the room and the voice, both at the new gain.
    after = 10 ** ((gain - 6) / 20)
    assert 10 ** (room_db / 20) * after * 32767 < floor < 10 ** (voice_db / 20) * after * 32767
    load_settings(saved)  # what was saved is valid
