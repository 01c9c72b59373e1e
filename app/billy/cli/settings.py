"""`billy settings apply|show` and `billy import`: the settings on this Billy, and moving an original install in.

`billy settings --help` lists every setting from the schema: its label, what it allows, its default, and where
it may be changed from.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from pathlib import Path

from billy.settings import local
from billy.settings.read import Settings
from billy.settings.schema import GROUPS, SCHEMA, Setting


def describe(setting: Setting) -> str:
    """One setting as `billy settings --help` shows it."""
    default = f"default {setting.default!r}" if setting.default else "empty by default"
    text = (
        f"{setting.label}: {setting.description}. Allowed: {setting.kind.allowed()}; {default}; "
        f"changed from {setting.who.description}{'; secret' if setting.secret else ''}."
    )
    return f"  {setting.name}\n" + textwrap.fill(text, 116, initial_indent=" " * 6, subsequent_indent=" " * 6)


def schema_help() -> str:
    parts = ["Billy's settings (NAME=value lines in /etc/billy/*.env, a boot partition's billy.env, the web page):"]
    for group in GROUPS:
        parts.append(f"\n{group}:")
        parts += [describe(setting) for setting in SCHEMA if setting.group == group]
    return "\n".join(parts)


def _tell(message: str, journal_priority: int) -> None:
    # Under systemd (JOURNAL_STREAM set) a "<N>" prefix gives the line its journal priority; the console too.
    prefix = f"<{journal_priority}>" if os.environ.get("JOURNAL_STREAM") else ""
    print(f"{prefix}{message}", file=sys.stderr if journal_priority <= 4 else sys.stdout, flush=True)


def cmd_settings_apply(args: argparse.Namespace, settings: Settings) -> int:
    path, config_dir = Path(args.file), Path(args.config_dir)
    result = local.apply_file(path, config_dir)
    for note in result.notes:
        _tell(f"billy settings: {note}", 5)
    for problem in result.problems:
        _tell(f"billy settings: {problem}", 4)
    for name in result.changed:
        value = result.accepted.get(name)
        told = "removed the local value of " + name if value is None else local.shown(name, value)
        _tell(f"billy settings: {path.name}: {told}", 6)
    if result.unchanged:
        _tell(f"billy settings: {path.name}: already so: {' '.join(result.unchanged)}", 6)
    if args.scrub:
        record = local.scrub_boot_file(path, result)
        _tell(f"billy settings: moved {path.name} off the card (secrets removed); what applied is in {record}", 6)
    if args.restart and result.units:
        _tell(f"billy settings: restarting the units that read them, if running: {' '.join(result.units)}", 6)
        local.restart_units(result.units)
    elif result.units:
        _tell(f"billy settings: units that read them (restart to use): {' '.join(result.units)}", 6)
    return local.EXIT_SOME_REJECTED if result.problems else 0


def cmd_settings_show(args: argparse.Namespace, settings: Settings) -> int:
    for name, value, origin in local.effective_settings(Path(args.config_dir)):
        print(f"{name}={value}  # {origin}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from billy.settings.importer import import_install

    for line in import_install(Path(args.dir), Path(args.etc_dir), Path(args.state_dir), args.owner, args.force):
        print(line)
    return 0


def cmd_backup(args: argparse.Namespace, _settings: Settings) -> int:
    from billy.appliance.backup import back_up

    out = Path(args.out or f"billy-backup-{time.strftime('%Y%m%d-%H%M%S')}.tar")
    for part in back_up(Path(args.state_dir), Path(args.etc_dir), out, args.with_secrets):
        print(f"holds: {part}")
    print(f"backup: {out}" + ("" if args.with_secrets else " (no secrets: --with-secrets to include them)"))
    return 0


def cmd_restore(args: argparse.Namespace, _settings: Settings) -> int:
    from billy.appliance.backup import BackupError, restore

    archive = Path(args.file)
    try:
        restored = restore(archive, Path(args.state_dir), Path(args.etc_dir), args.owner)
    except BackupError as error:
        print(f"billy restore: {error}; nothing was changed", file=sys.stderr)
        if args.scrub:  # not tried again at every boot; the owner reads why in the journal
            archive.rename(archive.with_name(archive.name + ".refused"))
        return 1
    if args.scrub:  # a backup may hold secrets: not left on a world-readable boot partition
        archive.unlink()
    for line in restored.lines():
        print(line)
    print("restart Billy to use them: systemctl restart billy billy-web")
    return local.EXIT_SOME_REJECTED if restored.problems else 0


def add_commands(commands, settings: Settings) -> None:
    parser = commands.add_parser(
        "settings",
        help="local settings that win over Ansible's (/etc/billy/local.env); --help lists every setting",
        epilog=schema_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", required=True)
    apply = actions.add_parser("apply", help="check a NAME=value file and apply its good lines")
    apply.add_argument("file", help="for example /boot/firmware/billy.env")
    apply.add_argument("--restart", action="store_true", help="restart the running units that read a changed setting")
    apply.add_argument(
        "--scrub", action="store_true", help="then take FILE off its (boot) partition, leaving FILE.applied"
    )
    show = actions.add_parser("show", help="every setting, its value (secrets masked) and where it comes from")
    for action in (apply, show):
        action.add_argument("--config-dir", default=str(local.CONFIG_DIR), help="where the settings are (/etc/billy)")
    apply.set_defaults(handler=cmd_settings_apply)
    show.set_defaults(handler=cmd_settings_show)

    take = commands.add_parser(
        "import", help="move an original Billy B-Assistant install in (settings, personas, songs)"
    )
    take.add_argument("dir", help="the original install's folder (with .env, persona.ini, custom_songs/, sounds/)")
    take.add_argument("--etc-dir", default=str(local.CONFIG_DIR), help="where local.env goes")
    take.add_argument("--state-dir", default=str(settings.billy_state_dir), help="(BILLY_STATE_DIR)")
    take.add_argument("--owner", default="", help="the user that owns Billy's state files (run as root)")
    take.add_argument("--force", action="store_true", help="the install's files and settings replace Billy's")
    take.set_defaults(handler=cmd_import)

    backup = commands.add_parser("backup", help="one archive of what is the owner's (personas, songs, memories, ...)")
    backup.add_argument("out", nargs="?", help="the archive to write (default: billy-backup-DATE.tar here)")
    backup.add_argument("--with-secrets", action="store_true", help="keep the keys and passwords set on the fish")
    backup.set_defaults(handler=cmd_backup)
    again = commands.add_parser("restore", help="put a backup's parts back in place of Billy's own")
    again.add_argument("file", help="a billy backup archive")
    again.add_argument("--owner", default="", help="the user that owns Billy's state files (run as root)")
    again.add_argument("--scrub", action="store_true", help="then remove FILE (or rename it FILE.refused)")
    again.set_defaults(handler=cmd_restore)
    for action in (backup, again):
        action.add_argument("--etc-dir", default=str(local.CONFIG_DIR), help="where local.env is")
        action.add_argument("--state-dir", default=str(settings.billy_state_dir), help="(BILLY_STATE_DIR)")
