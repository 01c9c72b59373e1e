"""The llama.cpp launcher the `llama_cpp` role installs: of several brains, best first, it serves the first the
machine's memory holds beside the rest of Billy, and says which and why.

An SD image cannot know at build time whether it boots on a Pi with 2 GiB or 8: the choice is made at each start,
by the launcher run as the unit runs it (`python server.py --model FILE:MIB ...`, outside the app's package).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from billy.devtools.stack import GGUF_MODEL, ServiceProcess
from billy.models.catalogue import find_model
from billy.services.llm import server
from billy.services.llm.server import REST_OF_BILLY_MIB, choose_model, first_that_fits, may_lock_all_memory

LAUNCHER = Path(server.__file__)


def _meminfo(tmp_path: Path, total_mib: int) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(f"MemTotal:       {total_mib * 1024} kB\nMemFree:        1024 kB\n")
    return path


def test_the_first_brain_that_fits_beside_the_rest_of_billy_is_chosen():
    brains = [("big", 1885), ("middle", 656), ("small", 221)]
    assert first_that_fits(brains, 8000).index == 0
    two_gib = first_that_fits(brains, 1900)  # a Pi 4 with 2 GiB
    assert two_gib.index == 1 and f"big needs about {1885 + REST_OF_BILLY_MIB} MiB" in two_gib.reason
    assert first_that_fits(brains, 656 + REST_OF_BILLY_MIB).index == 1  # exactly enough is enough
    nothing_fits = first_that_fits(brains, 900)
    assert nothing_fits.index == 2 and "the last listed; 900 MiB is less than any needs" in nothing_fits.reason


def test_the_launcher_reads_the_machine_s_memory_and_logs_a_fallback(tmp_path, caplog):
    models = ["/m/qwen2.5-coder-1.5b.gguf:1885", "/m/qwen2.5-coder-0.5b.gguf:656"]
    assert choose_model(models, _meminfo(tmp_path, 16000)) == Path("/m/qwen2.5-coder-1.5b.gguf")
    assert choose_model(models, _meminfo(tmp_path, 1900)) == Path("/m/qwen2.5-coder-0.5b.gguf")
    warned = [record for record in caplog.records if record.levelname == "WARNING"]
    assert len(warned) == 1 and "qwen2.5-coder-1.5b.gguf needs about 3085 MiB" in warned[0].getMessage()
    # One model is served as it is, whatever the memory: the owner chose it.
    assert choose_model(["/m/own.gguf"], _meminfo(tmp_path, 100)) == Path("/m/own.gguf")


def test_the_unit_s_launcher_serves_the_brain_the_memory_holds(fast_brain, tmp_path):
    """Run as the unit runs it, with a first brain no machine holds: it is passed over, the next is served, under
    the one name Billy asks for, and the log says why."""
    small = fast_brain
    too_big = tmp_path / "enormous.gguf"  # never opened: passed over on its memory alone
    command = [sys.executable, "-I", str(LAUNCHER), "--alias", "qwen2.5-coder-1.5b", "--context", "512"]
    command += ["--model", f"{too_big}:{1 << 30}", "--model", f"{small}:{find_model(GGUF_MODEL).memory_mib}"]
    service = ServiceProcess(command, "/health", tmp_path / "llm.log", timeout=300)
    try:
        served = httpx.get(service.base_url + "/models", timeout=30).json()
        assert [model["id"] for model in served["data"]] == ["qwen2.5-coder-1.5b"]
        log = service.log()
        assert f"serving {small.name}: the best brain that fits" in log
        assert f"(enormous.gguf needs about {(1 << 30) + REST_OF_BILLY_MIB} MiB with the rest of Billy)" in log
        # Locked in memory where this process may lock (root here and in CI; a unit with LimitMEMLOCK=infinity).
        locks = may_lock_all_memory()
        assert (", locked in memory" in log) is locks and (", not locked in memory" in log) is not locks
        status = Path(f"/proc/{service.process.pid}/status").read_text()
        (locked_kib,) = [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmLck:")]
        assert (locked_kib * 1024 >= small.stat().st_size) is locks
    finally:
        service.stop()


def test_the_ollama_role_s_brains_are_the_bench_s_and_the_chooser_names_the_one_that_fits():
    """The `ollama` role runs this launcher on the Pi with `--choose` and Ollama's names for its brains: the JSON line
    it prints is what the play reads, and Billy then asks Ollama for that name with the brain's own chat profile."""
    import yaml

    from billy.models.brains import BY_SCORE
    from billy.services.llm.profile import profile_for

    defaults = yaml.safe_load((LAUNCHER.parents[4] / "roles" / "ollama" / "defaults" / "main.yml").read_text())
    brains = defaults["ollama_brains"]
    assert brains == [name for name in BY_SCORE if name in brains]  # best first, as the bench ranked them
    entries = [find_model(name) for name in brains]
    assert all(entry.ollama for entry in entries)
    for entry in entries:
        assert profile_for(entry.ollama) == profile_for(entry.name)

    best, fallback = entries[0], entries[-1]
    command = [sys.executable, "-I", str(LAUNCHER), "--choose"]
    command += ["--model", f"{best.ollama}:{1 << 30}", "--model", f"{fallback.ollama}:{fallback.memory_mib}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    chosen = json.loads(done.stdout.splitlines()[-1])
    assert chosen["model"] == fallback.ollama and chosen["fallback"] is True
    assert chosen["reason"].startswith("the best brain that fits ")
    assert f"{best.ollama} needs about {(1 << 30) + REST_OF_BILLY_MIB} MiB" in chosen["reason"]

    command = [sys.executable, "-I", str(LAUNCHER), "--choose", "--model", f"{best.ollama}:{best.memory_mib}"]
    only = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    assert only == {"model": best.ollama, "reason": "the only one listed", "fallback": False}


def test_memory_is_locked_only_without_a_limit_or_with_the_capability(tmp_path):
    """A finite lock limit and no CAP_IPC_LOCK: no lock (locking future mappings would make allocations fail)."""
    import resource

    status = tmp_path / "status"
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (8 << 20, hard))  # Debian's default for a user: 8 MiB
    try:
        status.write_text("Name:\tpython\nCapEff:\t0000000000000000\n")
        assert may_lock_all_memory(status) is False
        status.write_text(f"Name:\tpython\nCapEff:\t{1 << 14:016x}\n")  # CAP_IPC_LOCK alone
        assert may_lock_all_memory(status) is True
    finally:
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (soft, hard))
    if hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (resource.RLIM_INFINITY, hard))
        try:
            status.write_text("Name:\tpython\nCapEff:\t0000000000000000\n")
            assert may_lock_all_memory(status) is True  # the unit's LimitMEMLOCK=infinity
        finally:
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (soft, hard))


def test_both_engines_roles_offer_the_same_brains_best_first():
    """The Pi thinks with the same brains whichever engine serves them: a brain the bench ranked, added to one
    role's list and not the other's, would make Billy's answers depend on the engine."""
    import yaml

    from billy.models.brains import BY_SCORE

    roles = LAUNCHER.parents[4] / "roles"
    lists = [
        yaml.safe_load((roles / role / "defaults" / "main.yml").read_text())[f"{role}_brains"]
        for role in ("llama_cpp", "ollama")
    ]
    assert lists[0] == lists[1] == [name for name in BY_SCORE if name in lists[0]]
    assert lists[0], "no brains: each engine falls back to one model of its own"
