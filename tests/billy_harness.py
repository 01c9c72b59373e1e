"""A whole Billy in the test process: real services, real VAD, file-backed sound card, gpiozero MockFactory."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.body.fish import make_button, make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.config import load_settings
from billy.runtime import Billy, Turn, build_billy


@dataclass
class Tank:
    """Billy on the test bench: what went in, what came out, what moved."""

    billy: Billy
    microphone: FileMicrophone
    speaker: FileSpeaker
    timeline: MotionTimeline
    pin_factory: object
    state_dir: Path
    button: object

    def press_button(self) -> None:
        pin = self.pin_factory.pin(self.billy.settings.button_pin)
        pin.drive_low()
        time.sleep(0.08)
        pin.drive_high()

    def ask(self, wav: bytes, timeout: float = 60) -> Turn:
        """Speak a question after pressing the button; wait for Billy's answer to end."""
        count = len(self.billy.turns)
        self.microphone.queue(wav)
        self.press_button()
        return self.wait_turn(count, timeout)

    def wait_turn(self, count: int, timeout: float = 60) -> Turn:
        deadline = time.monotonic() + timeout
        while len(self.billy.turns) <= count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no turn after {timeout} s; states: {self.billy.states[-10:]}")
            time.sleep(0.05)
        return self.billy.turns[count]

    def wait_idle(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not (self.billy.idle and self.billy.state == "idle"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"Billy not idle after {timeout} s (state {self.billy.state})")
            time.sleep(0.05)

    def close(self) -> None:
        self.billy.stop()
        self.button.close()
        self.billy.fish.close()


def make_tank(
    state_dir: Path, sounds_dir: Path, env: dict[str, str], reporter=None, devices: tuple | None = None
) -> Tank:
    """`devices`: a (microphone, speaker) pair of the file-backed kind, for example a loopback with latency."""
    state_dir.mkdir(parents=True, exist_ok=True)
    if not (state_dir / "sounds").exists():
        shutil.copytree(sounds_dir, state_dir / "sounds")
    settings = load_settings({"BILLY_STATE_DIR": str(state_dir), "MIC_TIMEOUT_SECONDS": "2", **env})
    microphone, speaker = devices or (FileMicrophone(), FileSpeaker())
    pin_factory = make_pin_factory("mock")
    timeline = MotionTimeline()
    billy = build_billy(settings, microphone, speaker, pin_factory, timeline, reporter)
    button = make_button(settings.button_pin, billy.press, pin_factory)
    billy.start()
    return Tank(billy, microphone, speaker, timeline, pin_factory, state_dir, button)
