"""The fish's two wirings (BILLY_PINS): each drives its own pins, the button follows, config.txt agrees."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from billy.body.fish import Fish, make_button
from billy.body.pins import PinLibraryError, boot_low_pins, describe_pin_factory, make_pin_factory, wiring
from billy.body.timeline import MotionTimeline
from billy.settings.kinds import ConfigError
from billy.settings.read import load_settings

ROLES = Path(__file__).resolve().parent.parent / "roles"
ALL_PINS = (5, 6, 12, 13, 17, 19, 22, 26, 27)

# (layout, model) -> what each move drives: {pin: expected value > 0}; every other motor pin stays at 0.
EXPECTED = {
    ("new", "modern"): {"mouth": {17}, "head": {22}, "tail": {27}},
    ("new", "classic"): {"mouth": {17}, "head": {22}, "tail": {27}},
    ("legacy", "modern"): {"mouth": {12}, "head": {13}, "tail": {6}},
    ("legacy", "classic"): {"mouth": {12}, "head": {13}, "tail": {19}},
}


def _driven(factory) -> set[int]:
    return {pin for pin in ALL_PINS if factory.pin(pin).state > 0}


@pytest.mark.parametrize(("layout", "model"), sorted(EXPECTED))
def test_each_wiring_drives_its_own_pins(layout, model):
    factory = make_pin_factory("mock")
    fish = Fish(model, MotionTimeline(), factory, wiring(layout, model))
    try:
        moves = {"mouth": lambda: fish.follow(0.5), "head": fish.head_out, "tail": lambda: fish._drive("tail", 0.9)}
        for part, move in moves.items():
            move()
            assert _driven(factory) == EXPECTED[(layout, model)][part], f"{layout}/{model} {part}"
            fish.stop_all()
            assert _driven(factory) == set()
    finally:
        fish.close()


@pytest.mark.parametrize(("env", "pin"), [({}, 24), ({"BILLY_PINS": "legacy"}, 27), ({"BUTTON_PIN": "4"}, 4)])
def test_the_button_follows_the_wiring_unless_button_pin_says_otherwise(env, pin):
    settings = load_settings(env)
    assert settings.button_pin == pin
    factory = make_pin_factory("mock")
    presses = []
    button = make_button(settings.button_pin, lambda: presses.append(1), factory)
    try:
        factory.pin(pin).drive_low()
        factory.pin(pin).drive_high()
        assert presses == [1]
    finally:
        button.close()


def test_a_button_on_a_motor_pin_is_refused_with_the_wiring_named():
    with pytest.raises(ConfigError) as error:
        load_settings({"BUTTON_PIN": "27"})
    assert "BUTTON_PIN=27 is a motor pin of the new wiring" in str(error.value)
    assert "BILLY_PINS=legacy" in str(error.value)
    assert load_settings({"BUTTON_PIN": "27", "BILLY_PINS": "legacy"}).button_pin == 27


def test_config_txt_holds_low_exactly_the_pins_of_the_chosen_wiring():
    """billy_os writes `gpio=<pins>=op,dl`; its table must be the app's (one source of truth, checked here)."""
    defaults = yaml.safe_load((ROLES / "billy_os" / "defaults" / "main.yml").read_text())
    table = defaults["billy_os_boot_low_pins"]
    assert set(table) == {"new", "legacy"}
    for layout, pins in table.items():
        assert pins == boot_low_pins(layout), layout
    assert boot_low_pins("new") == [17, 22, 27]
    assert boot_low_pins("legacy") == [5, 6, 12, 13, 19, 26]


def test_without_a_gpio_chip_the_pin_library_fails_loudly(tmp_path, monkeypatch):
    """This machine has lgpio but no Raspberry Pi GPIO: a clear error, never another library quietly."""
    monkeypatch.chdir(tmp_path)  # lgpio makes its notification pipe in the working directory
    with pytest.raises(PinLibraryError, match="no GPIO chip"):
        make_pin_factory("auto")
    assert describe_pin_factory(make_pin_factory("mock")) == "mock"
