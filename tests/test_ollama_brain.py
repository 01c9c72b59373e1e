"""`billy brain`: a card with Ollama gets, at boot, the brain its Pi's memory holds, pulled over Ollama's own API
(the Molecule scenario's stand-in server, which streams /api/pull as Ollama does, on a real socket), and
billy.env then says what the play's first run would write there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import jinja2
import pytest
import yaml

from billy.devtools.stack import ServiceProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
STANDIN = ROOT / "molecule" / "ollama" / "standin" / "lib" / "ollama" / "standin_server.py"
CATALOGUE = json.loads((ROOT / "app" / "billy" / "models" / "catalogue.json").read_text())
BIG, SMALL = (CATALOGUE[name]["ollama"] for name in ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"))
# What the role hands the unit: each of its brains (best first) by Ollama's name, with its peak memory.
BRAINS = yaml.safe_load((ROOT / "roles" / "ollama" / "defaults" / "main.yml").read_text())["ollama_brains"]
CANDIDATES = [f"{CATALOGUE[name]['ollama']}:{CATALOGUE[name]['memory_mib']}" for name in BRAINS]


@pytest.fixture
def ollama(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    server = ServiceProcess([sys.executable, str(STANDIN)], "/api/tags", tmp_path / "ollama.log", port=port)
    yield server
    server.stop()


def role_billy_env(model: str) -> str:
    """billy.env as the role renders it (templates/unit.env.j2) with LOCAL_LLM_MODEL naming `model`."""
    templates = jinja2.FileSystemLoader(ROOT / "roles" / "billy_app" / "templates")
    template = jinja2.Environment(loader=templates, trim_blocks=True).get_template("unit.env.j2")
    settings = [
        {"name": "STT_LANGUAGE", "value": "en", "units": ["billy", "billy-stt"]},
        {"name": "LOCAL_LLM_MODEL", "value": model, "units": ["billy"]},
        {"name": "LLM_MAX_TOKENS", "value": 200, "units": ["billy"]},
    ]
    return template.render(
        ansible_managed="Ansible managed", billy_app_unit="billy", billy_app_settings=settings, billy_app_extra_env={}
    )


@pytest.fixture
def config_dir(tmp_path):
    """/etc/billy as an image with Ollama ships it: the best brain named, since the image cannot know the Pi."""
    directory = tmp_path / "etc-billy"
    directory.mkdir()
    (directory / "billy.env").write_text(role_billy_env(BIG))
    return directory


def brain(ollama, config_dir, tmp_path, total_mib: int, *candidates: str) -> subprocess.CompletedProcess:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal: {total_mib * 1024} kB\nMemFree: 1000 kB\n")
    models = [arg for candidate in candidates or CANDIDATES for arg in ("--model", candidate)]
    command = ["brain", *models, "--ollama", ollama.url, "--config-dir", str(config_dir), "--meminfo", str(meminfo)]
    return subprocess.run([sys.executable, "-m", "billy", *command], capture_output=True, text=True, timeout=120)


def ollama_has(ollama) -> list[str]:
    return [model["name"] for model in httpx.get(ollama.url + "/api/tags").json()["models"]]


def test_a_pi_with_2_gib_pulls_the_small_brain_and_billy_env_says_what_the_play_would(ollama, config_dir, tmp_path):
    done = brain(ollama, config_dir, tmp_path, 1848)
    assert done.returncode == 0, done.stderr
    assert ollama_has(ollama) == [SMALL]
    assert f"brain: {SMALL} (" in done.stdout and "needs about" in done.stdout  # which, and why not the big one
    progress = [
        line.rsplit(" ", 1)[1]
        for line in done.stdout.splitlines()
        if line.startswith(f"{SMALL}: ") and line.endswith("%")
    ]
    assert progress == [f"{tenth}%" for tenth in range(10, 101, 10)]
    # Byte for byte what the play renders once it chooses by the same memory: its first run changes nothing.
    assert (config_dir / "billy.env").read_text() == role_billy_env(SMALL)

    again = brain(ollama, config_dir, tmp_path, 1848)
    assert again.returncode == 0, again.stderr
    assert "pulling" not in again.stdout and ollama_has(ollama) == [SMALL]
    assert (config_dir / "billy.env").read_text() == role_billy_env(SMALL)


def test_a_pi_with_4_gib_pulls_the_best_brain_and_leaves_billy_env_alone(ollama, config_dir, tmp_path):
    before = (config_dir / "billy.env").stat()
    done = brain(ollama, config_dir, tmp_path, 3796)
    assert done.returncode == 0, done.stderr
    assert ollama_has(ollama) == [BIG]
    assert (config_dir / "billy.env").read_text() == role_billy_env(BIG)
    assert (config_dir / "billy.env").stat().st_mtime_ns == before.st_mtime_ns  # not even rewritten


def test_a_model_the_owner_set_locally_is_the_one_pulled(ollama, config_dir, tmp_path):
    (config_dir / "local.env").write_text('LOCAL_LLM_MODEL="llama3.2:1b"\n')
    done = brain(ollama, config_dir, tmp_path, 7800)
    assert done.returncode == 0, done.stderr
    assert ollama_has(ollama) == ["llama3.2:1b"]
    assert (config_dir / "billy.env").read_text() == role_billy_env(BIG)  # the owner's choice stays in local.env


def test_a_model_ollama_does_not_know_fails_with_its_reason_and_changes_nothing(ollama, config_dir, tmp_path):
    done = brain(ollama, config_dir, tmp_path, 1848, "no-such-model:300")
    assert done.returncode == 1
    assert "Ollama could not pull no-such-model: pull model manifest: file does not exist" in done.stderr
    assert "LOCAL_LLM_MODEL is unchanged" in done.stderr
    assert ollama_has(ollama) == []
    assert (config_dir / "billy.env").read_text() == role_billy_env(BIG)


def test_no_ollama_yet_fails_naming_its_address_and_changes_nothing(config_dir, tmp_path):
    class Nowhere:
        url = f"http://127.0.0.1:{free_port()}"

    done = brain(Nowhere, config_dir, tmp_path, 1848)
    assert done.returncode == 1
    assert f"Ollama does not answer at {Nowhere.url}" in done.stderr
    assert (config_dir / "billy.env").read_text() == role_billy_env(BIG)


def test_the_boot_unit_runs_this_command_with_the_roles_brains(ollama, config_dir, tmp_path):
    """The unit's own command line, pointed at the stand-in and a 2 GiB machine, does what the tests above show."""
    from test_units import _exec_start, render

    argv = _exec_start(render("billy-brain", billy_app_boot_brains=CANDIDATES, billy_app_config_dir=str(config_dir)))
    assert argv[0].endswith("/bin/billy") and argv[1] == "brain" and argv[-1] == "--restart"
    assert [argv[i + 1] for i, arg in enumerate(argv) if arg == "--model"] == CANDIDATES
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 1892352 kB\n")
    here = [arg.replace("http://127.0.0.1:11434", ollama.url) for arg in argv[1:-1]]
    done = subprocess.run(
        [sys.executable, "-m", "billy", *here, "--meminfo", str(meminfo)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert ollama_has(ollama) == [SMALL]
    assert (config_dir / "billy.env").read_text() == role_billy_env(SMALL)


def site_boot_brains(tmp_path: Path, engine: str, image: bool, model: str | None = None) -> list[str]:
    """What site.yml hands billy_app as billy_app_boot_brains, the ollama role's brains task run before it."""
    site = yaml.safe_load((ROOT / "ansible" / "site.yml").read_text())
    (app,) = [role for role in site[0]["roles"] if role["role"] == "billy_app"]
    inventory = yaml.safe_load((ROOT / "inventory" / "group_vars" / "all.yml").read_text())
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "vars": {
                "billy_llm_engine": engine,
                "billy_app_image_mode": image,
                "billy_app_llm_model": model or inventory["billy_app_llm_model"],
                "boot_brains": app["vars"]["billy_app_boot_brains"],
            },
            "tasks": [
                {
                    "ansible.builtin.include_role": {"name": "ollama", "tasks_from": "brains"},
                    "vars": {"ollama_image_mode": image},
                    "when": engine == "ollama",
                },
                {
                    "ansible.builtin.copy": {
                        "content": "{{ boot_brains | to_json }}",
                        "dest": str(tmp_path / "said.json"),
                    }
                },
            ],
        }
    ]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    run = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_ROLES_PATH": str(ROOT / "roles"), "ANSIBLE_NOCOLOR": "1"},
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((tmp_path / "said.json").read_text())


