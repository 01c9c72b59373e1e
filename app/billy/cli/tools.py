"""An owner's tools: `billy models`, `billy brain`, `billy sounds render`, `billy say`, `billy calibrate`,
`billy doctor`."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from billy.settings.local import CONFIG_DIR
from billy.settings.read import Settings


def cmd_models_list(args: argparse.Namespace, settings: Settings) -> int:
    from billy.models.catalogue import load_catalogue

    for entry in load_catalogue().values():
        sources = ", then ".join(source.describe() for source in entry.sources)
        print(f"{entry.name:<18} {entry.kind:<8} {entry.description}\n{'':<18} sources: {sources}")
        if entry.licence:
            print(f"{'':<18} licence: {entry.licence}")
    return 0


def cmd_models_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from billy.models.fetch import fetch_model

    local = Path(args.source) if args.source else None
    result = fetch_model(args.name, Path(args.dir), local=local, offline=args.offline)
    print(f"{args.name}: {len(result.copied)} file(s) from {result.source} in {result.directory}")
    return 0


def cmd_brain(args: argparse.Namespace, settings: Settings) -> int:
    from billy.services.llm.ollama_brain import SETTING, BrainError, Ollama, get_brain
    from billy.settings import local

    config_dir = Path(args.config_dir)
    try:
        outcome = get_brain(args.model, Ollama(args.ollama), config_dir, meminfo=Path(args.meminfo))
    except BrainError as error:
        print(f"billy brain: {error}; {SETTING} is unchanged", file=sys.stderr)
        return 1
    if outcome.setting_changed and args.restart:
        # The units that read the setting, from the map the role renders (settings-units.json), as `billy
        # settings apply` restarts them: the runtime today.
        units = local.units_to_restart([SETTING], local.read_units_map(config_dir))
        print(f"billy brain: restarting the units that read {SETTING}, if running: {' '.join(units)}")
        local.restart_units(units)
    return 0


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


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    """The room, then the owner's voice, measured by the running Billy; MIC_GAIN and SILENCE_THRESHOLD proposed
    and, with --save (or a yes), written to local.env."""
    from billy.appliance.control_client import ControlClient, ControlError, socket_path
    from billy.hearing.calibration import CalibrationError, Levels, propose
    from billy.settings import local

    control = ControlClient(socket_path(settings.billy_state_dir), timeout=args.seconds + 10)
    measured = {}
    try:
        for what, ask in (("room", "Stay quiet"), ("voice", "Now talk to Billy as you usually would")):
            print(f"{ask} for {args.seconds:g} seconds ...", flush=True)
            measured[what] = control.request("mic_measure", seconds=args.seconds)
        room, voice = (Levels(measured[what]["floor"], measured[what]["peak"]) for what in ("room", "voice"))
        proposal = propose(measured["room"]["mic_gain_db"], room, voice)
    except (ControlError, CalibrationError) as error:
        print(f"billy calibrate: {error}", file=sys.stderr)
        return 1
    gain = measured["room"]["mic_gain_db"]
    print(f"room {_dbfs(room.floor)}, your voice {_dbfs(voice.peak)} (with MIC_GAIN {gain:g} dB)")
    for name, value in proposal.settings().items():
        print(f"proposed {name}={value}")
    if not args.save and not (sys.stdin.isatty() and input("Save them? [y/N] ").strip().lower() in ("y", "yes")):
        return 0
    result = local.apply_changes(proposal.settings(), Path(args.config_dir), source="billy calibrate")
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.units:
        print(f"saved; restart to use them: {' '.join(result.units)}")
    return 1 if result.problems else 0


def _dbfs(level: float) -> str:
    return f"{20 * math.log10(max(level, 1e-6)):.0f} dBFS"


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from billy.appliance.doctor import doctor

    return doctor(settings)


def add_commands(commands, settings: Settings) -> None:
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

    brain = commands.add_parser(
        "brain", help="pull into Ollama the brain this machine's memory holds, and name it in LOCAL_LLM_MODEL"
    )
    brain.add_argument(
        "--model",
        required=True,
        action="append",
        help="NAME:MIB, an Ollama model and its peak memory, several times, best first (0: not known)",
    )
    brain.add_argument("--ollama", default="http://127.0.0.1:11434", help="Ollama's address")
    brain.add_argument("--config-dir", default=str(CONFIG_DIR), help="where billy.env and local.env are")
    brain.add_argument("--meminfo", default="/proc/meminfo", help="where the machine's memory is read")
    brain.add_argument("--restart", action="store_true", help="restart Billy when LOCAL_LLM_MODEL changed")
    brain.set_defaults(handler=cmd_brain)

    calibrate = commands.add_parser("calibrate", help="measure the room and your voice; propose the microphone's gain")
    calibrate.add_argument("--seconds", type=float, default=3.0, help="seconds of each measurement (0.5 to 10)")
    calibrate.add_argument("--save", action="store_true", help="write the proposal to local.env without asking")
    calibrate.add_argument("--config-dir", default=str(CONFIG_DIR), help="where local.env is")
    calibrate.set_defaults(handler=cmd_calibrate)
    commands.add_parser("doctor", help="check the services, sound cards, GPIO, MQTT and Home Assistant").set_defaults(
        handler=cmd_doctor
    )

    sounds = commands.add_parser("sounds", help="wake-up and error clips").add_subparsers(dest="action", required=True)
    render = sounds.add_parser("render", help="render the clips with piper, in-process (no service needed)")
    render.add_argument("--voice-dir", default=str(settings.tts_voice_dir), help="(BILLY_TTS_VOICE_DIR)")
    render.add_argument("--voice", default=settings.local_tts_voice, help="(LOCAL_TTS_VOICE)")
    render.add_argument("--dir", default=str(settings.billy_state_dir / "sounds"), help="where the clips go")
    render.set_defaults(handler=cmd_sounds_render)

    say = commands.add_parser("say", help="speak a text through the TTS service and the speaker")
    say.add_argument("text", nargs="+")
    say.add_argument("--out", default="", help="write the WAV here instead of playing it")
    say.set_defaults(handler=cmd_say)
