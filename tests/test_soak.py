"""Soak: turn after turn through `billy run --audio file` (the appliance's own loop and wiring) with fresh real
STT and TTS services and the scripted LLM, sampling each process's resident memory after every turn.

`make soak` runs SOAK_TURNS=500 and writes the figures to out/soak.json; `make test` runs a few turns, which
prove the spool answers every question and nothing dies, not the memory goal (that needs the long run).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from waiting import wait_until

from billy.devtools.stack import ServiceProcess

from standins import Reply
from text_match import words

TURNS = int(os.environ.get("SOAK_TURNS", "3"))
OUT = os.environ.get("SOAK_OUT", "")
# The memory goal is judged after this many turns (imports, model arenas and caches settle first).
WARM_UP_TURNS = max(1, TURNS // 10)
MAX_GROWTH = 0.05
UNITS = Path(__file__).parent.parent / "roles" / "billy_app" / "templates"
QUESTIONS = ("What do you like to eat?", "Where do you live?", "How old are you?")
ANSWER = "I am Billy the fish."


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def unit_environment() -> dict[str, str]:
    """The Environment= lines Billy's long-running units include: the soak runs each process as systemd does."""
    settings = {}
    for line in (UNITS / "long-running.j2").read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            settings[name] = value
    return settings


def test_soak_every_question_answered_and_memory_flat(models_dir, sounds_dir, speak, llm, tmp_path, monkeypatch):
    llm.default = Reply(ANSWER, word_delay=0.0)
    for name, value in unit_environment().items():
        monkeypatch.setenv(name, value)  # the services copy this process's environment
    assert os.environ.get("MALLOC_ARENA_MAX") == "2"
    stt = ServiceProcess.billy(["stt-server", "--model-dir", str(models_dir / "tiny.en")], tmp_path / "stt.log")
    tts = ServiceProcess.billy(["tts-server", "--voice-dir", str(models_dir)], tmp_path / "tts.log")
    state, spool, log = tmp_path / "state", tmp_path / "spool", tmp_path / "billy.log"
    shutil.copytree(sounds_dir, state / "sounds")
    env = {
        **os.environ,
        "BILLY_STATE_DIR": str(state),
        "STT_BASE_URL": stt.base_url,
        "TTS_BASE_URL": tts.base_url,
        "LLM_BASE_URL": llm.base_url,
        "LOCAL_LLM_MODEL": llm.model,
        "MIC_TIMEOUT_SECONDS": "0.5",
        "MQTT_HOST": "",
    }
    spoken = {question: speak(question) for question in QUESTIONS}
    with log.open("w") as log_file:
        billy = subprocess.Popen(
            [sys.executable, "-m", "billy", "run", "--audio", "file", "--gpio", "mock", "--audio-dir", str(spool)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    processes = {"billy run": billy.pid, "stt-server": stt.process.pid, "tts-server": tts.process.pid}
    samples: dict[str, list[int]] = {name: [] for name in processes}
    replies = spool / "outbox"
    started = time.monotonic()
    try:
        wait_until(lambda: "every service answers" in log.read_text(), "billy run to start", 180, billy, log)
        for turn in range(TURNS):
            question = QUESTIONS[turn % len(QUESTIONS)]
            incoming = spool / "inbox" / f"{turn:05d}.part"
            incoming.write_bytes(spoken[question])
            incoming.rename(incoming.with_suffix(".wav"))  # whole files only: Billy takes *.wav
            wait_until(lambda: any(replies.glob("*.json")), f"the reply to turn {turn}", 180, billy, log)
            (reply_path,) = replies.glob("*.json")  # one question, one reply
            reply = json.loads(reply_path.read_text())
            assert words(reply["heard"]) == words(question) and reply["said"] == ANSWER, (turn, reply)
            for path in replies.iterdir():  # the outbox is the user's to empty: empty it as a user would
                path.unlink()
            for name, pid in processes.items():
                samples[name].append(rss_kib(pid))
            if turn % 10 == 9:
                _report(samples, time.monotonic() - started)
    finally:
        billy.send_signal(signal.SIGTERM)
        exit_code = billy.wait(60)
        stt.stop()
        tts.stop()
    assert exit_code == 0, log.read_text()[-3000:]
    report = _report(samples, time.monotonic() - started)
    print(json.dumps(report, indent=2))
    if TURNS >= 100:
        for name, figures in report["rss_kib"].items():
            assert figures["growth_after_warm_up"] < MAX_GROWTH, (name, figures)


def _report(samples: dict[str, list[int]], seconds: float) -> dict:
    """The figures so far; written to SOAK_OUT as the soak goes, so a long run shows where it stands."""
    done = len(next(iter(samples.values())))
    warm = min(WARM_UP_TURNS, done)
    report = {
        "turns": done,
        "of_turns": TURNS,
        "seconds": round(seconds, 1),
        "warm_up_turns": WARM_UP_TURNS,
        "rss_kib": {name: _growth(values, warm) for name, values in samples.items()},
    }
    if OUT:
        Path(OUT).parent.mkdir(parents=True, exist_ok=True)
        Path(OUT).write_text(json.dumps({**report, "samples_kib": samples}, indent=2) + "\n")
    return report


def _growth(values: list[int], warm: int) -> dict:
    """A sample is taken as the reply appears, before Billy hands the turn's freed memory back (once the session
    is over), so one sample is a few MB up or down: the growth compares the median of the `warm` turns right
    after warm-up with the median of the last `warm` turns."""
    settled, recent = values[warm : 2 * warm] or values[-1:], values[-warm:]
    return {
        "first": values[0],
        "after_warm_up": values[warm - 1],
        "last": values[-1],
        "max": max(values),
        "median_after_warm_up": statistics.median(settled),
        "median_last": statistics.median(recent),
        "growth_after_warm_up": round(statistics.median(recent) / statistics.median(settled) - 1, 4),
    }
