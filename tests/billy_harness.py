"""A whole Billy in the test process: real services, real VAD, file-backed sound card, gpiozero MockFactory."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from waiting import wait_until

from billy.appliance.billy import Billy
from billy.appliance.turn import Turn
from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.body.fish import make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.settings.read import load_settings

# A bound for calls to the services that only fails a hung call, never a slow machine (tests run beside
# other work); Billy's own stage timeouts get the same in tests, except where a test sets its own.
TEST_TIMEOUT = 120


@dataclass
class Tank:
    """Billy on the test bench: what went in, what came out, what moved."""

    billy: Billy
    microphone: FileMicrophone
    speaker: FileSpeaker
    timeline: MotionTimeline
    pin_factory: object
    state_dir: Path
    states: list[str] = field(default_factory=list)  # every state Billy took, in order
    turns: list[Turn] = field(default_factory=list)  # every turn he finished, in order

    def press_button(self) -> None:
        pin = self.pin_factory.pin(self.billy.settings.button_pin)
        pin.drive_low()
        time.sleep(0.08)
        pin.drive_high()

    def ask(self, wav: bytes, timeout: float = 4 * TEST_TIMEOUT) -> Turn:
        """Speak a question after pressing the button; wait for Billy's answer to end."""
        count = len(self.turns)
        self.microphone.queue(wav)
        self.press_button()
        return self.wait_turn(count, timeout)

    def wait_turn(self, count: int, timeout: float = 4 * TEST_TIMEOUT) -> Turn:
        wait_until(lambda: len(self.turns) > count, f"turn {count + 1} (states: {self.states[-10:]})", timeout)
        return self.turns[count]

    def wait_idle(self, timeout: float = TEST_TIMEOUT) -> None:
        wait_until(lambda: self.billy.idle and self.billy.state == "idle", "Billy idle", timeout)

    def close(self) -> None:
        self.billy.close()


def make_tank(
    state_dir: Path, sounds_dir: Path, env: dict[str, str], loopback: bool = False, devices: tuple | None = None
) -> Tank:
    """`loopback`: the microphone also hears what the speaker plays (the file sound device's own loopback).
    `devices`: a (microphone, speaker) pair of the file-backed kind, for example one with output latency."""
    state_dir.mkdir(parents=True, exist_ok=True)
    if not (state_dir / "sounds").exists():
        shutil.copytree(sounds_dir, state_dir / "sounds")
    patient = {"STAGE_TIMEOUT_SECONDS": str(TEST_TIMEOUT), "LLM_TIMEOUT_SECONDS": str(TEST_TIMEOUT)}
    settings = load_settings({"BILLY_STATE_DIR": str(state_dir), "MIC_TIMEOUT_SECONDS": "2", **patient, **env})
    if devices is None:
        microphone = FileMicrophone()
        devices = (microphone, FileSpeaker(loopback=microphone if loopback else None))
    microphone, speaker = devices
    timeline = MotionTimeline()
    pin_factory = make_pin_factory("mock")
    billy = start_billy(settings, microphone, speaker, pin_factory, timeline)
    tank = Tank(billy, microphone, speaker, timeline, pin_factory, state_dir)
    billy.state_observers.append(tank.states.append)
    billy.turn_observers.append(tank.turns.append)
    return tank
