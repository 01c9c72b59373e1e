"""The status LED (issue 25, item 1). A WS2812 on SPI: the bytes Billy writes go to a stand-in SPI device (a
file) and are decoded here, bit by bit as a WS2812 reads its data line, back into the colours it would show. A
plain LED on GPIO 18: gpiozero's own MockFactory pin, its PWM value read back. And a whole Billy, whose states
and songs reach the LED."""

from __future__ import annotations

import pytest
from waiting import wait_until

from billy.appliance.states import STATES
from billy.body.fish import make_pin_factory
from billy.body.status_led import LOOKS, PwmLed, SpiStrip, StatusLed, colour_at, make_status_led, parse_colour
from billy.settings.read import load_settings

from song_fixtures import v2_song

SPI_BITS = {0b110: 1, 0b100: 0}  # a WS2812 bit as three SPI bits at 2.4 MHz: a long or a short high pulse


def decode_ws2812(data: bytes) -> list[list[tuple[int, int, int]]]:
    """Each frame written (frames end in the reset's zero bytes) as the LEDs' (red, green, blue): every three SPI
    bits one WS2812 bit, every 24 WS2812 bits one LED's green, red and blue."""
    frames = []
    for frame in data.split(b"\x00" * 16):
        frame = frame.rstrip(b"\x00")
        if not frame:
            continue
        bits = bin(int.from_bytes(frame, "big"))[2:].zfill(len(frame) * 8)
        assert len(bits) % 72 == 0, f"{len(bits)} SPI bits is not a whole number of LEDs"
        ws_bits = [SPI_BITS[int(bits[i : i + 3], 2)] for i in range(0, len(bits), 3)]
        leds = []
        for start in range(0, len(ws_bits), 24):
            green, red, blue = (int("".join(map(str, ws_bits[start + k : start + k + 8])), 2) for k in (0, 8, 16))
            leds.append((red, green, blue))
        frames.append(leds)
    return frames


def _peak(look) -> float:
    """A moment at which the look shows its full colour (a pulse's crest, a blink's on phase)."""
    return look.period / 4


@pytest.mark.parametrize("state", [*STATES, "muted"])
def test_every_state_is_its_own_colour_decoded_from_the_spi_bytes(tmp_path, state):
    device = tmp_path / "spidev0.0"
    device.touch()
    led = StatusLed(SpiStrip(device, count=3), brightness=1.0)
    led.muted = state == "muted"
    led.set_state("idle" if state == "muted" else state)
    look = LOOKS[state]
    shown = led.draw(led.since + _peak(look))
    led.close()
    frames = decode_ws2812(device.read_bytes())
    assert frames[0] == [shown] * 3  # all three LEDs of the strip
    if look.pattern != "rainbow":
        assert shown == look.colour
    assert frames[-1] == [(0, 0, 0)] * 3  # closing turns it off


def test_the_looks_differ_so_an_owner_can_tell_the_states_apart():
    peaks = {state: colour_at(look, _peak(look)) for state, look in LOOKS.items() if state != "off"}
    assert len(set(peaks.values())) == len(peaks)


def test_patterns_move_in_time_and_brightness_scales(tmp_path):
    error, speaking = LOOKS["error"], LOOKS["speaking"]
    assert colour_at(error, 0.1) == (255, 0, 0) and colour_at(error, error.period * 0.75) == (0, 0, 0)
    crest, trough = colour_at(speaking, speaking.period / 4), colour_at(speaking, speaking.period * 3 / 4)
    assert crest == speaking.colour and max(trough) < max(crest) / 4
    rainbow = {colour_at(LOOKS["playing_song"], t) for t in (0.0, 0.5, 1.0)}
    assert rainbow == {(255, 0, 0), (0, 255, 0), (0, 0, 255)}
    device = tmp_path / "spi"
    device.touch()
    dim = StatusLed(SpiStrip(device, 1), brightness=0.2)
    dim.set_state("listening")
    assert dim.draw(dim.since) == (0, 40, 6)
    dim.close()
    assert decode_ws2812(device.read_bytes())[0] == [(0, 40, 6)]


