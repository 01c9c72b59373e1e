"""The motors of a Big Mouth Billy Bass on H-bridges, wired as the original project's owners did (`pins.py`).

Modern fish: two motors, the tail is the head motor driven backwards. Classic fish: a third motor for the
tail. The mouth follows the loudness of what is playing; the head comes out while Billy speaks; the tail
flaps in interludes and to drum hits. A watchdog stops any motor left on too long, since a stalled motor
against its end stop heats up and drains the supply.
"""

from __future__ import annotations

import logging
import threading
import time

from gpiozero import Button, Motor, PWMOutputDevice

from billy.body.pins import Channel, Wiring, wiring
from billy.body.pins import make_pin_factory as make_pin_factory  # where the runtime, demo and tests find it
from billy.body.timeline import MotionTimeline

MOUTH_OPEN_LEVEL = 0.015  # RMS fraction of full scale above which the mouth opens, at MOUTH_ARTICULATION 5
DEFAULT_ARTICULATION = 5
MAX_ON_SECONDS = {"mouth": 2.0, "head": 30.0, "tail": 1.5}
LOG = logging.getLogger(__name__)


class OneWayMotor:
    """A motor on one H-bridge input (the other tied to GND): forward only, as gpiozero's Motor is driven."""

    def __init__(self, pin: int, pin_factory=None) -> None:
        self._device = PWMOutputDevice(pin, pin_factory=pin_factory)

    def forward(self, speed: float = 1.0) -> None:
        self._device.value = speed

    def backward(self, speed: float = 1.0) -> None:
        raise ValueError("this motor's second H-bridge input is tied to GND: it cannot run backwards")

    def stop(self) -> None:
        self._device.off()

    @property
    def value(self) -> float:
        return self._device.value

    def close(self) -> None:
        self._device.close()


def mouth_open_level(articulation: float) -> float:
    """The loudness that opens the mouth at MOUTH_ARTICULATION `articulation` (the original's 0-10): each two and a
    half steps up halve it, so 10 opens on a quarter of the loudness 5 needs (every syllable), 0 on four times
    (only the loud ones)."""
    return MOUTH_OPEN_LEVEL * 2 ** ((DEFAULT_ARTICULATION - max(0.0, min(10.0, articulation))) / 2.5)


def _motor(channel: Channel, pin_factory):
    if channel.backward is None:
        return OneWayMotor(channel.forward, pin_factory)
    return Motor(channel.forward, channel.backward, pwm=True, pin_factory=pin_factory)


