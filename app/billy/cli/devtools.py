"""`billy demo`, `billy bench`, `billy bench-brain`, `billy bench-wake`: for developers, on a machine without a fish."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billy.settings.read import Settings

MODELS_DIR = ".cache/models"


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.demo import run_demo

    results = run_demo(Path(args.out), Path(args.models_dir), args.question, args.language, args.brain or None)
    for latency in results:
        print(f"heard:  {latency['heard']}")
        print(f"said:   {latency['said']}")
        print(
            f"        answered by {latency['answered_by'] or 'the language model'}; "
            f"first motion {latency['first_motion_s']} s, first sound "
            f"{latency['first_sound_s']} s after the question's last voiced sample "
            f"({latency['first_sound_after_handover_s']} s after the listener's hand-over, which waited "
            f"{latency['end_of_turn_wait_s']} s)"
        )
    if results:
        print(f"brain:  {results[0]['brain']} (peak memory of each process: {args.out}/memory.json)")
    print(f"results in {args.out}/")
    return 0 if all(r["first_sound_s"] is not None and not r["error"] for r in results) else 1


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.bench import run_bench
    from billy.devtools.stack import GGUF_MODEL

    brains = tuple(args.brain) if args.brain else (GGUF_MODEL, None)
    run_bench(Path(args.out), Path(args.models_dir), args.runs, brains=brains)
    return 0


def cmd_bench_brain(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.brain_bench import run_brain_bench

    run_brain_bench(Path(args.out), Path(args.models_dir), args.brain or None)
    return 0


def cmd_bench_wake(args: argparse.Namespace, settings: Settings) -> int:
    from billy.devtools.wake_bench import run_wake_bench

    own = Path(args.model) if args.model else None
    if own is not None and not args.phrase:
        print('billy bench-wake: --model needs --phrase, the words it wakes on ("Hey Billy.")', file=sys.stderr)
        return 2
    run_wake_bench(Path(args.out), Path(args.models_dir), args.speech_seconds, own, args.phrase)
    return 0


def add_commands(commands, settings: Settings) -> None:
    demo = commands.add_parser("demo", help="one spoken question to a whole Billy on this machine")
    demo.add_argument("--out", default="out/demo", help="where the results go")
    demo.add_argument("--models-dir", default=MODELS_DIR, help="where the demo's models are kept")
    demo.add_argument(
        "--question",
        default="",
        help="a WAV with your spoken question, or words for espeak-ng to say ('|' between questions); "
        "default: a question in Billy's own voice",
    )
    demo.add_argument("--language", default="en", help="the language asked in: en, de, fr or nl")
    demo.add_argument("--brain", default="", help="a catalogue brain; default: the best this machine's memory holds")
    demo.set_defaults(handler=cmd_demo)

    bench = commands.add_parser("bench", help="streaming vs sequential pipeline, same models, same run")
    bench.add_argument("--out", default="out/bench.json")
    bench.add_argument("--models-dir", default=MODELS_DIR)
    bench.add_argument("--runs", type=int, default=3, help="runs per question and pipeline (median reported)")
    bench.add_argument(
        "--brain",
        action="append",
        help="only this catalogue brain (again for more); default: the fast one and the best this machine holds",
    )
    bench.set_defaults(handler=cmd_bench)

    brain = commands.add_parser("bench-brain", help="every catalogue brain: right answers, tool calls, speed, memory")
    brain.add_argument("--out", default="out/bench-brain.json")
    brain.add_argument("--models-dir", default=MODELS_DIR)
    brain.add_argument("--brain", action="append", help="only this catalogue brain (again for more)")
    brain.set_defaults(handler=cmd_bench_brain)

    wake = commands.add_parser("bench-wake", help="wake word: CPU, detections, false activations per hour")
    wake.add_argument("--out", default="out/bench-wake.json")
    wake.add_argument("--models-dir", default=MODELS_DIR)
    wake.add_argument("--speech-seconds", type=float, default=3600, help="speech without the wake word")
    wake.add_argument(
        "--model", default="", help="your own model too: its file (.onnx, .tflite or microWakeWord .json)"
    )
    wake.add_argument("--phrase", default="", help="with --model: the words it wakes on, for the voices to say")
    wake.set_defaults(handler=cmd_bench_wake)
