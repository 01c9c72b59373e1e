"""`billy bench`: what a person waits for, streaming Billy against the sequential pipeline, same models, same run.

Each spoken question goes into the (file-backed, real-time) microphone and through a listener, alternately
for both pipelines, several times. The clock starts at the question's last voiced sample, as the person who
asked hears it; the listener's hand-over (when it decided the turn was over) is reported beside it.

- streaming: Billy as he runs: the end-of-turn judge, the reply drafted during the silence, sentences voiced
  and played as they come.
- sequential: the local-models fork's way: a fixed 600 ms silence, then the whole transcript, the whole reply,
  the whole synthesis, then play.

Billy's own answers (his intents: no model) go through the streaming pipeline in the same run, so their first
sound stands beside the model's. Then the early-cut check: questions with a pause in the middle of the sentence
go through Billy's listener; reported are how often it handed over before the question was finished, and the
mean wait after the end.
The model runs greedy (temperature 0) so both pipelines get the same reply.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.audio.pcm import Pcm, read_wav
from billy.body.fish import make_pin_factory
from billy.conversation.pipeline import Pipeline, TurnResult
from billy.conversation.sentences import ends_sentence
from billy.devtools.realtime_bench import print_realtime, realtime_added_delay
from billy.devtools.stack import GGUF_MODEL, local_stack, tts_service
from billy.hearing.end_of_turn import EndOfTurn
from billy.hearing.listening import Listener
from billy.media.sounds import render_clips
from billy.models import defaults
from billy.services.llm.client import Overtime, TextDelta
from billy.services.tts.client import TtsClient
from billy.settings.read import load_settings

QUESTIONS = ("Where do you live?", "Tell me something about the sea.", "What do you like to eat?")
OWN_QUESTIONS = ("What time is it?", "What is your name?", "What is the date today?")  # Billy's intents answer
# Questions with a pause mid-sentence: (before the pause, after it). A good end of turn waits for the rest.
PAUSED_QUESTIONS = (
    ("What is the capital of", "France?"),
    ("Can you tell me a story about", "a pirate fish?"),
    ("I was wondering", "if fish can sleep at night."),
    ("If it rains tomorrow", "will you still sing for me?"),
    ("My favourite colour is", "blue, what is yours?"),
    ("How far is it from here to", "the moon?"),
    ("Before you answer", "tell me your name."),
)
PAUSE_SECONDS = 1.0
SEQUENTIAL_SILENCE_MS = 600  # the fork's fixed end-of-speech silence
LISTEN_TIMEOUT_S = 30
# Each pipeline's milestones, in the order they happen (seconds after the question's last voiced sample).
MILESTONES = {
    # vad_end: the last frame the VAD took for speech; drafted: the pause that started the draft; asked: the
    # request to the model sent
    "streaming": (
        "vad_end",
        "drafted",
        "transcribed",
        "asked",
        "first_token",
        "first_sentence",
        "handed_over",
        "first_audio",
        "first_sound",
    ),
    "sequential": ("vad_end", "handed_over", "transcribed", "replied", "synthesised", "first_sound"),
}


def sequential_turn(pipeline: Pipeline, utterance: Pcm, interrupt: threading.Event, tts: TtsClient) -> TurnResult:
    """Whole transcript, whole reply, whole synthesis, then play: the local-models fork's way. `tts` is piper on
    every core, as the fork runs it: nothing else wants them while it synthesises."""
    result = TurnResult()
    pipeline.player.reset_marks()
    result.heard = pipeline.transcribe(utterance)
    result.marks["transcribed"] = time.monotonic()
    messages = pipeline.conversation.messages_for(result.heard)
    result.said = _whole_reply(pipeline.think(messages))
    result.marks["replied"] = time.monotonic()
    if result.said:
        wav = read_wav(tts.speak_wav(result.said))
        result.marks["synthesised"] = time.monotonic()
        pipeline.player.play(wav.samples, wav.rate, interrupt)
    result.first_sound_at, result.last_sound_at = pipeline.player.first_sound_at, pipeline.player.last_sound_at
    return result


def run_bench(
    out: Path,
    models_dir: Path,
    runs: int,
    questions: tuple[str, ...] = QUESTIONS,
    paused_questions: tuple[tuple[str, str], ...] = PAUSED_QUESTIONS,
    own_questions: tuple[str, ...] = OWN_QUESTIONS,
    brains: tuple[str | None, ...] = (GGUF_MODEL, None),
) -> dict:
    """`make bench`; `make test` runs a short one (a question, a paused one, once) to keep this code honest.
    `brains`: each benched in turn (None: the best this machine holds, as `make demo` and the image choose)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the figures
    reports: dict[str, dict] = {}
    for brain in brains:
        report = _bench_brain(out.parent, models_dir, runs, questions, paused_questions, own_questions, brain)
        if report["models"]["llm"] not in reports:  # the best that fits may be the fast one
            reports[report["models"]["llm"]] = report
    summary = {"brains": reports, "side_by_side": [_side_by_side(report) for report in reports.values()]}
    summary["realtime"] = realtime_added_delay(models_dir, out.parent / "bench-logs", runs, questions)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    for report in reports.values():
        _print_table(report)
    _print_side_by_side(summary["side_by_side"])
    print_realtime(summary["realtime"])
    return summary


