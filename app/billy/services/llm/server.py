"""`billy llm-server`: llama.cpp's own OpenAI-compatible server, in this process, through xllamacpp's wheels.

Prebuilt for x86_64 and aarch64, so neither a developer's machine nor the Pi compiles anything. It serves
`/v1/chat/completions` (streaming, tools with the model's own chat template) and keeps the slot's prompt
cached, so the system prompt is not evaluated again on every turn.

Given several models (`--model FILE:MIB`, best first), it serves the first the machine's memory holds beside the
rest of Billy and logs which and why: an SD image cannot know at build time whether it boots on a Pi with 2 GiB
or 8 (`billy.models.brains` chooses by the same rule on a developer's machine).

This file needs only the standard library and xllamacpp: the `llama_cpp` role runs it as it is
(`python server.py --model ...`) in a venv of its own, so the unit and `billy llm-server` share one launcher.
With `--choose` it only prints the model it would serve (any names, not only files): the `ollama` role runs it so
on the Pi, with the standard library alone, to pick the brain Ollama pulls by the same rule.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import resource
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)


# From this size on a model's every token is work enough for all the cores (see default_threads).
BIG_MODEL_BYTES = 500_000_000
# The brain runs a little behind the ears and the voice in the CPU's queue (a niceness of 5: about three quarters of
# a shared core goes to the other): its words come faster than Billy speaks them, and a sentence synthesised or a
# question transcribed while it writes is what the person waits for.
NICENESS = 5
# Whisper tiny.en, piper's medium voice, the runtime, the web page and the system, measured together on a
# running fish: what must stay free beside the brain.
REST_OF_BILLY_MIB = 1200


def memory_mib(meminfo: Path = Path("/proc/meminfo")) -> int:
    """The machine's memory (MemTotal), in MiB."""
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError(f"no MemTotal in {meminfo}")


@dataclass(frozen=True)
class Fit:
    index: int  # of the candidate chosen
    reason: str


def first_that_fits(candidates: list[tuple[str, int]], total_mib: int) -> Fit:
    """Of `(name, peak memory in MiB)` candidates, best first, the first that fits `total_mib` beside the rest of
    Billy; none fits: the last (the smallest, by the order), said so. The reason names those passed over."""
    passed_over = []
    for index, (name, brain_mib) in enumerate(candidates):
        needs = brain_mib + REST_OF_BILLY_MIB
        if needs <= total_mib:
            reason = f"the best brain that fits {total_mib} MiB"
            return Fit(index, reason + (f" ({'; '.join(passed_over)})" if passed_over else ""))
        passed_over.append(f"{name} needs about {needs} MiB with the rest of Billy")
    reason = f"the last listed; {total_mib} MiB is less than any needs ({'; '.join(passed_over)})"
    return Fit(len(candidates) - 1, reason)


def parse_model(value: str) -> tuple[Path, int]:
    """`FILE` or `FILE:MIB` (the model's peak memory, from the catalogue; 0 when not known) -> (path, MiB)."""
    path, _, mib = value.rpartition(":")
    if path and mib.isdigit():
        return Path(path), int(mib)
    return Path(value), 0


def pick_model(models: list[str], meminfo: Path = Path("/proc/meminfo")) -> tuple[Path, Fit]:
    """Of `--model` values, best first: the only one (the owner chose it), else the first the memory holds."""
    candidates = [parse_model(value) for value in models]
    if len(candidates) == 1:
        return candidates[0][0], Fit(0, "the only one listed")
    fit = first_that_fits([(path.name, mib) for path, mib in candidates], memory_mib(meminfo))
    return candidates[fit.index][0], fit


def choose_model(models: list[str], meminfo: Path = Path("/proc/meminfo")) -> Path:
    """The model to serve of `--model` values (pick_model), said in the log when there was a choice."""
    chosen, fit = pick_model(models, meminfo)
    if len(models) > 1:
        LOG.log(logging.INFO if fit.index == 0 else logging.WARNING, "serving %s: %s", chosen.name, fit.reason)
    return chosen


# mlockall(2): MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT, what is mapped now and later, each page locked as it is first
# touched (so mapping a model bigger than the memory fails no sooner than it would anyway).
LOCK_ALL_ON_FAULT = 1 | 2 | 4
CAP_IPC_LOCK = 14


