"""`billy update`: see, check for and install a new release (billy.appliance.update), and recover at boot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billy.appliance.releases import ROOT, ReleaseError, Releases
from billy.settings.read import Settings


def _updater(args: argparse.Namespace, settings: Settings):
    from billy.appliance.update import Updater
    from billy.appliance.update_machine import SystemdMachine, units_of_this_machine

    machine = SystemdMachine(units_of_this_machine(settings.billy_config_dir), settings.billy_state_dir)
    return Updater(Releases(Path(args.root)), settings.billy_state_dir, machine, settings.billy_update_health_seconds)


def _feed(args: argparse.Namespace, settings: Settings) -> str:
    feed = args.feed or settings.billy_update_url
    if not feed:
        raise ReleaseError("no release feed: set BILLY_UPDATE_URL, or give --feed URL-or-file")
    return feed


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from billy.appliance.update import read_status

    status = read_status(settings.billy_state_dir)
    print(f"installed: {Releases(Path(args.root)).installed_version()}")
    print(f"offered:   {status.latest or 'not checked'}")
    print(f"last:      {status.phase} {status.message}".rstrip())
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.feed or settings.billy_update_url):  # the daily timer on a fish with no feed: nothing to do
        print("billy update: no release feed (BILLY_UPDATE_URL), nothing to check")
        return 0
    status = _updater(args, settings).check(_feed(args, settings))
    print(f"installed {status.installed}, offered {status.latest}")
    return 0


def cmd_install(args: argparse.Namespace, settings: Settings) -> int:
    status = _updater(args, settings).install(_feed(args, settings))
    print(f"update: {status.phase}: {status.message or status.installed}")
    return 0 if status.phase == "done" else 1


def cmd_recover(args: argparse.Namespace, settings: Settings) -> int:
    said = _updater(args, settings).recover()
    if said:
        print(f"billy update: {said}", file=sys.stderr)
    return 0


def add_commands(commands, settings: Settings) -> None:
    update = commands.add_parser("update", help="new releases: status, check, install, recover")
    update.add_argument("--root", default=str(ROOT), help=f"where the releases and the venv link are ({ROOT})")
    actions = update.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="the installed release and the last update").set_defaults(handler=cmd_status)
    for name, handler, text in (
        ("check", cmd_check, "read the release feed and record what it offers"),
        ("install", cmd_install, "install the offered release; back to this one if it is not healthy"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--feed", default="", help="a feed's URL or file (BILLY_UPDATE_URL)")
        action.set_defaults(handler=handler)
    actions.add_parser("recover", help="at boot: undo an update cut short").set_defaults(handler=cmd_recover)
