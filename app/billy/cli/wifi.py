"""`billy wifi`: the setup network for a fish with no network (billy.wifi), run as root by billy-wifi-setup."""

from __future__ import annotations

import argparse
import logging

from billy.settings.read import Settings


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    from billy.wifi import radio
    from billy.wifi.setup import WifiSetup

    interface = args.interface or next(iter(radio.wireless_interfaces()), "")
    if not interface:
        print("billy wifi: no Wi-Fi radio on this machine, nothing to set up")
        return 0
    setup = WifiSetup(interface, settings.wifi_country, join_seconds=args.join_seconds,
                      retry_known_seconds=settings.billy_wifi_setup_retry_seconds,
                      tell=lambda text: _say(settings, text))  # fmt: skip
    if args.now:
        return setup.run()
    return setup.at_boot(settings.billy_wifi_setup_seconds, settings.button_pin, settings.billy_gpio)


def _say(settings: Settings, text: str) -> None:
    """Billy says it, through his runtime's control socket; a runtime that is not up just misses it."""
    from billy.appliance.control_client import ControlClient, ControlError, socket_path

    try:
        ControlClient(socket_path(settings.billy_state_dir)).request(
            "say", text=text, literal=True, interactive=False, follow_up=False
        )
    except (ControlError, OSError) as error:  # the setup goes on without his voice
        logging.getLogger(__name__).info("Billy could not say %r: %s", text, error)


def add_commands(commands, settings: Settings) -> None:
    wifi = commands.add_parser("wifi", help="the Billy-Setup Wi-Fi for a fish with no network")
    actions = wifi.add_subparsers(dest="action", required=True)
    setup = actions.add_parser(
        "setup",
        help="at boot: open the Billy-Setup network when the button is held or no network came up within "
        "BILLY_WIFI_SETUP_SECONDS; --now: open it at once",
    )
    setup.add_argument("--interface", default="", help="the Wi-Fi interface (the first one)")
    setup.add_argument("--now", action="store_true", help="open the setup network now, without waiting")
    setup.add_argument("--join-seconds", type=float, default=60, help="how long a join may take (60)")
    setup.set_defaults(handler=cmd_setup)
