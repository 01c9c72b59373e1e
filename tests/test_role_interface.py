"""The roles' interface (meta/argument_specs.yml) against the app it configures: each variable described in its
own words, `choices` exactly where the app accepts a fixed set, and a number type that matches the app's parser
(float where it takes fractions). The app's rules are read from its own parser's error messages."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from billy.settings.settings import ConfigError, Settings

ROLES = Path(__file__).resolve().parent.parent / "roles"
DEFAULTS = yaml.safe_load((ROLES / "billy_app" / "defaults" / "main.yml").read_text())
PARSERS = {field.name.upper(): field.metadata["parse"] for field in fields(Settings)}


def _options(role: str) -> dict[str, dict]:
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name: option for entry in specs.values() for name, option in entry.get("options", {}).items()}


def _settings_and_variables() -> list[tuple[str, str]]:
    """(SETTING, billy_app_variable) for each setting the role writes straight from one variable."""
    table = yaml.safe_load((ROLES / "billy_app" / "vars" / "main.yml").read_text())["billy_app_settings"]
    pairs = [(row["name"], re.fullmatch(r"\{\{ (\w+) \}\}", row["value"])) for row in table]
    return [(name, found.group(1)) for name, found in pairs if found]


def _app_complaint(setting: str) -> str:
    """What the app says about a value no setting takes; empty if it takes any text."""
    try:
        PARSERS[setting](setting, "zz-not-valid")
    except ConfigError as error:
        return str(error)
    return ""


@pytest.mark.parametrize("role", sorted(path.name for path in ROLES.iterdir() if (path / "meta").is_dir()))
def test_each_variable_has_a_description_of_its_own(role):
    descriptions = [" ".join(str(option.get("description", "")).split()) for option in _options(role).values()]
    assert all(descriptions), f"{role}: a variable without a description"
    repeated = {text for text in descriptions if descriptions.count(text) > 1}
    assert not repeated, f"{role}: one description pasted over several variables: {repeated}"


@pytest.mark.parametrize(("setting", "variable"), _settings_and_variables())
def test_choices_and_number_types_match_the_app(setting, variable):
    option = _options("billy_app")[variable]
    complaint = _app_complaint(setting)
    allowed = re.search(r"allowed values are (.+)$", complaint)
    if allowed and option["type"] != "bool":
        assert sorted(option.get("choices", [])) == sorted(allowed.group(1).split(", ")), complaint
    else:
        assert "choices" not in option, f"{variable} has choices; {setting} takes: {complaint or 'any text'}"
    # raw only for a number that may be left empty (unset), as the role's default says.
    unset = DEFAULTS[variable] == "" and option["type"] == "raw"
    if "expected a whole number" in complaint:
        assert option["type"] == "int" or unset, complaint
    elif "expected a number" in complaint:
        assert option["type"] == "float" or unset, complaint
