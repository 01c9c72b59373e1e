"""Whether Billy is on a network, and the boot-time decision to open the setup access point.

"On a network" is what a fish needs to reach Home Assistant: a default route (IPv4 or IPv6) through any
interface but loopback, read from the kernel's routing tables. It is the same whether the network came from
Ethernet, Imager's Wi-Fi or an earlier setup, and it needs nothing of networkd's internals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

LOG = logging.getLogger(__name__)
PROC_NET = Path("/proc/net")


def default_route(proc_net: Path = PROC_NET) -> str | None:
    """The interface of a default route, or None."""
    try:
        for line in (proc_net / "route").read_text().splitlines()[1:]:
            fields = line.split()
            # Iface Destination Gateway Flags ... Mask: a destination and mask of 0, the route up (flag 1).
            if len(fields) > 7 and fields[1] == "00000000" and fields[7] == "00000000" and int(fields[3], 16) & 1:
                return fields[0]
    except OSError:
        pass
    try:
        for line in (proc_net / "ipv6_route").read_text().splitlines():
            fields = line.split()
            # destination, prefix length, ..., flags, device; RTF_REJECT (0x200) is "unreachable", not a route.
            default = len(fields) == 10 and fields[0] == "0" * 32 and fields[1] == "00" and fields[9] != "lo"
            if default and not int(fields[8], 16) & 0x200:
                return fields[9]
    except OSError:
        pass
    return None


def wait_for_network(
    seconds: float,
    stop: threading.Event | None = None,
    *,
    proc_net: Path = PROC_NET,
    every: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """The interface a default route came up on within `seconds`, or None when none did."""
    stop = stop or threading.Event()
    deadline = clock() + seconds
    while True:
        found = default_route(proc_net)
        if found is not None or clock() >= deadline:
            return found
        if stop.wait(min(every, max(0.0, deadline - clock()))):
            return default_route(proc_net)


def button_held(pin: int | None, gpio: str) -> bool:
    """Is the fish's button held right now (at boot): the owner's way to ask for the setup network."""
    if pin is None:
        return False
    try:
        from gpiozero import Button

        from billy.body.pins import make_pin_factory

        button = Button(pin, pull_up=True, pin_factory=make_pin_factory(gpio))
    except Exception as error:  # no GPIO (a machine without a fish): the button cannot be asked
        LOG.info("the button cannot be read (%s): only a missing network opens the setup network", error)
        return False
    try:
        return bool(button.is_pressed)
    finally:
        button.close()
