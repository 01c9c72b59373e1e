"""The files outside the app that are derived from the settings schema (billy/settings/schema.py).

`make settings-files` (`python -m billy.devtools.settings_files`) writes them; tests/test_settings_schema.py fails
when one is not what the schema makes, naming the file. Parts of a file that are not about settings (the role's
own variables) stay hand-written above a marker line; everything below it is generated.

- roles/billy_app/defaults/main.yml: a variable per setting, its default, grouped, each with a comment;
- roles/billy_app/meta/argument_specs.yml: each variable's type, choices, description and no_log;
- roles/billy_app/vars/main.yml: which unit reads each setting (the env files and settings-units.json);
- roles/billy_app/files/billy.env.example: the boot partition's example, the settings most owners set first;
- docs/SETTINGS.md: the reference of every setting.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from billy.settings.kinds import Choice, Decimal, Flag, Whole
from billy.settings.schema import GROUPS, SCHEMA, Setting

MARKER = "# --- Generated from app/billy/settings/schema.py by `make settings-files`: edit it there, not here. ---"
ROLE = Path("roles/billy_app")


def _yaml_scalar(value: object) -> str:
    """A YAML scalar that reads back as `value` (strings always quoted, so `off` or `1.0` stay strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def _yaml_entry(name: str, value: object) -> str:
    """`name: value`, folded over lines (`>-`, which joins them with the spaces it broke at) when it is long."""
    line = f"{name}: {_yaml_scalar(value)}"
    if len(line) <= 116 or not isinstance(value, str):
        return line
    return f"{name}: >-\n" + textwrap.fill(value, 114, initial_indent="  ", subsequent_indent="  ")


def role_default(setting: Setting) -> object:
    """The role's default for the setting's variable, typed as its argument spec says."""
    if setting.role_default:
        return setting.role_default
    kind, text = setting.kind, setting.default
    if isinstance(kind, Flag):
        return kind.read(setting.name, text)
    if isinstance(kind, Whole) and text:
        return int(text)
    if isinstance(kind, Decimal) and kind.role_type == "float" and text:
        return float(text)
    return text


def role_type(setting: Setting) -> str:
    return "raw" if setting.kind.role_type != "str" and setting.default == "" else setting.kind.role_type


def _comment(text: str, indent: str = "") -> str:
    return textwrap.fill(text, 116 - len(indent), initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ")


def defaults_section() -> str:
    parts = []
    for group in GROUPS:
        parts.append(f"\n# --- {group} ".ljust(117, "-") + "\n")
        for setting in (setting for setting in SCHEMA if setting.group == group):
            parts.append(_comment(f"{setting.description} ({setting.name}{', secret' if setting.secret else ''})"))
            parts.append(f"\n{_yaml_entry(setting.variable, role_default(setting))}\n")
    return "".join(parts)


def argument_specs_section() -> str:
    lines = []
    for setting in SCHEMA:
        lines.append(f"      {setting.variable}:")
        lines.append(f"        type: {role_type(setting)}")
        if isinstance(setting.kind, Choice):
            lines.append(f"        choices: [{', '.join(_yaml_scalar(value) for value in setting.kind.choices())}]")
        if setting.secret:
            lines.append("        no_log: true")
        lines.append("        description: >-")
        text = f"{setting.label}: {setting.description} ({setting.name}). Allowed: {setting.kind.allowed()}."
        lines.append(textwrap.fill(text, 108, initial_indent=" " * 10, subsequent_indent=" " * 10))
    return "\n".join(lines) + "\n"


def unit_map_section() -> str:
    rows = [
        f'  - {{name: {setting.name}, value: "{{{{ {setting.variable} }}}}", units: [{", ".join(setting.units)}]}}'
        for setting in SCHEMA
    ]
    return "billy_app_settings:\n" + "\n".join(rows) + "\n"


EXAMPLE_HEAD = """\
# Billy's settings for this card, read at every boot.
#
# 1. Copy this file to billy.env on this same partition (keep this one as it is).
# 2. Take the # off the lines you want, put your values after the =, save (as plain text; Windows line ends
#    and Notepad's byte order mark are fine), eject the card, put it in Billy and power him on.
#
# Billy applies the lines he knows, writes what he did into billy.env.applied and then deletes billy.env from
# the card, because this partition can be read by anyone: your passwords and tokens do not stay on it. A line
# he cannot use (an unknown name, a bad value, a setting only the Ansible inventory may change) is named in
# billy.env.applied and on the console; the others still apply. To change something later, put a new billy.env
# here, or use Billy's web page. Every setting is described in docs/SETTINGS.md and by `billy settings --help`.
#
# Wi-Fi, your user, SSH and the hostname are not set here: Raspberry Pi Imager's "OS customisation" does them.
# Quotes are optional: NAME=value or NAME="value with spaces".
"""


def env_example() -> str:
    parts = [EXAMPLE_HEAD]
    for group in GROUPS:
        featured = [setting for setting in SCHEMA if setting.group == group and setting.featured and setting.boot]
        if not featured:
            continue
        parts.append(f"\n# --- {group} ".ljust(110, "-") + "\n")
        for setting in featured:
            parts.append(_comment(f"{setting.label}: {setting.description}. Allowed: {setting.kind.allowed()}.") + "\n")
            parts.append(f"#{setting.name}={setting.default}\n")
    return "".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_reference() -> str:
    parts = [
        "# Billy's settings\n\n",
        "Generated from `app/billy/settings/schema.py` by `make settings-files`; do not edit by hand.\n\n",
        "Each setting is a `NAME=value` line of `/etc/billy/*.env` (rendered by Ansible from the role variable in\n",
        "the last column), of `/etc/billy/local.env` (the web page, a boot partition's `billy.env`), or the\n",
        "environment of a `billy` command. *Changed from* is the allow-list: **web** (the web page, a `billy.env`,\n",
        "`billy settings apply`), **boot** (a `billy.env` and `billy settings apply` only) or **inventory** (Ansible\n",
        "only: commands, paths and the machine's layout). *Units* restart when it changes.\n",
    ]
    for group in GROUPS:
        parts.append(f"\n## {group}\n\n| setting | what | allowed | default | changed from | units | role variable |\n")
        parts.append("| --- | --- | --- | --- | --- | --- | --- |\n")
        for setting in (setting for setting in SCHEMA if setting.group == group):
            default = f"`{setting.default}`" if setting.default else "empty"
            what = f"**{setting.label}**: {setting.description}" + (" (secret)" if setting.secret else "")
            parts.append(
                f"| `{setting.name}` | {_cell(what)} | {_cell(setting.kind.allowed())} | {_cell(default)} | "
                f"{setting.who.word} | {', '.join(setting.units)} | `{setting.variable}` |\n"
            )
    return "".join(parts)


def _below_marker(path: Path, generated: str) -> str:
    """`path`'s hand-written part (up to and including the marker line) followed by `generated`."""
    text = path.read_text(encoding="utf-8")
    if MARKER.strip() not in text:
        raise ValueError(f"{path} has no line {MARKER.strip()!r}: put it where the generated part starts")
    return text[: text.index("\n", text.index(MARKER.strip())) + 1] + generated


def expected_files(repo: Path) -> dict[Path, str]:
    """Every derived file's path and the text the schema makes for it."""
    return {
        repo / ROLE / "defaults/main.yml": _below_marker(repo / ROLE / "defaults/main.yml", defaults_section()),
        repo / ROLE / "meta/argument_specs.yml": _below_marker(
            repo / ROLE / "meta/argument_specs.yml", argument_specs_section()
        ),
        repo / ROLE / "vars/main.yml": _below_marker(repo / ROLE / "vars/main.yml", unit_map_section()),
        repo / ROLE / "files/billy.env.example": env_example(),
        repo / "docs/SETTINGS.md": settings_reference(),
    }


def write_files(repo: Path) -> list[Path]:
    """Write the derived files that differ; the paths written."""
    written = []
    for path, text in expected_files(repo).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for written in write_files(root):
        print(f"wrote {written.relative_to(root)}")