class Fish:
    def __init__(
        self, model: str, timeline: MotionTimeline | None = None, pin_factory=None, wired: Wiring | None = None
    ) -> None:
        self.model = model
        self.wiring = wired or wiring("new", model)
        self.timeline = timeline  # None on the appliance: a record of every move would only grow
        self.pin_factory = pin_factory
        self.mouth = _motor(self.wiring.mouth, pin_factory)
        self.head = _motor(self.wiring.head, pin_factory)
        self.tail = _motor(self.wiring.tail, pin_factory) if self.wiring.tail else None
        self.articulation = DEFAULT_ARTICULATION  # MOUTH_ARTICULATION, or the persona's mouth_articulation
        self.head_retract_delay = 0.0  # HEAD_RETRACT_DELAY_SECONDS: the head stays out this long after speech
        self._retract: threading.Timer | None = None
        self._on_since: dict[str, float] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="motor-watchdog", daemon=True)
        self._watchdog.start()

    def _motor_for(self, part: str) -> Motor:
        if part == "mouth":
            return self.mouth
        if part == "tail" and self.tail is not None:
            return self.tail
        return self.head

    def _drive(self, part: str, value: float) -> None:
        """value > 0 forward, < 0 backward, 0 off; recorded as the part's power."""
        with self._lock:
            motor = self._motor_for(part)
            if part == "tail" and self.tail is None:
                value = -abs(value)  # the modern fish's tail is its head motor backwards
            if value > 0:
                motor.forward(min(1.0, value))
            elif value < 0:
                motor.backward(min(1.0, -value))
            else:
                motor.stop()
            if value:
                self._on_since.setdefault(part, time.monotonic())
            else:
                self._on_since.pop(part, None)
            if self.tail is None and part in ("head", "tail"):
                self._on_since.pop("tail" if part == "head" else "head", None)  # one motor, one direction
            if self.timeline is not None:
                self.timeline.record(part, abs(value))
                if part == "tail" and self.tail is None:
                    self.timeline.record("head", 0.0)
                if part == "head" and self.tail is None:
                    self.timeline.record("tail", 0.0)

    def follow(self, loudness: float) -> None:
        """Mouth open while the sound is loud, closed in the gaps: called for every played block."""
        self._drive("mouth", min(1.0, 0.6 + loudness * 4) if loudness >= mouth_open_level(self.articulation) else 0.0)

    def close_mouth(self) -> None:
        self._drive("mouth", 0.0)

    def head_out(self) -> None:
        with self._lock:
            self._cancel_retract()
            self._drive("head", 0.8)

    def head_back(self) -> None:
        with self._lock:
            self._cancel_retract()
            self._drive("head", 0.0)

    def head_back_after_speech(self) -> None:
        """The head back once Billy has finished speaking: after `head_retract_delay` seconds, as the original
        does, so it does not bob between one answer and the next; speaking again meanwhile keeps it out."""
        if self.head_retract_delay <= 0:
            self.head_back()
            return
        with self._lock:
            self._cancel_retract()
            self._retract = threading.Timer(self.head_retract_delay, self._retract_now)
            self._retract.daemon = True
            self._retract.start()

    def _retract_now(self) -> None:
        with self._lock:
            if not self._stop.is_set():  # not after close(): the motors are released
                self._drive("head", 0.0)
            self._retract = None

    def _cancel_retract(self) -> None:
        if self._retract is not None:
            self._retract.cancel()
            self._retract = None

    def tail_out(self) -> bool:
        """Start a tail flap; False (nothing moves) while the modern fish's shared motor has the head out."""
        with self._lock:
            if self.tail is None and self.head.value:
                return False
            self._drive("tail", 0.9)
            return True

    def tail_back(self) -> None:
        """End a tail flap, unless the head took the shared motor meanwhile."""
        with self._lock:
            if "tail" in self._on_since:
                self._drive("tail", 0.0)

    def flap_tail(self, seconds: float = 0.25) -> None:
        """One tail flap; blocks for its duration (call from a worker thread while speaking)."""
        if self.tail_out():
            time.sleep(seconds)
            self.tail_back()

    def pulse(self, part: str, seconds: float = 0.3) -> None:
        """A short push on one motor, for the owner checking the wiring (the web page's body test)."""
        if part not in MAX_ON_SECONDS:
            raise LookupError(f"no motor called {part!r}: the motors are {', '.join(MAX_ON_SECONDS)}")
        if part == "tail":
            self.flap_tail(seconds)
            return
        self._drive(part, 0.8)
        time.sleep(seconds)
        self._drive(part, 0.0)

    def stop_all(self) -> None:
        with self._lock:
            self._cancel_retract()
            for part in ("mouth", "head", "tail"):
                self._drive(part, 0.0)

    @property
    def motors_off(self) -> bool:
        motors = [self.mouth, self.head] + ([self.tail] if self.tail else [])
        return all(motor.value == 0 for motor in motors)

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            with self._lock:
                now = time.monotonic()
                for part, since in list(self._on_since.items()):
                    if now - since > MAX_ON_SECONDS[part]:
                        LOG.warning("watchdog: %s motor on for %.1f s, stopping it", part, now - since)
                        self._drive(part, 0.0)

    def close(self) -> None:
        """Motors off and released; a second close (Billy closed twice on the way down) does nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.stop_all()
        for motor in (self.mouth, self.head, self.tail):
            if motor is not None:
                motor.close()


def make_button(pin: int, on_press, pin_factory=None) -> Button:
    button = Button(pin, pull_up=True, bounce_time=0.05, pin_factory=pin_factory)
    button.when_pressed = on_press
    return button
