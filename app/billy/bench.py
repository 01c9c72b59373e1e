"""`billy bench`: the streaming pipeline against the sequential one, same models, same machine, same run.

Each spoken question goes through both pipelines, alternately, several times. Time zero is the moment the
listener hands over the utterance (the VAD has just heard the end of speech; its end-of-speech silence is the
same for both and not counted). Reported per question: median time to Billy's first sound and to his last
sound, and streaming divided by sequential. The model runs greedy (temperature 0) so both pipelines get the
same reply.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from .audio.file_device import FileMicrophone, FileSpeaker
from .audio.pcm import read_wav
from .body.fish import make_pin_factory
from .config import load_settings
from .models import defaults
from .runtime import start_billy
from .sounds import render_clips
from .stack import local_stack
from .tts.client import TtsClient

QUESTIONS = ("What is your name?", "Tell me something about the sea.", "What do you like to eat?")


def run_bench(out: Path, models_dir: Path, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as state, local_stack(models_dir, out.parent / "bench-logs") as stack:
        render_clips(models_dir, defaults.VOICE, Path(state) / "sounds")
        env = {**os.environ, "LLM_MAX_TOKENS": "60", **stack.environment(), "BILLY_STATE_DIR": state}
        billy = start_billy(load_settings(env), FileMicrophone(), FileSpeaker(), make_pin_factory("mock"))
        pipeline = billy.pipeline
        for client in pipeline.llm.clients:
            client.temperature = 0.0
        tts = TtsClient(stack.tts.base_url)
        spoken = {q: read_wav(tts.speak_wav(q)).resampled(16000) for q in QUESTIONS}
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {
            q: {"streaming": [], "sequential": []} for q in QUESTIONS
        }
        stages: list[dict[str, float]] = []
        for _ in range(runs):
            for question, pcm in spoken.items():
                for mode, turn in (("streaming", pipeline.turn), ("sequential", pipeline.turn_sequential)):
                    pipeline.conversation.forget()
                    started = time.monotonic()
                    result = turn(pcm, threading.Event())
                    if result.first_sound_at is None or result.last_sound_at is None:
                        raise RuntimeError(f"{mode} run of {question!r} played nothing (error: {result.failed_stage})")
                    samples[question][mode].append((result.first_sound_at - started, result.last_sound_at - started))
                    if mode == "streaming":
                        stages.append({name: at - started for name, at in result.marks.items()})
        billy.close()
        report = _report(samples, stack.llm_model, runs)
        report["streaming_stages_s"] = {
            name: _median([run[name] for run in stages if name in run])
            for name in ("transcribed", "first_token", "first_sentence")
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    _print_table(report)
    return report


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _report(samples: dict, llm_model: str, runs: int) -> dict:
    questions = []
    for question, modes in samples.items():
        row = {"question": question}
        for mode, pairs in modes.items():
            row[mode] = {
                "first_sound_s": _median([f for f, _ in pairs]),
                "last_sound_s": _median([s for _, s in pairs]),
            }
        row["ratio_first_sound"] = round(row["streaming"]["first_sound_s"] / row["sequential"]["first_sound_s"], 3)
        questions.append(row)
    every = {mode: [pair for modes in samples.values() for pair in modes[mode]] for mode in ("streaming", "sequential")}
    overall = {
        mode: {"first_sound_s": _median([f for f, _ in p]), "last_sound_s": _median([s for _, s in p])}
        for mode, p in every.items()
    }
    return {
        "models": {"stt": defaults.STT_MODEL, "llm": llm_model, "tts": defaults.VOICE},
        "runs_per_question": runs,
        "questions": questions,
        "overall": overall,
        "ratio_first_sound": round(overall["streaming"]["first_sound_s"] / overall["sequential"]["first_sound_s"], 3),
        "ratio_last_sound": round(overall["streaming"]["last_sound_s"] / overall["sequential"]["last_sound_s"], 3),
    }


def _print_table(report: dict) -> None:
    print(f"models: {report['models']}, median of {report['runs_per_question']} runs; seconds after end of speech")
    header = f"{'question':<36} {'first: stream':>13} {'sequential':>11} {'ratio':>6}"
    print(f"{header}   {'last: stream':>12} {'sequential':>11}")
    for row in report["questions"]:
        s, q = row["streaming"], row["sequential"]
        print(
            f"{row['question']:<36} {s['first_sound_s']:>13.2f} {q['first_sound_s']:>11.2f} "
            f"{row['ratio_first_sound']:>6.2f}   {s['last_sound_s']:>12.2f} {q['last_sound_s']:>11.2f}"
        )
    s, q = report["overall"]["streaming"], report["overall"]["sequential"]
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in report["streaming_stages_s"].items())
    print(f"streaming, median time of each stage's milestone: {stages}")
    print(
        f"{'all questions':<36} {s['first_sound_s']:>13.2f} {q['first_sound_s']:>11.2f} "
        f"{report['ratio_first_sound']:>6.2f}   {s['last_sound_s']:>12.2f} {q['last_sound_s']:>11.2f}"
    )