def _side_by_side(report: dict) -> dict:
    streaming, sequential = report["overall"]["streaming"], report["overall"]["sequential"]
    return {
        "brain": report["models"]["llm"],
        "first_motion_s": streaming["first_motion_s"],
        "first_sound_s": streaming["first_sound_s"],
        "sequential_first_sound_s": sequential["first_sound_s"],
        "ratio_first_sound": report["ratio_first_sound"],
        "waited_for_words_s": streaming["waited_for_words_s"],
    }


def _print_side_by_side(rows: list[dict]) -> None:
    print("\nmedian seconds after the question's last voiced sample, streaming Billy against sequential")
    print(f"{'brain':<22} {'first motion':>12} {'first sound':>12} {'sequential':>11} {'ratio':>6} {'dead air':>9}")
    for row in rows:
        print(
            f"{row['brain']:<22} {row['first_motion_s']:>12.2f} {row['first_sound_s']:>12.2f} "
            f"{row['sequential_first_sound_s']:>11.2f} {row['ratio_first_sound']:>6.3f} "
            f"{row['waited_for_words_s']:>9.2f}"
        )
    print("dead air: seconds Billy's speaker waited for the next piece of the reply after his first sound (median)")


def _bench_brain(
    out_dir: Path,
    models_dir: Path,
    runs: int,
    questions: tuple[str, ...],
    paused_questions: tuple[tuple[str, str], ...],
    own_questions: tuple[str, ...],
    brain: str | None,
) -> dict:
    logs = out_dir / "bench-logs"
    with (
        tempfile.TemporaryDirectory() as state,
        local_stack(models_dir, logs, deterministic=True, brain=brain) as stack,  # the same questions every run
        _piper_on_every_core(models_dir, logs) as sequential_tts,
    ):
        render_clips(models_dir, defaults.VOICE, Path(state) / "sounds")
        env = {**os.environ, "LLM_MAX_TOKENS": "60", **stack.environment(), "BILLY_STATE_DIR": state}
        microphone = FileMicrophone()
        billy = start_billy(load_settings(env), microphone, FileSpeaker(), make_pin_factory("mock"))
        pipeline = billy.pipeline
        for client in pipeline.llm.clients:
            client.temperature = 0.0
        pipeline.warm_up()
        sequential_listener = Listener(microphone, EndOfTurn(None, SEQUENTIAL_SILENCE_MS))
        tts = TtsClient(stack.tts.base_url)
        spoken = {q: _spoken(tts, q) for q in questions}
        own = {q: _spoken(tts, q) for q in own_questions}
        own_samples: dict[str, list[dict]] = {q: [] for q in own_questions}
        samples: dict[str, dict[str, list[dict]]] = {q: {"streaming": [], "sequential": []} for q in questions}
        stages: dict[str, list[dict[str, float]]] = {"streaming": [], "sequential": []}
        replies: dict[str, dict[str, str]] = {q: {} for q in questions}  # what each pipeline heard and said
        for _ in range(runs):
            for question, pcm in spoken.items():
                for mode in ("streaming", "sequential"):
                    pipeline.conversation.forget()
                    microphone.speech_ended_at = None
                    microphone.queue(pcm)
                    if mode == "streaming":
                        utterance = billy.listener.listen(
                            LISTEN_TIMEOUT_S, None, pipeline.draft, prefill=pipeline.prefill
                        )
                        result = pipeline.turn(utterance.pcm, threading.Event(), utterance.draft)
                    else:
                        utterance = sequential_listener.listen(LISTEN_TIMEOUT_S)
                        result = sequential_turn(pipeline, utterance.pcm, threading.Event(), sequential_tts)
                    spoke_until = microphone.speech_ended_at
                    unmoved = mode == "streaming" and result.first_motion_at is None
                    if result.first_sound_at is None or spoke_until is None or result.failed_stage or unmoved:
                        raise RuntimeError(f"{mode} run of {question!r} failed ({result.failed_stage or 'silent'})")
                    motion = {} if mode == "sequential" else {"first_motion_s": result.first_motion_at - spoke_until}
                    samples[question][mode].append(
                        {
                            **motion,
                            "first_sound_s": result.first_sound_at - spoke_until,
                            "first_sound_after_handover_s": result.first_sound_at - utterance.handed_over_at,
                            "last_sound_s": result.last_sound_at - spoke_until,
                            "waited_for_words_s": result.waited_for_words_s,
                            "end_of_turn_wait_s": utterance.handed_over_at - spoke_until,
                            "drafts_dropped": utterance.resumed,  # pauses the user spoke on after
                        }
                    )
                    replies[question][mode] = f"heard {result.heard!r}, said {result.said!r}"
                    marks = {
                        **result.marks,
                        "vad_end": utterance.ended_at,
                        "handed_over": utterance.handed_over_at,
                        "first_sound": result.first_sound_at,
                    }
                    stages[mode].append({name: at - spoke_until for name, at in marks.items()})
            for question, pcm in own.items():
                own_samples[question].append(_own_answer(billy, microphone, pcm, question))
        paused = {f"{before} ... {after}": paused_question(tts, before, after) for before, after in paused_questions}
        early_cut = {
            "streaming": _early_cut_check(billy.listener, pipeline.draft, microphone, paused),
            "sequential": _early_cut_check(sequential_listener, None, microphone, paused),
        }
        judge = defaults.END_OF_TURN_MODEL if billy.listener.end_of_turn.model else "silence"
        billy.fish.close()
    report = _report(samples, stack.llm_model, runs, judge)
    report["milestones_s"] = {
        mode: {name: _median([run[name] for run in stages[mode] if name in run]) for name in names}
        for mode, names in MILESTONES.items()
    }
    report["early_cut"] = early_cut
    report["own_answers"] = {
        "questions": [{"question": question, **_summary(runs)} for question, runs in own_samples.items()],
        "overall": _summary([run for runs in own_samples.values() for run in runs]) if own_samples else {},
    }
    # Each pipeline with piper as suits it: one core beside the model that writes on (streaming), every core for
    # a synthesis that runs alone (sequential).
    report["piper_threads"] = {"streaming": load_settings(os.environ).tts_threads or "all", "sequential": "all"}
    report["replies_last_run"] = replies
    return report


