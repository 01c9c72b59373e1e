"""The status LED, with the original's settings (`STATUS_LED_*`): what Billy is doing, seen across the room.

Two ways of wiring it, chosen by `STATUS_LED_BACKEND`:

- `spi`: a WS2812 ("NeoPixel") LED or strip on the SPI bus's MOSI (GPIO 10), the way that works on every Pi
  including the 5. Each of the LED's data bits is sent as three SPI bits at 2.4 MHz (1 as 110, 0 as 100), so
  the SPI clock makes the WS2812's 1.25 us bit timing without a real-time driver; green, red, blue in turn.
- `pwm`: a plain LED on `STATUS_LED_PIN` (GPIO 18) through gpiozero's PWM: one colour, so the states differ by
  their pattern (steady, pulsing, blinking) and brightness.
- `auto`: SPI when its device exists (SPI enabled), else the plain LED.

Every state of Billy's (appliance/states.py) has a look, plus "muted" (the microphone off) over any state, and
a song's own `led_color` while it plays. `STATUS_LED_BRIGHTNESS` scales everything (0.2: a glow, not a lamp).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from billy.appliance.states import STATES

LOG = logging.getLogger(__name__)
Colour = tuple[int, int, int]
OFF: Colour = (0, 0, 0)
FRAME_SECONDS = 0.02  # 50 redraws a second: a smooth pulse
SPI_HZ = 2_400_000  # three SPI bits per WS2812 bit of 1.25 us
SPI_IOC_WR_MAX_SPEED_HZ = 0x40046B04  # _IOW('k', 4, __u32) in linux/spi/spidev.h
PREVIEW_SECONDS = 3.0
RESET_BYTES = 32  # the line held low for 107 us (> the WS2812's 50 us reset, > the newer parts' 80 us)


@dataclass(frozen=True)
class Look:
    colour: Colour
    pattern: str  # steady, pulse, blink or rainbow
    period: float = 1.0  # seconds of one pulse, blink or turn of the rainbow


LOOKS = {
    "starting": Look((20, 90, 255), "pulse", 1.5),
    "idle": Look((0, 40, 16), "pulse", 3.0),
    "listening": Look((0, 200, 30), "steady"),
    "thinking": Look((140, 20, 255), "pulse", 0.8),
    "speaking": Look((255, 120, 0), "pulse", 1.0),
    "playing_song": Look((255, 255, 255), "rainbow", 1.5),
    "error": Look((255, 0, 0), "blink", 0.5),
    "muted": Look((90, 0, 0), "steady"),
    "off": Look(OFF, "steady"),
}
assert set(STATES) <= set(LOOKS), "every state of Billy's needs a look"


def colour_at(look: Look, seconds: float) -> Colour:
    """The colour of `look` `seconds` into it."""
    phase = (seconds % look.period) / look.period
    if look.pattern == "blink":
        return look.colour if phase < 0.5 else OFF
    if look.pattern == "pulse":  # from a fifth up to full and back, peaking a quarter into the period
        return _scaled(look.colour, 0.2 + 0.8 * (math.sin(2 * math.pi * phase) + 1) / 2)
    if look.pattern == "rainbow":
        return _wheel(phase)
    return look.colour


def parse_colour(text: str) -> Colour | None:
    """A song's `led_color`, "#rrggbb"; None when empty or not a colour."""
    digits = text.strip().removeprefix("#")
    if len(digits) != 6:
        return None
    try:
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    except ValueError:
        return None


def _scaled(colour: Colour, factor: float) -> Colour:
    return tuple(max(0, min(255, round(channel * factor))) for channel in colour)


def _wheel(phase: float) -> Colour:
    """Red to green to blue and back to red as `phase` goes from 0 to 1."""
    third, at = divmod(phase * 3, 1)
    up, down = round(255 * at), round(255 * (1 - at))
    return ((down, up, 0), (0, down, up), (up, 0, down))[int(third) % 3]


