"""`billy brain`: a card that thinks with Ollama gets its brain at boot, the best its Pi's memory holds.

Ollama keeps models in its own store, so an SD image cannot carry one, and the image cannot know at build time
whether it boots on a Pi with 2 GiB or 8. So at every boot (billy-brain.service, installed on an image with
Ollama until the first Ansible run takes over) this does on the card what the play does on a live Pi
(roles/ollama: brains.yml, models.yml): choose the first of the brains, best first with their peak memory, that
the memory holds beside the rest of Billy (the llama.cpp launcher's rule), pull it through Ollama's API when
Ollama lacks it, and write LOCAL_LLM_MODEL in billy.env as the play would write it, so that the play's first run
finds nothing to change. A model the owner set locally (local.env) wins: that one is pulled and nothing chosen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from billy.services.llm.server import pick_model
from billy.settings.envfile import quote, write_env_file
from billy.settings.kinds import refuse_control_characters
from billy.settings.local import read_overrides

SETTING = "LOCAL_LLM_MODEL"
ANSIBLE_ENV = "billy.env"  # the runtime's settings as the role renders them (templates/unit.env.j2)
# Where billy_app installs the unit that runs this at boot, on a card with Ollama only (`billy doctor` says so).
BOOT_UNIT = Path("/etc/systemd/system/billy-brain.service")
# Seconds without a streamed line before a pull is given up (the unit tries again later): Ollama sends progress
# several times a second while it downloads.
QUIET_SECONDS = 300


class BrainError(RuntimeError):
    """Why the brain could not be had; the settings are unchanged."""


@dataclass(frozen=True)
class Outcome:
    model: str
    reason: str
    pulled: bool  # Ollama did not have it
    setting_changed: bool  # billy.env now names it, and the runtime must restart to ask for it


def full_name(model: str) -> str:
    """Ollama's name for a model given without a tag."""
    return model if ":" in model else model + ":latest"


class Ollama:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def models(self) -> set[str]:
        try:
            response = httpx.get(self.url + "/api/tags", timeout=30)
            response.raise_for_status()
            return {full_name(model["name"]) for model in response.json()["models"]}
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise BrainError(f"Ollama does not answer at {self.url}: {error}") from error

    def pull(self, model: str, say: Callable[[str], None]) -> None:
        """Pull `model`, saying each tenth of its bytes as it arrives; BrainError with Ollama's reason."""
        layers: dict[str, tuple[int, int]] = {}
        said = 0
        request = {"model": model, "stream": True}
        timeout = httpx.Timeout(30, read=QUIET_SECONDS)
        try:
            with httpx.stream("POST", self.url + "/api/pull", json=request, timeout=timeout) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    status = json.loads(line)
                    if "error" in status:
                        raise BrainError(f"Ollama could not pull {model}: {status['error']}")
                    if status.get("status") == "success":
                        say(f"{model}: 100%")
                        return
                    if status.get("total"):
                        layers[status["digest"]] = (status.get("completed", 0), status["total"])
                        done = 100 * sum(got for got, _ in layers.values()) // sum(of for _, of in layers.values())
                        if done >= said + 10 and done < 100:
                            said = done - done % 10
                            say(f"{model}: {said}%")
        except (httpx.HTTPError, ValueError) as error:
            raise BrainError(f"pulling {model} from {self.url} failed: {error}") from error
        raise BrainError(f"pulling {model}: the stream ended before Ollama said success")


def set_model(env_file: Path, model: str) -> bool:
    """Name `model` on billy.env's LOCAL_LLM_MODEL line, every other byte kept; False when it already did."""
    refuse_control_characters(SETTING, model)
    wanted = f"{SETTING}={quote(model)}"
    lines = env_file.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith(SETTING + "="):
            if line.rstrip("\n") == wanted:
                return False
            lines[index] = wanted + "\n"
            break
    else:
        lines.append(wanted + "\n")
    write_env_file(env_file, "".join(lines))
    return True


def get_brain(
    candidates: list[str],
    ollama: Ollama,
    config_dir: Path,
    say: Callable[[str], None] = print,
    meminfo: Path = Path("/proc/meminfo"),
) -> Outcome:
    """Choose of `candidates` (`NAME:MIB`, best first), pull what Ollama lacks, and set LOCAL_LLM_MODEL."""
    owner_set = read_overrides(config_dir).get(SETTING, "")
    if owner_set:
        model, reason = owner_set, f"set in {config_dir / 'local.env'}"
    else:
        chosen, fit = pick_model(candidates, meminfo)
        model, reason = str(chosen), fit.reason
    say(f"brain: {model} ({reason})")
    pulled = full_name(model) not in ollama.models()
    if pulled:
        say(f"{model}: pulling it into Ollama at {ollama.url}")
        ollama.pull(model, say)
    changed = not owner_set and set_model(config_dir / ANSIBLE_ENV, model)
    if changed:
        say(f"{SETTING}={model} in {config_dir / ANSIBLE_ENV}")
    return Outcome(model, reason, pulled, changed)