@contextlib.contextmanager
def _piper_on_every_core(models_dir: Path, logs: Path) -> Iterator[TtsClient]:
    """A second TTS service for the sequential pipeline, piper on every core (TTS_THREADS=0), warmed up."""
    service = tts_service(models_dir, logs / "tts-every-core.log", threads=0)
    try:
        tts = TtsClient(service.base_url)
        tts.speak_wav("Warming up.")
        yield tts
    finally:
        service.stop()


def _own_answer(billy, microphone: FileMicrophone, pcm: Pcm, question: str) -> dict:
    """One of Billy's own answers, through the streaming pipeline as he runs."""
    billy.pipeline.conversation.forget()
    microphone.speech_ended_at = None
    microphone.queue(pcm)
    utterance = billy.listener.listen(LISTEN_TIMEOUT_S, None, billy.pipeline.draft, prefill=billy.pipeline.prefill)
    result = billy.pipeline.turn(utterance.pcm, threading.Event(), utterance.draft)
    spoke_until = microphone.speech_ended_at
    if result.answered_by != "billy" or result.first_sound_at is None or spoke_until is None:
        raise RuntimeError(f"{question!r} was not answered by Billy himself: heard {result.heard!r}")
    return {
        "first_sound_s": result.first_sound_at - spoke_until,
        "first_sound_after_handover_s": result.first_sound_at - utterance.handed_over_at,
        "end_of_turn_wait_s": utterance.handed_over_at - spoke_until,
    }


def _whole_reply(events) -> str:
    """The reply's text as the streaming pipeline would say it: past its budget, up to the end of its sentence."""
    text, overtime = "", False
    for event in events:
        if isinstance(event, Overtime):
            overtime = True
        elif isinstance(event, TextDelta):
            text += event.text
            if overtime and ends_sentence(text.strip()):
                break
    return text.strip()


def _spoken(tts: TtsClient, text: str) -> Pcm:
    return read_wav(tts.speak_wav(text)).resampled(16000)


def paused_question(tts: TtsClient, before: str, after: str, pause_s: float = PAUSE_SECONDS) -> Pcm:
    """`before`, a silence of `pause_s`, then `after`, in Billy's voice: a speaker stopping to think."""
    first, second = _spoken(tts, before), _spoken(tts, after)
    gap = np.zeros(int(pause_s * 16000), np.int16)
    return Pcm(np.concatenate([first.samples, gap, second.samples]), 16000)


