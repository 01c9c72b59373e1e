"""The one declaration of every setting (billy/settings/schema.py) and what is derived from it: the allow-lists
of the web page and the boot partition, control characters refused everywhere, and the role's files, the
example and the reference kept as the schema makes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from billy.devtools.settings_files import expected_files
from billy.settings import local
from billy.settings.kinds import Choice, ConfigError
from billy.settings.read import Settings, load_settings
from billy.settings.schema import GROUPS, SCHEMA, UNITS
from billy.web import settings_form

REPO = Path(__file__).resolve().parents[1]
# Names that say a setting is a command, a program, a file or a folder, whatever kind it was declared with.
PATH_OR_PROGRAM_NAME = re.compile(r"_(COMMAND|SYSTEMCTL|DIR|CERT|PATH|FILE)$")
CONTROL_CHARACTERS = ["\n", "\r", "\x00", "\t", "\x1b", "\x7f", "\x85", "\u2028"]


def test_the_files_derived_from_the_schema_are_what_it_makes():
    stale = [
        str(path.relative_to(REPO))
        for path, text in expected_files(REPO).items()
        if not path.is_file() or path.read_text() != text
    ]
    assert not stale, f"run `make settings-files`: {', '.join(stale)} differ from what the schema makes"


@pytest.mark.parametrize("setting", SCHEMA, ids=lambda setting: setting.name)
def test_no_setting_that_names_a_program_or_a_path_is_editable_from_a_browser(setting):
    names_one = setting.kind.names_path_or_program or PATH_OR_PROGRAM_NAME.search(setting.name)
    if names_one:
        assert setting.kind.names_path_or_program, f"{setting.name} names a path or program: declare its kind so"
        # Only a fixed list of bundled names may be offered to a browser, and none of them is a path.
        offered = setting.kind.choices()
        assert not setting.web or (offered and not any("/" in choice for choice in offered)), setting.name
    if setting.name == "BILLY_WEB_PASSWORD":  # the password has its own page, which asks for the current one
        assert not setting.web


@pytest.mark.parametrize("setting", SCHEMA, ids=lambda setting: setting.name)
def test_each_setting_is_described_and_its_default_is_one_it_takes(setting):
    assert setting.group in GROUPS and set(setting.units) <= set(UNITS) and setting.units
    assert 0 < len(setting.label) <= 40 and "\n" not in setting.label
    assert 12 <= len(setting.description) <= 240 and "\n" not in setting.description
    setting.read(setting.default)


@pytest.mark.parametrize("setting", SCHEMA, ids=lambda setting: setting.name)
@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
def test_a_control_character_is_refused_with_the_setting_s_name(setting, char):
    value = f"{setting.default or 'x'}{char}BILLY_WEB_SYSTEMCTL=/bin/sh"
    with pytest.raises(ConfigError, match=rf"^{setting.name} contains a control character"):
        setting.read(value)


def test_names_and_role_variables_are_each_declared_once():
    names = [setting.name for setting in SCHEMA]
    variables = [setting.variable for setting in SCHEMA]
    assert len(set(names)) == len(names) and len(set(variables)) == len(variables)
    assert {field.upper() for field in Settings.__dataclass_fields__} == set(names)


def test_the_role_s_argument_specs_give_each_setting_its_kind():
    specs = yaml.safe_load((REPO / "roles/billy_app/meta/argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    for setting in SCHEMA:
        option = options[setting.variable]
        assert setting.name in " ".join(option["description"].split()), setting.name
        if isinstance(setting.kind, Choice):
            assert option["choices"] == list(setting.kind.choices()), setting.name
        assert option.get("no_log", False) == setting.secret, setting.name


def _config_dir(tmp_path: Path) -> Path:
    config_dir = tmp_path / "etc-billy"
    config_dir.mkdir()
    (config_dir / "billy.env").write_text('BILLY_VOLUME="80"\n')
    return config_dir


@pytest.mark.parametrize("setting", [setting for setting in SCHEMA if not setting.web], ids=lambda s: s.name)
def test_the_web_form_refuses_every_setting_the_browser_may_not_change(tmp_path, setting):
    config_dir = _config_dir(tmp_path)
    with pytest.raises(ConfigError, match=rf"^{setting.name} cannot be changed from the web page"):
        settings_form.save(config_dir, {"csrf": "x", setting.name: "/bin/sh -c 'touch /tmp/owned'"})
    assert not (config_dir / "local.env").exists()


def test_a_newline_in_a_free_text_value_never_becomes_a_setting_of_its_own(tmp_path):
    config_dir = _config_dir(tmp_path)
    for sneaky in ("Billy\nBILLY_WEB_SYSTEMCTL=/bin/sh -c x #", "Billy\rBILLY_WEB_SYSTEMCTL=/bin/sh -c x #"):
        with pytest.raises(ConfigError, match="MQTT_DEVICE_NAME contains a control character"):
            settings_form.save(config_dir, {"MQTT_DEVICE_NAME": sneaky})
        result = local.apply_changes({"MQTT_DEVICE_NAME": sneaky}, config_dir)
        assert result.changed == [] and "MQTT_DEVICE_NAME contains a control character" in result.problems[0]
        with pytest.raises(ConfigError, match="MQTT_DEVICE_NAME contains a control character"):
            local.write_overrides({"MQTT_DEVICE_NAME": sneaky}, config_dir)
    assert not (config_dir / "local.env").exists()
    assert load_settings(local.effective_values(config_dir)).billy_web_systemctl == "systemctl"


def test_the_boot_file_may_set_the_first_password_but_no_command(tmp_path):
    config_dir, boot = _config_dir(tmp_path), tmp_path / "billy.env"
    boot.write_text("BILLY_WEB_PASSWORD=first-password\nBILLY_REBOOT_COMMAND=/bin/sh\nBILLY_STATE_DIR=/tmp\n")
    result = local.apply_file(boot, config_dir)
    assert result.changed == ["BILLY_WEB_PASSWORD"]
    assert [problem.split(":")[1].strip() for problem in result.problems] == [
        "BILLY_REBOOT_COMMAND cannot be changed from a billy.env file",
        "BILLY_STATE_DIR cannot be changed from a billy.env file",
    ]


def test_a_secret_stays_with_the_host_it_was_typed_for(tmp_path):
    config_dir = _config_dir(tmp_path)
    settings_form.save(config_dir, {"HA_HOST": "http://ha.lan:8123", "HA_TOKEN": "token-for-ha-lan"})
    with pytest.raises(ConfigError, match="changing HA_HOST would send HA_TOKEN somewhere new"):
        settings_form.save(config_dir, {"HA_HOST": "http://attacker.example", "HA_TOKEN": ""})
    assert local.read_overrides(config_dir)["HA_HOST"] == "http://ha.lan:8123"
    settings_form.save(config_dir, {"HA_HOST": "http://ha.home:8123", "HA_TOKEN": "token-for-ha-home"})
    assert local.read_overrides(config_dir)["HA_TOKEN"] == "token-for-ha-home"


def test_the_web_may_choose_only_what_it_offers(tmp_path):
    config_dir = _config_dir(tmp_path)
    with pytest.raises(ConfigError, match=re.escape("WAKE_WORD_MODEL='/tmp/evil.tflite' is not one of the")):
        settings_form.save(config_dir, {"WAKE_WORD_MODEL": "/tmp/evil.tflite"})
    settings_form.save(config_dir, {"WAKE_WORD_MODEL": "hey_jarvis"})
    assert local.read_overrides(config_dir) == {"WAKE_WORD_MODEL": "hey_jarvis"}


def test_a_form_sent_back_as_shown_changes_nothing(tmp_path):
    config_dir = _config_dir(tmp_path)
    (config_dir / "billy.env").write_text('MQTT_TLS="1"\nBILLY_VOLUME="80"\nMIC_TIMEOUT_SECONDS="5.0"\n')
    fields = [field for group in settings_form.grouped(config_dir).values() for field in group if field.editable]
    # As the browser sends it back: a flag's dropdown says "true" where the file says "1".
    form = {field.setting.name: "true" if field.flag and field.value == "1" else field.value for field in fields}
    assert settings_form.save(config_dir, {**form, "MIC_TIMEOUT_SECONDS": "5"}).changed == []
    assert not (config_dir / "local.env").exists()