def ws2812_bytes(colours: list[Colour]) -> bytes:
    """What goes out on MOSI for these LEDs: each bit of green, red, blue as three SPI bits, then the reset."""
    bits = []
    for red, green, blue in colours:
        for byte in (green, red, blue):
            bits += [(0b110 if byte & (0x80 >> i) else 0b100) for i in range(8)]
    number = 0
    for triple in bits:
        number = (number << 3) | triple
    return number.to_bytes(len(bits) * 3 // 8, "big") + bytes(RESET_BYTES)


class SpiStrip:
    """WS2812 LEDs on an SPI device (`/dev/spidev0.0`), all showing one colour."""

    def __init__(self, device: Path, count: int) -> None:
        self.count = count
        self._fd = os.open(device, os.O_WRONLY)
        if stat.S_ISCHR(os.fstat(self._fd).st_mode):  # the real bus: its clock makes the WS2812's timing
            fcntl.ioctl(self._fd, SPI_IOC_WR_MAX_SPEED_HZ, SPI_HZ.to_bytes(4, "little"))

    def show(self, colour: Colour) -> None:
        os.write(self._fd, ws2812_bytes([colour] * self.count))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.show(OFF)
        os.close(self._fd)


class PwmLed:
    """A plain LED on a GPIO pin: the brightest channel of the colour becomes its brightness."""

    def __init__(self, pin: int, pin_factory) -> None:
        from gpiozero import PWMLED

        self._led = PWMLED(pin, pin_factory=pin_factory)

    @property
    def value(self) -> float:
        return self._led.value

    def show(self, colour: Colour) -> None:
        self._led.value = max(colour) / 255

    def close(self) -> None:
        self._led.close()


class StatusLed:
    """Shows Billy's state on `output` (a SpiStrip or a PwmLed), redrawn by its own thread."""

    def __init__(self, output, brightness: float) -> None:
        self.output = output
        self.brightness = brightness
        self.muted = False
        self.song_colour: Colour | None = None  # the song playing's led_color, if it has one
        self._state, self.since = "starting", time.monotonic()  # since: when the state began (time.monotonic())
        self._shown: Colour | None = None
        self._preview: tuple[str, float] | None = None  # (look, until): the body test showing one look
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-led", daemon=True)

    def start(self) -> StatusLed:
        self._thread.start()
        return self

    def set_state(self, state: str) -> None:
        with self._lock:
            if state != self._state:
                self._state, self.since = state, time.monotonic()

    def show_song(self, song) -> None:
        """A song starts (its led_color, if any, pulses instead of the rainbow) or ends (None)."""
        self.song_colour = parse_colour(song.info.led_color) if song is not None else None

    def preview(self, name: str, seconds: float = PREVIEW_SECONDS) -> None:
        """Show one look for a few seconds whatever Billy is doing (the web page's body test)."""
        if name not in LOOKS:
            raise LookupError(f"no LED look called {name!r}: the looks are {', '.join(LOOKS)}")
        with self._lock:
            self._preview, self.since = (name, time.monotonic() + seconds), time.monotonic()

    def look(self) -> Look:
        with self._lock:
            state, song, preview = self._state, self.song_colour, self._preview
        if preview is not None and time.monotonic() < preview[1]:
            return LOOKS[preview[0]]
        if self.muted and state != "playing_song":
            return LOOKS["muted"]
        if state == "playing_song" and song is not None:
            return Look(song, "pulse", 1.5)
        return LOOKS.get(state, LOOKS["off"])

    def draw(self, now: float) -> Colour:
        """Show what the LED looks like at `now` (time.monotonic()); the thread calls it, tests may too."""
        with self._lock:
            since = self.since
        colour = _scaled(colour_at(self.look(), now - since), self.brightness)
        if colour != self._shown:
            self.output.show(colour)
            self._shown = colour
        return colour

    def _run(self) -> None:
        while not self._stop.wait(FRAME_SECONDS):
            try:
                self.draw(time.monotonic())
            except OSError as error:  # a pulled wire or a busy bus: the fish goes on without his LED
                LOG.error("status LED: %s; it stays as it is", error)
                return

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)
        with contextlib.suppress(OSError):
            self.output.close()


def make_status_led(settings, pin_factory) -> StatusLed | None:
    """The LED the settings describe, started; None when STATUS_LED_ENABLED is off or it cannot be opened."""
    if not settings.status_led_enabled or settings.status_led_brightness <= 0:
        return None
    device = Path(settings.status_led_spi_device)
    backend = settings.status_led_backend
    if backend == "auto":
        backend = "spi" if device.exists() else "pwm"
    try:
        if backend == "spi":
            output = SpiStrip(device, settings.status_led_count)
        else:
            output = PwmLed(settings.status_led_pin, pin_factory)
    except Exception as error:  # gpiozero's pin errors, a missing or busy device: Billy runs without his LED
        LOG.error("status LED (%s) cannot be used: %s", backend, error)
        return None
    LOG.info("status LED on %s", device if backend == "spi" else f"GPIO {settings.status_led_pin}")
    return StatusLed(output, settings.status_led_brightness).start()
