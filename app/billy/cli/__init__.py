"""The `billy` command: one subcommand per job, one process per systemd unit.

Every flag defaults to its environment variable (named in its help), so a unit's `EnvironmentFile=` and a
hand-typed command line configure the same thing. The subcommands live by purpose: `services` (the units'
processes), `settings` (settings and import), `tools` (models, clips, say, doctor), `devtools` (demo, benches).
"""

from __future__ import annotations

import argparse
import logging
import sys

from billy import __version__
from billy.cli import devtools, services, settings, tools, update, wifi
from billy.settings.kinds import ConfigError
from billy.settings.read import Settings, load_settings


def build_parser(current: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billy", description="Billy Bass, a fully local voice assistant.")
    parser.add_argument("--version", action="version", version=f"billy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (services, settings, tools, update, wifi, devtools):
        module.add_commands(commands, current)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        current, problem = load_settings(), None
    except ConfigError as error:
        current, problem = load_settings({}), error  # defaults only for --help, which must work regardless
    args = build_parser(current).parse_args(argv)
    if problem is not None:
        print(f"billy: configuration error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(level=current.logging_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args, current)
    except (ConfigError, LookupError, ValueError, RuntimeError, OSError) as error:
        print(f"billy {args.command}: {error}", file=sys.stderr)
        return 1