def test_a_plain_led_on_gpio_18_shows_the_patterns_by_brightness():
    factory = make_pin_factory("mock")
    led = StatusLed(PwmLed(18, factory), brightness=1.0)
    led.set_state("listening")
    led.draw(led.since)
    assert factory.pin(18).state == pytest.approx(200 / 255)
    led.set_state("error")
    led.draw(led.since + LOOKS["error"].period * 0.75)  # a blink's dark half
    assert factory.pin(18).state == 0
    led.close()


def test_a_songs_led_color_pulses_while_it_plays(tmp_path):
    assert parse_colour("#1e90ff") == (30, 144, 255) and parse_colour("blue") is None and parse_colour("") is None
    device = tmp_path / "spi"
    device.touch()
    led = StatusLed(SpiStrip(device, 1), brightness=1.0)
    led.set_state("playing_song")
    led.song_colour = (30, 144, 255)
    assert led.draw(led.since + 1.5 / 4) == (30, 144, 255)
    led.muted = True  # a song plays on with the microphone muted: its colour stays
    assert led.look().colour == (30, 144, 255)
    led.close()


def test_settings_choose_the_led_and_a_missing_device_leaves_billy_without_one(tmp_path):
    factory = make_pin_factory("mock")
    assert make_status_led(load_settings({}), factory) is None  # off unless the owner turns it on
    on = {"STATUS_LED_ENABLED": "true", "STATUS_LED_SPI_DEVICE": str(tmp_path / "absent")}
    plain = make_status_led(load_settings(on), factory)  # auto, no SPI device: the plain LED on GPIO 18
    assert isinstance(plain.output, PwmLed)
    plain.close()
    assert make_status_led(load_settings({**on, "STATUS_LED_BACKEND": "spi"}), factory) is None
    assert make_status_led(load_settings({**on, "STATUS_LED_BRIGHTNESS": "0"}), factory) is None


def test_a_whole_billy_shows_his_states_and_a_songs_colour(tmp_path, tank_factory, llm, speak):
    device = tmp_path / "spidev0.0"
    device.touch()
    led_on = {"STATUS_LED_ENABLED": "true", "STATUS_LED_BRIGHTNESS": "1", "STATUS_LED_SPI_DEVICE": str(device)}
    tank = tank_factory(led_on)
    v2_song(tank.state_dir / "custom_songs")  # its metadata.ini has led_color = #00ff00
    led = tank.billy.status_led
    looks: list = []
    tank.billy.state_observers.append(lambda state: looks.append((state, led.look().colour)))
    tank.billy.pipeline.player.song_observers.append(lambda song: looks.append(("song", led.look().colour)))
    tank.ask(speak("Sing me a song."))
    assert ("listening", LOOKS["listening"].colour) in looks and ("song", (0, 255, 0)) in looks, looks
    wait_until(lambda: led.song_colour is None, "the song's colour gone when it ends")
    tank.billy.set_mic_muted(True)
    assert led.look() == LOOKS["muted"]
    wait_until(lambda: decode_ws2812(device.read_bytes())[-1:] == [[(90, 0, 0)]], "the muted colour written")


def test_the_body_test_shows_each_look_through_the_control_socket(tmp_path, tank_factory):
    from billy.appliance.body_test import show_led
    from billy.appliance.control import ControlClient, ControlError, ControlServer, socket_path

    device = tmp_path / "spidev0.0"
    device.touch()
    env = {"STATUS_LED_ENABLED": "true", "STATUS_LED_BRIGHTNESS": "1", "STATUS_LED_SPI_DEVICE": str(device)}
    tank = tank_factory(env, state_dir=tmp_path / "state")
    server = ControlServer(tank.billy, socket_path(tmp_path / "state")).start()
    try:
        control = ControlClient(socket_path(tmp_path / "state"))
        control.request("led", name="error")
        assert tank.billy.status_led.look() == LOOKS["error"]
        wait_until(lambda: [(255, 0, 0)] in decode_ws2812(device.read_bytes()), "the error red on the wire")
        with pytest.raises(ControlError, match="no LED look called 'disco'"):
            control.request("led", name="disco")
    finally:
        server.stop()
    plain = tank_factory(state_dir=tmp_path / "plain")
    with pytest.raises(LookupError, match="there is no status LED"):
        show_led(plain.billy, "error")
