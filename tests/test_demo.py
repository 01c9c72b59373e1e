"""`make demo`, the README's first command: questions voiced by espeak-ng to a whole Billy and his own services,
a timer that rings between them and is answered with a word, and what an owner reads afterwards."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from billy.devtools.demo import run_demo
from billy.devtools.stack import GGUF_MODEL

pytestmark = pytest.mark.services  # it starts its own speech services and language model


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_two_questions_and_a_timer_that_rings_between_them(models_dir: Path, tmp_path: Path) -> None:
    # The fast brain: this test is about the conversation's course; the default brain is chosen by memory.
    results = run_demo(tmp_path, models_dir, "Set a timer for three seconds.|What time is it?", "en", GGUF_MODEL)

    assert [result["answered_by"] for result in results] == ["billy", "billy"], results
    assert "timer" in results[0]["said"].lower()
    for number in ("1", "2"):
        folder = tmp_path / number
        latency = json.loads((folder / "latency.json").read_text())
        assert latency["first_sound_s"] is not None and latency["first_sound_s"] > 0
        assert (folder / "reply.txt").read_text().strip() == latency["said"]
        assert _seconds(folder / "reply.wav") > 0.5
    # The ring is its own recording, answered by "Stop." and not part of either reply; the timer is done with.
    assert _seconds(tmp_path / "ring.wav") > 0.5
    assert not (tmp_path / "ring-2.wav").exists()
    timers = json.loads((tmp_path / "state" / "timers.json").read_text())
    assert timers == [], timers