def may_lock_all_memory(status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process may lock all its memory: no limit on locked memory (the unit's LimitMEMLOCK=infinity)
    or CAP_IPC_LOCK (root). Under a finite limit, locking future mappings would make the model's allocations fail
    once it is reached: not worth a crash."""
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft == resource.RLIM_INFINITY:
        return True
    for line in status.read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_IPC_LOCK & 1)
    return False


def lock_in_memory() -> bool:
    """Keep every page of the brain in memory once read, however long nobody asks anything.

    A model file is mapped, not copied: pages untouched for a while are the kernel's to drop (a Pi short of memory,
    or this VM's host paging out what was idle for a second), and the next question waits while they are read back
    from the SD card: `make bench` measured the 1.5B's first sound at 1.23 s with that page-out, 1.00 s without.
    """
    if not may_lock_all_memory():
        LOG.info("the model is not locked in memory: the lock limit is finite (LimitMEMLOCK=infinity allows it)")
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mlockall(LOCK_ALL_ON_FAULT) != 0:
        LOG.warning("the model is not locked in memory: mlockall: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def default_threads(model: Path | None = None) -> int:
    """Threads for a model: every core but one for a small model, every core for a big one.

    llama.cpp's threads meet at a barrier at every step of every token, so one thread pre-empted stalls them all:
    while the voice synthesises the first sentence (the model still writing the rest), or anything else wants a
    core, a small model on all cores crawls. Measured on a busy 2-core machine with SmolLM2 135M (98 MB): 1 thread
    12-19 tokens/s, 2 threads 0.9-2.5 tokens/s. A big model's token is enough work that the barrier hardly counts.
    Qwen2.5 Coder 1.5B (1.1 GB) here: it writes 5.4 tokens/s on 1 thread and 9.6 on 2, and reads a question's
    10-12 new tokens (the persona cached) in 0.81-0.87 s on 1 and 0.39-0.44 s on 2; in `make bench` (piper beside
    it) Billy's first sound came 1.40 s after the question instead of 1.92 s on one thread.
    """
    cores = len(os.sched_getaffinity(0))
    big = model is not None and model.is_file() and model.stat().st_size >= BIG_MODEL_BYTES
    return cores if big else max(1, cores - 1)


def serve_llm(
    model: Path,
    alias: str,
    host: str,
    port: int,
    context: int = 2048,
    threads: int = 0,
    batch_threads: int = 0,
    lock: bool = True,
) -> None:
    """Serve `model` under the name `alias` until SIGTERM or SIGINT. `threads` write the reply (0:
    `default_threads`), `batch_threads` read the prompt (0: as many); `lock`: keep it in memory (lock_in_memory)."""
    import xllamacpp

    if not model.is_file():
        raise FileNotFoundError(f"no GGUF model at {model}: fetch one with `billy models fetch`")
    locked = lock and lock_in_memory()
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {alias}
    params.hostnames = [host]
    params.port = port
    params.n_ctx = context
    params.n_parallel = 1  # one fish, one conversation: the whole context for it
    params.use_jinja = True  # the model's own chat template, tool calls included
    params.cache_prompt = True
    threads = threads or default_threads(model)
    batch_threads = batch_threads or threads
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = batch_threads
    os.nice(NICENESS)  # before the server's threads start: they inherit it
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    LOG.info(
        "serving %s as %r on %s with %d threads (%d reading prompts), %s",
        model.name,
        alias,
        server.listening_address,
        threads,
        batch_threads,
        "locked in memory" if locked else "not locked in memory",
    )
    stop.wait()
    del server


def add_arguments(parser: argparse.ArgumentParser, alias: str = "", host: str = "127.0.0.1", port: int = 11434):
    parser.add_argument(
        "--model",
        required=True,
        action="append",
        help="the GGUF file, or FILE:MIB (its peak memory) several times, best first: the first that fits is served",
    )
    parser.add_argument("--alias", default=alias, help="the model name clients ask for (LOCAL_LLM_MODEL)")
    parser.add_argument("--host", default=host, help="bind address (LOCAL_LLM_HOST)")
    parser.add_argument("--port", type=int, default=port, help="port (LOCAL_LLM_PORT)")
    parser.add_argument("--context", type=int, default=2048, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=0, help="threads writing the reply; 0: by the model's size")
    parser.add_argument("--batch-threads", type=int, default=0, help="threads reading the prompt; 0: as --threads")
    parser.add_argument(
        "--no-lock", dest="lock", action="store_false", help="let the kernel page the model out when it is idle"
    )
    parser.add_argument(
        "--choose", action="store_true", help="print the model the memory holds, and why, as JSON; serve nothing"
    )


def serve_from(args: argparse.Namespace) -> None:
    if args.choose:  # one JSON line on stdout: what a play reads (its log lines may share the stream)
        chosen, fit = pick_model(args.model)
        print(json.dumps({"model": str(chosen), "reason": fit.reason, "fallback": fit.index > 0}))
        return
    model = choose_model(args.model)
    serve_llm(
        model,
        args.alias or model.stem,
        args.host,
        args.port,
        args.context,
        args.threads,
        args.batch_threads,
        args.lock,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cli = argparse.ArgumentParser(description="llama.cpp's OpenAI-compatible server for one GGUF model")
    add_arguments(cli)
    serve_from(cli.parse_args())
