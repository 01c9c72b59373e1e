"""`make bench`, short: one question and one question with a pause, through both pipelines once, on the real
local stack (whisper, piper, llama.cpp with SmolLM2, Smart Turn). The figures are the long run's job; this
holds the order of the milestones and the early-cut check."""

from __future__ import annotations

import json

from billy.devtools.bench import MILESTONES, run_bench
from billy.devtools.stack import GGUF_MODEL


def test_a_short_bench_reports_both_pipelines_and_the_early_cuts(models_dir, tmp_path):
    out = tmp_path / "bench.json"
    summary = run_bench(
        out,
        models_dir,
        runs=1,
        questions=("What do you like to eat?",),
        # Not "What is the capital of ... France?": whisper tiny sometimes hears its "capital of" as "capital
        # look?", a whole question, and the test would judge whisper's ear. "I was wondering" is unfinished
        # however it is punctuated.
        paused_questions=(("I was wondering", "if fish can sleep at night."),),
        own_questions=("What time is it?",),
        brains=(GGUF_MODEL,),  # the bigger brains are the long run's: make bench
    )
    assert json.loads(out.read_text()) == json.loads(json.dumps(summary))
    report = summary["brains"][GGUF_MODEL]
    (row,) = summary["side_by_side"]
    # The body answers at the hand-over, before the first word: "I heard you".
    assert 0 < row["first_motion_s"] < row["first_sound_s"], row
    assert report["first_sound_after_speech_end_s"] > 0
    own = report["own_answers"]["questions"]
    assert [row["question"] for row in own] == ["What time is it?"] and own[0]["first_sound_s"] > 0
    for mode in ("streaming", "sequential"):
        milestones = report["milestones_s"][mode]
        in_order = [milestones[name] for name in MILESTONES[mode] if name != "handed_over"]
        assert in_order == sorted(in_order), milestones
    # The fixed 600 ms silence cuts a 1 s pause after "wondering"; Billy's listener waits for the rest.
    assert report["early_cut"]["sequential"]["cut_early"] == 1
    assert report["early_cut"]["streaming"]["cut_early"] == 0, report["early_cut"]["streaming"]["cut"]
    # The Realtime path against its stand-in: Billy's own delay from the first audio delta to the first sound.
    realtime = summary["realtime"]
    assert realtime["turns"] == 1 and 0 < realtime["median_ms"] <= realtime["max_ms"]
