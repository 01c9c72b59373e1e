"""`billy stt-server`, `tts-server`, `llm-server`, `web` and `run`: the long-running processes, one per unit."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from billy.settings.read import Settings
from billy.settings.schema import BY_NAME


def _serve(app, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def cmd_stt_server(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.stt.engine import WhisperEngine
    from billy.services.stt.server import build_app

    language = None if args.language in ("", "auto") else args.language
    engine = WhisperEngine(Path(args.model_dir), args.compute_type, args.beam_size, args.threads, language)
    if args.wyoming_port:
        from billy.integrations.wyoming.server import SttHandler, serve_in_background

        serve_in_background(SttHandler, engine, args.host, args.wyoming_port, args.max_seconds)
    _serve(build_app(engine, args.max_seconds), args.host, args.port)
    return 0


def cmd_tts_server(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.tts.engine import PiperEngine
    from billy.services.tts.server import build_app

    engine = PiperEngine(Path(args.voice_dir), args.voice, args.threads, args.deterministic)
    if args.wyoming_port:
        from billy.integrations.wyoming.server import TtsHandler, serve_in_background

        serve_in_background(TtsHandler, engine, args.host, args.wyoming_port)
    _serve(build_app(engine, args.max_chars), args.host, args.port)
    return 0


def cmd_llm_server(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.llm.server import serve_from

    serve_from(args)
    return 0


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    from billy.web.app import build_app

    _serve(build_app(settings), args.host, args.port)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from billy.appliance.wiring import run_forever

    gpio = "mock" if os.environ.get("GPIOZERO_PIN_FACTORY", "") == "mock" else args.gpio
    return run_forever(settings, args.audio, Path(args.audio_dir), gpio)


def add_commands(commands, settings: Settings) -> None:
    stt = commands.add_parser("stt-server", help="serve faster-whisper (OpenAI transcription API)")
    stt.add_argument("--host", default=settings.local_stt_host, help="bind address (LOCAL_STT_HOST)")
    stt.add_argument("--port", type=int, default=settings.local_stt_port, help="port (LOCAL_STT_PORT)")
    stt.add_argument("--model-dir", default=str(settings.stt_model_dir), help="whisper model (BILLY_STT_MODEL_DIR)")
    stt.add_argument("--language", default=settings.stt_language, help="language code or auto (STT_LANGUAGE)")
    stt.add_argument("--compute-type", default=settings.stt_compute_type, help="(STT_COMPUTE_TYPE)")
    stt.add_argument("--beam-size", type=int, default=settings.stt_beam_size, help="(STT_BEAM_SIZE)")
    stt.add_argument("--threads", type=int, default=settings.stt_threads, help="0: half the cores (STT_THREADS)")
    stt.add_argument(
        "--max-seconds", type=float, default=settings.stt_max_seconds, help="longest upload (STT_MAX_SECONDS)"
    )
    stt.add_argument(
        "--wyoming-port", type=int, default=settings.stt_wyoming_port, help="also Wyoming; 0: off (STT_WYOMING_PORT)"
    )
    stt.set_defaults(handler=cmd_stt_server)

    tts = commands.add_parser("tts-server", help="serve piper (OpenAI speech API, streaming PCM)")
    tts.add_argument("--host", default=settings.local_tts_host, help="bind address (LOCAL_TTS_HOST)")
    tts.add_argument("--port", type=int, default=settings.local_tts_port, help="port (LOCAL_TTS_PORT)")
    tts.add_argument("--voice-dir", default=str(settings.tts_voice_dir), help="folder of voices (BILLY_TTS_VOICE_DIR)")
    tts.add_argument("--voice", default=settings.local_tts_voice, help="default voice (LOCAL_TTS_VOICE)")
    tts.add_argument("--max-chars", type=int, default=settings.tts_max_chars, help="longest input (TTS_MAX_CHARS)")
    tts.add_argument("--threads", type=int, default=settings.tts_threads, help="piper's cores, 0: all (TTS_THREADS)")
    tts.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        default=settings.tts_deterministic,
        help="the same text always sounds the same: piper's noise at zero (TTS_DETERMINISTIC)",
    )
    tts.add_argument(
        "--wyoming-port", type=int, default=settings.tts_wyoming_port, help="also Wyoming; 0: off (TTS_WYOMING_PORT)"
    )
    tts.set_defaults(handler=cmd_tts_server)

    from billy.services.llm.server import add_arguments

    llm = commands.add_parser("llm-server", help="serve a GGUF model with llama.cpp (OpenAI chat API)")
    add_arguments(llm, settings.local_llm_model, settings.local_llm_host, settings.local_llm_port)
    llm.set_defaults(handler=cmd_llm_server)

    run = commands.add_parser("run", help="the conversation runtime (billy.service)")
    audio, gpio = BY_NAME["BILLY_AUDIO"].kind.choices(), BY_NAME["BILLY_GPIO"].kind.choices()
    run.add_argument("--audio", default=settings.billy_audio, choices=audio, help="(BILLY_AUDIO)")
    run.add_argument("--audio-dir", default=str(settings.billy_audio_dir), help="file audio spool (BILLY_AUDIO_DIR)")
    run.add_argument("--gpio", default=settings.billy_gpio, choices=gpio, help="(BILLY_GPIO)")
    run.set_defaults(handler=cmd_run)

    web = commands.add_parser("web", help="the web page: settings, persona, songs, logs (billy-web.service)")
    web.add_argument("--host", default=settings.billy_web_host, help="bind address (BILLY_WEB_HOST)")
    web.add_argument("--port", type=int, default=settings.billy_web_port, help="port (BILLY_WEB_PORT)")
    web.set_defaults(handler=cmd_web)
