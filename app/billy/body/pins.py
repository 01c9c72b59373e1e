"""The fish's wiring (`BILLY_PINS`, BCM numbers) and the pin library that drives it.

Two wirings exist among owners of the original project: `legacy` (v1.x: two H-bridge inputs per motor) and
`new` (the default since its v1.5: one input per motor, the other tied to GND). On a modern (two-motor) fish
the tail is the head motor driven backwards, so its head channel has two inputs in both wirings.
"""

from __future__ import annotations

from dataclasses import dataclass

LAYOUTS = ("new", "legacy")
MODELS = ("modern", "classic")


@dataclass(frozen=True)
class Channel:
    """One motor's H-bridge inputs: `forward` carries PWM; `backward` is None when tied to GND."""

    forward: int
    backward: int | None = None

    @property
    def pins(self) -> tuple[int, ...]:
        return (self.forward,) if self.backward is None else (self.forward, self.backward)


@dataclass(frozen=True)
class Wiring:
    layout: str
    mouth: Channel
    head: Channel
    tail: Channel | None  # a classic fish's own tail motor; None: the head motor backwards
    button: int

    @property
    def motor_pins(self) -> list[int]:
        channels = [self.mouth, self.head] + ([self.tail] if self.tail else [])
        return sorted(pin for channel in channels for pin in channel.pins)


_WIRINGS = {
    ("legacy", "modern"): Wiring("legacy", Channel(12, 5), Channel(13, 6), None, 27),
    ("legacy", "classic"): Wiring("legacy", Channel(12, 5), Channel(13, 6), Channel(19, 26), 27),
    ("new", "modern"): Wiring("new", Channel(17), Channel(22, 27), None, 24),
    ("new", "classic"): Wiring("new", Channel(17), Channel(22), Channel(27), 24),
}


def wiring(layout: str, model: str) -> Wiring:
    return _WIRINGS[(layout, model)]


def boot_low_pins(layout: str) -> list[int]:
    """Every motor pin the layout may use (either fish), held low by the firmware from power-on."""
    return sorted({pin for model in MODELS for pin in wiring(layout, model).motor_pins})


class PinLibraryError(RuntimeError):
    """The pin library cannot drive the motors; the message says why and what to do."""


def make_pin_factory(kind: str):
    """gpiozero's MockFactory for `mock`; for `auto` lgpio or a PinLibraryError, never a silent fallback.

    gpiozero alone would quietly try other libraries, and on a Pi 5 only lgpio can drive the pins: a fish whose
    motors do nothing while the log says all is well is the failure this prevents.
    """
    if kind == "mock":
        return _mock_factory()
    try:
        import lgpio  # imported first to tell "not installed" from "no chip"
    except ImportError as error:
        raise PinLibraryError(
            f"the pin library lgpio is not installed ({error}): reinstall Billy with the playbook, "
            "or set BILLY_GPIO=mock on a machine without motors"
        ) from None
    except Exception as error:  # lgpio creates a notification pipe in the working directory on import
        raise PinLibraryError(
            f"the pin library lgpio failed to load ({error}): its working directory must be writable"
        ) from None
    from gpiozero.exc import GPIOZeroError
    from gpiozero.pins.lgpio import LGPIOFactory

    try:
        return LGPIOFactory()
    except (GPIOZeroError, OSError, lgpio.error) as error:
        raise PinLibraryError(
            f"no GPIO chip: lgpio cannot open one ({error}); on a Pi, check that /dev/gpiochip* exists and "
            "the billy user is in the gpio group, or set BILLY_GPIO=mock on a machine without motors"
        ) from None


def describe_pin_factory(factory) -> str:
    """The pin library in use, for the start log and `billy doctor`."""
    chip = getattr(factory, "_chip", None)
    name = type(factory).__name__.removesuffix("Factory").lower()
    return f"{name} (gpiochip{chip})" if chip is not None else name


def _mock_factory():
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    class LatestStateMockPin(MockPWMPin):
        """gpiozero's mock pin appends every change to `states` (for its own assertions); `billy run --gpio
        mock` runs for months and nothing reads that history, so only the latest state is kept."""

        def _change_state(self, value):
            changed = super()._change_state(value)
            del self.states[:-1]
            return changed

    return MockFactory(pin_class=LatestStateMockPin)
