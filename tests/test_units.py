"""The roles' systemd units, rendered with Ansible's filters and rated by `systemd-analyze security --offline`:
each sandboxed for its job (exposure below 5.0, "OK"), network-online wanted where waited for, and the runtime
in a writable working directory (lgpio makes its notification pipe there)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.plugins.filter.core import FilterModule

ROLES = Path(__file__).resolve().parent.parent / "roles"
UNITS = {
    "billy": ("billy_app", "billy.service.j2"),
    "billy-stt": ("billy_app", "billy-stt.service.j2"),
    "billy-tts": ("billy_app", "billy-tts.service.j2"),
    "billy-web": ("billy_app", "billy-web.service.j2"),
    "billy-brain": ("billy_app", "billy-brain.service.j2"),
    "billy-boot-settings": ("billy_app", "billy-boot-settings.service.j2"),
    "billy-boot-restore": ("billy_app", "billy-boot-restore.service.j2"),
    "billy-update": ("billy_app", "billy-update.service.j2"),
    "billy-update-recover": ("billy_app", "billy-update-recover.service.j2"),
    "billy-update-check": ("billy_app", "billy-update-check.service.j2"),
    "billy-wifi-setup": ("billy_app", "billy-wifi-setup.service.j2"),
    "llama-cpp": ("llama_cpp", "llama-cpp.service.j2"),
    "ollama": ("ollama", "ollama.service.j2"),
}


def _defaults(role: str) -> dict:
    values = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    return {name: value for name, value in values.items() if "{{" not in str(value)}


CATALOGUE = ROLES.parent / "app" / "billy" / "models" / "catalogue.json"


def render(unit: str, **overrides) -> str:
    role, template = UNITS[unit]
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLES / role / "templates"), trim_blocks=True)
    environment.filters.update(FilterModule().filters())
    context = {
        **_defaults(role),
        "ansible_managed": "Ansible managed",
        "billy_app_models_dir": "/var/lib/billy/models",
        "billy_app_units": [{"unit": "billy-stt"}, {"unit": "billy-tts"}, {"unit": "billy"}],
        "billy_app_llm_unit": "llama-cpp.service",
        "llama_cpp_model_alias": "smollm2-135m",
        "llama_cpp_catalogue": json.loads(CATALOGUE.read_text()),  # read by the role before the unit is written
        "billy_app_boot_brains": ["qwen2.5-coder:1.5b-instruct-q4_K_M:1885", "qwen2.5-coder:0.5b-instruct-q4_K_M:656"],
        **overrides,
    }
    return environment.get_template(template).render(**context)


def _exec_start(unit_text: str) -> list[str]:
    joined = unit_text.replace("\\\n", " ")
    (line,) = [line for line in joined.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def test_the_llama_cpp_unit_hands_the_launcher_each_brain_with_its_memory(tmp_path):
    """What the role writes is what the launcher chooses from: the 1.5B where 4 GiB, the 0.5B where 2 GiB."""
    from billy.services.llm.server import choose_model

    argv = _exec_start(render("llama-cpp"))
    models = [argv[index + 1] for index, arg in enumerate(argv) if arg == "--model"]
    assert [Path(model.rpartition(":")[0]).parent.name for model in models] == [
        "qwen2.5-coder-1.5b",
        "qwen2.5-coder-0.5b",
    ]
    meminfo = tmp_path / "meminfo"
    for total_mib, brain in ((3796, "qwen2.5-coder-1.5b"), (1848, "qwen2.5-coder-0.5b")):
        meminfo.write_text(f"MemTotal: {total_mib * 1024} kB\n")
        assert choose_model(models, meminfo).parent.name == brain
    one = _exec_start(render("llama-cpp", llama_cpp_brains=[]))
    assert one[one.index("--model") + 1] == "/var/lib/llama-cpp/models/SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_each_unit_is_rated_ok_by_systemd_analyze(unit, tmp_path):
    path = tmp_path / f"{unit}.service"
    path.write_text(render(unit))
    run = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(path)], capture_output=True, text=True
    )
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", run.stdout)
    assert found, run.stdout + run.stderr
    assert float(found.group(1)) < 5.0, run.stdout


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_every_line_is_one_setting(unit):
    """An included block must end its last line: `X=EPERM# comment` would be a value systemd cannot parse."""
    glued = [line for line in render(unit).splitlines() if re.match(r"^[A-Za-z]+=.*\S#", line)]
    assert not glued, glued


@pytest.mark.parametrize(
    # The Wi-Fi setup waits for a network itself: with none, it is what makes one.
    "unit",
    sorted(set(UNITS) - {"billy-boot-settings", "billy-boot-restore", "billy-update-recover", "billy-wifi-setup"}),
)
def test_network_online_is_wanted_where_it_is_waited_for(unit):
    lines = render(unit).splitlines()
    after = " ".join(line for line in lines if line.startswith("After="))
    wants = " ".join(line for line in lines if line.startswith("Wants="))
    assert "network-online.target" in after and "network-online.target" in wants


def test_the_runtime_works_in_its_writable_state_directory_with_only_sound_and_gpio():
    unit = render("billy")
    assert "WorkingDirectory=/var/lib/billy" in unit and "ReadWritePaths=/var/lib/billy" in unit
    assert "DevicePolicy=closed" in unit
    assert {line for line in unit.splitlines() if line.startswith("DeviceAllow=")} == {
        "DeviceAllow=char-alsa rw",
        "DeviceAllow=char-gpiochip rw",
    }
    for service in ("billy-stt", "billy-tts"):
        rendered = render(service)
        assert "PrivateDevices=yes" in rendered and "ReadWritePaths" not in rendered


def test_the_web_page_runs_unprivileged_with_only_the_right_to_bind_port_80():
    lines = render("billy-web").splitlines()
    assert "User=billy" in lines and "NoNewPrivileges=yes" in lines
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" in lines
    assert not any("sudo" in line for line in lines if not line.startswith("#"))


def test_the_boot_settings_unit_runs_before_the_network_without_one():
    # It must finish before Billy's units start, which wait for the network: it needs none and has none.
    unit = render("billy-boot-settings")
    assert "network" not in " ".join(line for line in unit.splitlines() if line.startswith(("After=", "Wants=")))
    assert "PrivateNetwork=yes" in unit and "Before=billy-stt.service billy-tts.service billy.service" in unit


def test_a_backup_on_the_boot_partition_is_restored_before_its_settings_and_billy():
    # billy.env beside it must have the last word; Billy's units must start on the restored files.
    unit = render("billy-boot-restore")
    before = next(line for line in unit.splitlines() if line.startswith("Before="))
    assert before == "Before=billy-boot-settings.service billy-stt.service billy-tts.service billy.service"
    assert "PrivateNetwork=yes" in unit and "CapabilityBoundingSet=CAP_CHOWN CAP_DAC_OVERRIDE" in unit
    assert "ReadWritePaths=/etc/billy /boot/firmware /var/lib/billy" in unit
    assert "--owner billy" in unit and "--scrub" in unit


def test_an_update_cut_short_is_undone_at_boot_before_anything_of_billys_starts():
    unit = render("billy-update-recover")
    before = next(line for line in unit.splitlines() if line.startswith("Before="))
    assert before.split("=")[1].split() == [
        "billy-boot-restore.service", "billy-boot-settings.service", "billy-stt.service", "billy-tts.service",
        "billy.service",
    ]  # fmt: skip
    # Any release's python will do: the cut may have come while the venv link was being replaced.
    assert "/opt/billy/venv /opt/billy/releases/*/venv" in unit and "-m billy update --root /opt/billy recover" in unit
    assert "PrivateNetwork=yes" in unit


def test_the_updater_may_install_and_restart_but_the_daily_check_only_writes_its_status():
    updater = render("billy-update").splitlines()
    assert "ExecStart=/opt/billy/venv/bin/billy update --root /opt/billy install" in updater
    assert "SuccessExitStatus=1" in updater and "ProtectSystem=full" in updater
    check = render("billy-update-check").splitlines()
    assert "User=billy" in check and "ReadWritePaths=/var/lib/billy" in check


def test_the_wifi_setup_is_root_with_the_networks_rights_only():
    lines = render("billy-wifi-setup").splitlines()
    assert "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE" in lines
    assert "ReadWritePaths=/etc/wpa_supplicant" in lines and "ProtectSystem=full" in lines
    assert "ConditionPathExistsGlob=/sys/class/net/*/phy80211" in lines  # a fish without a radio: not even run
    assert not any(line.startswith("Wants=network-online") for line in lines)


def test_the_llama_cpp_unit_lets_the_launcher_lock_the_brain_in_memory_or_not():
    """Locking all future mappings under a finite limit would make the model's allocations fail: the unit lifts the
    limit exactly when it lets the launcher lock, and the launcher's own parser takes what the unit passes."""
    import argparse

    from billy.services.llm.server import add_arguments

    def launched(unit_text: str) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        return parser.parse_args(_exec_start(unit_text)[2:])  # after the venv's python and the launcher

    locking = render("llama-cpp")
    assert "LimitMEMLOCK=infinity" in locking.splitlines() and launched(locking).lock is True
    paging = render("llama-cpp", llama_cpp_lock_memory=False)
    assert not any(line.startswith("LimitMEMLOCK") for line in paging.splitlines())
    assert launched(paging).lock is False
