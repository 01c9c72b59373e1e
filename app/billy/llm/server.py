"""`billy llm-server`: llama.cpp's own OpenAI-compatible server, in this process, through xllamacpp's wheels.

Prebuilt for x86_64 and aarch64, so neither a developer's machine nor the Pi compiles anything. It serves
`/v1/chat/completions` (streaming, tools with the model's own chat template) and keeps the slot's prompt
cached, so the system prompt is not evaluated again on every turn.

This file needs only the standard library and xllamacpp: the `llama_cpp` role runs it as it is
(`python server.py --model ...`) in a venv of its own, so the unit and `billy llm-server` share one launcher.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

LOG = logging.getLogger(__name__)


def serve_llm(model: Path, alias: str, host: str, port: int, context: int = 2048, threads: int = 0) -> None:
    """Serve `model` under the name `alias` until SIGTERM or SIGINT."""
    import xllamacpp

    if not model.is_file():
        raise FileNotFoundError(f"no GGUF model at {model}: fetch one with `billy models fetch`")
    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {alias}
    params.hostnames = [host]
    params.port = port
    params.n_ctx = context
    params.n_parallel = 1  # one fish, one conversation: the whole context for it
    params.use_jinja = True  # the model's own chat template, tool calls included
    params.cache_prompt = True
    if threads > 0:
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    LOG.info("serving %s as %r on %s", model.name, alias, server.listening_address)
    stop.wait()
    del server


def add_arguments(parser: argparse.ArgumentParser, alias: str = "", host: str = "127.0.0.1", port: int = 11434):
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", default=alias, help="the model name clients ask for (LOCAL_LLM_MODEL)")
    parser.add_argument("--host", default=host, help="bind address (LOCAL_LLM_HOST)")
    parser.add_argument("--port", type=int, default=port, help="port (LOCAL_LLM_PORT)")
    parser.add_argument("--context", type=int, default=2048, help="context size in tokens")
    parser.add_argument("--threads", type=int, default=0, help="0: llama.cpp's choice")


def serve_from(args: argparse.Namespace) -> None:
    serve_llm(Path(args.model), args.alias or Path(args.model).stem, args.host, args.port, args.context, args.threads)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cli = argparse.ArgumentParser(description="llama.cpp's OpenAI-compatible server for one GGUF model")
    add_arguments(cli)
    serve_from(cli.parse_args())