def _early_cut_check(listener: Listener, speculate, microphone: FileMicrophone, questions: dict[str, Pcm]) -> dict:
    cut, waits = [], []
    for text, question in questions.items():
        microphone.speech_ended_at = None
        microphone.queue(question)
        utterance = listener.listen(LISTEN_TIMEOUT_S, None, speculate)
        if utterance.draft is not None:
            utterance.draft.cancel()
        if microphone.speech_ended_at is None:  # handed over before the last word had been spoken
            # Which question, and the words the judge had then: they tell a misheard pause from a wrong verdict.
            heard = utterance.draft.transcript() if utterance.draft is not None else None
            cut.append({"question": text, "draft_heard": heard})
            while not microphone.idle:
                microphone.read(512)
        else:
            waits.append(utterance.handed_over_at - microphone.speech_ended_at)
    return {
        "questions": len(questions),
        "pause_s": PAUSE_SECONDS,
        "cut_early": len(cut),
        "cut": cut,
        "mean_wait_s": round(statistics.mean(waits), 3) if waits else None,
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _summary(runs: list[dict]) -> dict:
    return {key: _median([run[key] for run in runs]) for key in runs[0]}


def _report(samples: dict, llm_model: str, runs: int, judge: str) -> dict:
    questions = []
    for question, modes in samples.items():
        row = {"question": question, **{mode: _summary(values) for mode, values in modes.items()}}
        row["ratio_first_sound"] = round(row["streaming"]["first_sound_s"] / row["sequential"]["first_sound_s"], 3)
        questions.append(row)
    overall = {
        mode: _summary([run for modes in samples.values() for run in modes[mode]])
        for mode in ("streaming", "sequential")
    }
    streaming, sequential = overall["streaming"], overall["sequential"]
    return {
        "models": {"stt": defaults.STT_MODEL, "llm": llm_model, "tts": defaults.VOICE, "end_of_turn": judge},
        "runs_per_question": runs,
        "clock_starts": "the question's last voiced sample",
        "questions": questions,
        "overall": overall,
        "first_sound_after_speech_end_s": streaming["first_sound_s"],
        "ratio_first_sound": round(streaming["first_sound_s"] / sequential["first_sound_s"], 3),
        # The same ratio from each listener's hand-over: the figure the streaming work was first measured by.
        "ratio_first_sound_after_handover": round(
            streaming["first_sound_after_handover_s"] / sequential["first_sound_after_handover_s"], 3
        ),
        "ratio_last_sound": round(streaming["last_sound_s"] / sequential["last_sound_s"], 3),
    }


def _print_table(report: dict) -> None:
    print(
        f"models: {report['models']}, piper's threads: {report['piper_threads']}, "
        f"median of {report['runs_per_question']} runs; "
        "seconds after the question's last voiced sample (after the listener's hand-over in brackets)"
    )
    print(
        f"{'question':<36} {'first: stream':>20} {'sequential':>17} {'ratio':>6}   "
        f"{'last: stream':>12} {'sequential':>11}"
    )
    rows = [
        *report["questions"],
        {"question": "all questions", **report["overall"], "ratio_first_sound": report["ratio_first_sound"]},
    ]
    for row in rows:
        s, q = row["streaming"], row["sequential"]
        print(
            f"{row['question']:<36} {s['first_sound_s']:>12.2f} ({s['first_sound_after_handover_s']:.2f}) "
            f"{q['first_sound_s']:>9.2f} ({q['first_sound_after_handover_s']:.2f}) {row['ratio_first_sound']:>6.2f}   "
            f"{s['last_sound_s']:>12.2f} {q['last_sound_s']:>11.2f}"
        )
    for row in report["own_answers"]["questions"]:
        print(
            f"{row['question']:<36} {row['first_sound_s']:>12.2f} ({row['first_sound_after_handover_s']:.2f})"
            "   Billy's own answer, no model"
        )
    for mode, marks in report["milestones_s"].items():
        milestones = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in marks.items() if seconds is not None)
        print(f"{mode}, median milestones after the end of speech: {milestones}")
    s, q = report["overall"]["streaming"], report["overall"]["sequential"]
    print(
        f"end-of-turn wait (hand-over after the end of speech): streaming {s['end_of_turn_wait_s']:.2f} s, "
        f"sequential {q['end_of_turn_wait_s']:.2f} s"
    )
    for mode, cut in report["early_cut"].items():
        print(
            f"{mode}: questions with a {cut['pause_s']:.1f} s pause mid-sentence cut early {cut['cut_early']} of "
            f"{cut['questions']}; mean wait after the end of the question {cut['mean_wait_s']} s"
        )
        if mode == "streaming":  # the fixed silence cuts them all; Billy's judge should cut none
            for early in cut["cut"]:
                print(f"  cut early: {early['question']!r}, judged on the words {early['draft_heard']!r}")
