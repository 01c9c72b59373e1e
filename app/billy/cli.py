"""The `billy` command: one subcommand per job, one process per systemd unit.

Every flag defaults to its environment variable (named in its help), so a unit's `EnvironmentFile=` and a
hand-typed command line configure the same thing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from billy import __version__
from billy.settings.settings import ConfigError, Settings, load_settings


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

        serve_in_background(SttHandler, engine, args.host, args.wyoming_port)
    _serve(build_app(engine, args.max_seconds), args.host, args.port)
    return 0


def cmd_tts_server(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.tts.engine import PiperEngine
    from billy.services.tts.server import build_app

    engine = PiperEngine(Path(args.voice_dir), args.voice, args.threads)
    if args.wyoming_port:
        from billy.integrations.wyoming.server import TtsHandler, serve_in_background

        serve_in_background(TtsHandler, engine, args.host, args.wyoming_port)
    _serve(build_app(engine, args.max_chars), args.host, args.port)
    return 0


def cmd_llm_server(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.llm.server import serve_from

    serve_from(args)
    return 0


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from billy.models.catalogue import load_catalogue

    for entry in load_catalogue().values():
        sources = ", then ".join(source.describe() for source in entry.sources)
        print(f"{entry.name:<18} {entry.kind:<8} {entry.description}\n{'':<18} sources: {sources}")
    return 0


def cmd_models_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from billy.models.fetch import fetch_model

    local = Path(args.source) if args.source else None
    result = fetch_model(args.name, Path(args.dir), local=local, offline=args.offline)
    print(f"{args.name}: {len(result.copied)} file(s) from {result.source} in {result.directory}")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from billy.appliance.wiring import run_forever

    gpio = "mock" if os.environ.get("GPIOZERO_PIN_FACTORY", "") == "mock" else args.gpio
    return run_forever(settings, args.audio, Path(args.audio_dir), gpio)


def cmd_sounds_render(args: argparse.Namespace, settings: Settings) -> int:
    from billy.media.sounds import render_clips, render_wakeup
    from billy.persona.library import PersonaLibrary
    from billy.persona.persona import Persona

    rendered = render_clips(Path(args.voice_dir), args.voice, Path(args.dir))
    print(f"rendered {len(rendered)} clip(s) into {args.dir}" if rendered else f"clips in {args.dir} are up to date")
    library = PersonaLibrary(settings.billy_state_dir)
    phrases = {}
    for name in library.names():
        persona = Persona(library.path_of(name), name)
        phrases.update({library.wakeup_dir(name) / f"{i}.wav": text for i, text in persona.wakeup_phrases.items()})
    woken = render_wakeup(Path(args.voice_dir), args.voice, phrases)
    print(
        f"rendered {len(woken)} persona wake-up clip(s) from [WAKEUP]"
        if woken
        else "persona wake-up clips are up to date"
    )
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from billy.settings.importer import import_install

    for line in import_install(Path(args.dir), Path(args.etc_dir), Path(args.state_dir), args.owner, args.force):
        print(line)
    return 0


def cmd_say(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.tts.client import TtsClient

    wav = TtsClient(settings.tts_url, settings.local_tts_voice).speak_wav(" ".join(args.text))
    if args.out:
        Path(args.out).write_bytes(wav)
        return 0
    from billy.audio.devices import SoundDeviceSpeaker
    from billy.audio.pcm import read_wav

    pcm = read_wav(wav)
    speaker = SoundDeviceSpeaker(settings.speaker_preference)
    speaker.write(pcm.samples, pcm.rate)
    speaker.close()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.demo import run_demo

    question = Path(args.question) if args.question else None
    latency = run_demo(Path(args.out), Path(args.models_dir), question, args.text)
    out = Path(args.out)
    print(f"heard:  {(out / 'transcript.txt').read_text().strip()}")
    print(f"said:   {(out / 'reply.txt').read_text().strip()}")
    print(
        f"first sound {latency['first_sound_s']} s after the question's last voiced sample "
        f"({latency['first_sound_after_handover_s']} s after the listener's hand-over, which waited "
        f"{latency['end_of_turn_wait_s']} s); milestones {latency['milestones_s']}; results in {out}/"
    )
    return 0 if latency["first_sound_s"] is not None and not latency["error"] else 1


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.bench import run_bench

    run_bench(Path(args.out), Path(args.models_dir), args.runs)
    return 0


def cmd_bench_wake(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.wake_bench import run_wake_bench

    run_wake_bench(Path(args.out), Path(args.models_dir), args.speech_seconds)
    return 0


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    from billy.web.app import build_app

    _serve(build_app(settings), args.host, args.port)
    return 0


def _tell(message: str, journal_priority: int) -> None:
    # Under systemd (JOURNAL_STREAM set) a "<N>" prefix gives the line its journal priority; the console too.
    prefix = f"<{journal_priority}>" if os.environ.get("JOURNAL_STREAM") else ""
    print(f"{prefix}{message}", file=sys.stderr if journal_priority <= 4 else sys.stdout, flush=True)


def cmd_settings_apply(args: argparse.Namespace, settings: Settings) -> int:
    from billy.settings import local as local_settings

    path, config_dir = Path(args.file), Path(args.config_dir)
    result = local_settings.apply_file(path, config_dir)
    for note in result.notes:
        _tell(f"billy settings: {note}", 5)
    for problem in result.problems:
        _tell(f"billy settings: {problem}", 4)
    for name in result.changed:
        value = result.accepted.get(name)
        told = "removed the local value of " + name if value is None else local_settings.shown(name, value)
        _tell(f"billy settings: {path.name}: {told}", 6)
    if result.unchanged:
        _tell(f"billy settings: {path.name}: already so: {' '.join(result.unchanged)}", 6)
    if args.scrub:
        record = local_settings.scrub_boot_file(path, result)
        _tell(f"billy settings: moved {path.name} off the card (secrets removed); what applied is in {record}", 6)
    if args.restart and result.units:
        _tell(f"billy settings: restarting the units that read them, if running: {' '.join(result.units)}", 6)
        local_settings.restart_units(result.units)
    elif result.units:
        _tell(f"billy settings: units that read them (restart to use): {' '.join(result.units)}", 6)
    return local_settings.EXIT_SOME_REJECTED if result.problems else 0


def cmd_settings_show(args: argparse.Namespace, settings: Settings) -> int:
    from billy.settings.local import effective_settings

    for name, value, origin in effective_settings(Path(args.config_dir)):
        print(f"{name}={value}  # {origin}")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from billy.appliance.doctor import doctor

    return doctor(settings)


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billy", description="Billy Bass, a fully local voice assistant.")
    parser.add_argument("--version", action="version", version=f"billy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
        "--wyoming-port", type=int, default=settings.tts_wyoming_port, help="also Wyoming; 0: off (TTS_WYOMING_PORT)"
    )
    tts.set_defaults(handler=cmd_tts_server)

    from billy.services.llm.server import add_arguments

    llm = commands.add_parser("llm-server", help="serve a GGUF model with llama.cpp (OpenAI chat API)")
    add_arguments(llm, settings.local_llm_model, settings.local_llm_host, settings.local_llm_port)
    llm.set_defaults(handler=cmd_llm_server)

    models = commands.add_parser("models", help="the model catalogue").add_subparsers(dest="action", required=True)
    models.add_parser("list", help="list the catalogue").set_defaults(handler=cmd_models_list)
    fetch = models.add_parser("fetch", help="put a model's verified files in a directory")
    fetch.add_argument("name")
    fetch.add_argument("--dir", required=True, help="where the files go")
    fetch.add_argument(
        "--from",
        dest="source",
        default=os.environ.get("BILLY_MODELS_SOURCE", ""),
        help="a local file or directory to use instead of the catalogue's sources (BILLY_MODELS_SOURCE)",
    )
    fetch.add_argument(
        "--offline",
        action="store_true",
        default=os.environ.get("BILLY_OFFLINE", "") == "1",
        help="skip internet sources (BILLY_OFFLINE=1)",
    )
    fetch.set_defaults(handler=cmd_models_fetch)

    from billy.settings.local import CONFIG_DIR

    local = commands.add_parser("settings", help="local settings that win over Ansible's (/etc/billy/local.env)")
    local_actions = local.add_subparsers(dest="action", required=True)
    apply = local_actions.add_parser("apply", help="check a NAME=value file and apply its good lines")
    apply.add_argument("file", help="for example /boot/firmware/billy.env")
    apply.add_argument("--restart", action="store_true", help="restart the running units that read a changed setting")
    apply.add_argument(
        "--scrub", action="store_true", help="then take FILE off its (boot) partition, leaving FILE.applied"
    )
    show = local_actions.add_parser("show", help="every setting, its value (secrets masked) and where it comes from")
    for action in (apply, show):
        action.add_argument("--config-dir", default=str(CONFIG_DIR), help="where the settings are (/etc/billy)")
    apply.set_defaults(handler=cmd_settings_apply)
    show.set_defaults(handler=cmd_settings_show)

    commands.add_parser("doctor", help="check the services, sound cards, GPIO, MQTT and Home Assistant").set_defaults(
        handler=cmd_doctor
    )

    run = commands.add_parser("run", help="the conversation runtime (billy.service)")
    run.add_argument("--audio", default=settings.billy_audio, choices=("sounddevice", "file"), help="(BILLY_AUDIO)")
    run.add_argument("--audio-dir", default=str(settings.billy_audio_dir), help="file audio spool (BILLY_AUDIO_DIR)")
    run.add_argument("--gpio", default=settings.billy_gpio, choices=("auto", "mock"), help="(BILLY_GPIO)")
    run.set_defaults(handler=cmd_run)

    sounds = commands.add_parser("sounds", help="wake-up and error clips").add_subparsers(dest="action", required=True)
    render = sounds.add_parser("render", help="render the clips with piper, in-process (no service needed)")
    render.add_argument("--voice-dir", default=str(settings.tts_voice_dir), help="(BILLY_TTS_VOICE_DIR)")
    render.add_argument("--voice", default=settings.local_tts_voice, help="(LOCAL_TTS_VOICE)")
    render.add_argument("--dir", default=str(settings.billy_state_dir / "sounds"), help="where the clips go")
    render.set_defaults(handler=cmd_sounds_render)

    demo = commands.add_parser("demo", help="one spoken question to a whole Billy on this machine")
    demo.add_argument("--out", default="out/demo", help="where the results go")
    demo.add_argument("--models-dir", default=".cache/models", help="where the demo's models are kept")
    demo.add_argument("--question", default="", help="a WAV with your spoken question (default: a synthesised one)")
    demo.add_argument("--text", default="Hello Billy! What do you like to do all day?", help="the synthesised question")
    demo.set_defaults(handler=cmd_demo)

    bench = commands.add_parser("bench", help="streaming vs sequential pipeline, same models, same run")
    bench.add_argument("--out", default="out/bench.json")
    bench.add_argument("--models-dir", default=".cache/models")
    bench.add_argument("--runs", type=int, default=3, help="runs per question and pipeline (median reported)")
    bench.set_defaults(handler=cmd_bench)
    wake = commands.add_parser("bench-wake", help="wake word: CPU, detections, false activations per hour")
    wake.add_argument("--out", default="out/bench-wake.json")
    wake.add_argument("--models-dir", default=".cache/models")
    wake.add_argument("--speech-seconds", type=float, default=3600, help="speech without the wake word")
    wake.set_defaults(handler=cmd_bench_wake)

    web = commands.add_parser("web", help="the web page: settings, persona, songs, logs (billy-web.service)")
    web.add_argument("--host", default=settings.billy_web_host, help="bind address (BILLY_WEB_HOST)")
    web.add_argument("--port", type=int, default=settings.billy_web_port, help="port (BILLY_WEB_PORT)")
    web.set_defaults(handler=cmd_web)

    take = commands.add_parser(
        "import", help="move an original Billy B-Assistant install in (settings, personas, songs)"
    )
    take.add_argument("dir", help="the original install's folder (with .env, persona.ini, custom_songs/, sounds/)")
    take.add_argument("--etc-dir", default="/etc/billy", help="where local.env goes")
    take.add_argument("--state-dir", default=str(settings.billy_state_dir), help="(BILLY_STATE_DIR)")
    take.add_argument("--owner", default="", help="the user that owns Billy's state files (run as root)")
    take.add_argument("--force", action="store_true", help="the install's files and settings replace Billy's")
    take.set_defaults(handler=cmd_import)

    say = commands.add_parser("say", help="speak a text through the TTS service and the speaker")
    say.add_argument("text", nargs="+")
    say.add_argument("--out", default="", help="write the WAV here instead of playing it")
    say.set_defaults(handler=cmd_say)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        settings, problem = load_settings(), None
    except ConfigError as error:
        settings, problem = load_settings({}), error  # defaults only for --help, which must work regardless
    args = build_parser(settings).parse_args(argv)
    if problem is not None:
        print(f"billy: configuration error: {problem}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.logging_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args, settings)
    except (ConfigError, LookupError, ValueError, RuntimeError, OSError) as error:
        print(f"billy {args.command}: {error}", file=sys.stderr)
        return 1