def test_only_an_image_with_ollama_pulls_its_brain_at_boot_and_from_the_roles_list(tmp_path):
    assert site_boot_brains(tmp_path, "ollama", image=True) == CANDIDATES
    own = site_boot_brains(tmp_path, "ollama", image=True, model="llama3.2:1b")
    assert own == ["llama3.2:1b:0"]  # the inventory's own model, its memory not known
    assert site_boot_brains(tmp_path, "ollama", image=False) == []  # a live Pi: the play pulls
    assert site_boot_brains(tmp_path, "llama_cpp", image=True) == []  # the brains are in the image


def test_the_doctor_says_where_a_brain_still_on_its_way_is_fetched(ollama, config_dir, tmp_path):
    """Before the pull, the doctor names the missing model and the unit fetching it; after it, the brain is up."""
    from billy.appliance.doctor import check_llm
    from billy.services.client import ServiceError

    unit = tmp_path / "billy-brain.service"
    unit.write_text("[Service]\n")
    with pytest.raises(ServiceError) as missing:
        check_llm(ollama.url + "/v1", SMALL, boot_unit=unit)
    assert f"model {SMALL!r} is not served; the server has none; billy-brain.service fetches it" in str(missing.value)
    assert "journalctl -u billy-brain" in str(missing.value)
    assert brain(ollama, config_dir, tmp_path, 1848).returncode == 0
    assert check_llm(ollama.url + "/v1", SMALL, boot_unit=unit) == f"model {SMALL} ({ollama.url}/v1)"
