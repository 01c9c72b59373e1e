"""`billy demo`: one spoken question to a whole Billy on this machine, and what came out of it.

The services run as their own processes (see `stack.py`); Billy himself runs here with a file-backed sound
card and gpiozero's MockFactory. The results land in one folder: transcript.txt, reply.txt, reply.wav,
motion.csv (time, motor, value; time 0 is the question's last voiced sample), motion.png and latency.json
(Billy's first sound after that moment, and after the listener's hand-over).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import time
from pathlib import Path

from billy.appliance.turn import Turn
from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker, PlayedBlock
from billy.audio.pcm import loudness
from billy.body.fish import make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.devtools.stack import Stack, local_stack
from billy.media.sounds import render_clips
from billy.models import defaults
from billy.services.tts.client import TtsClient
from billy.settings.read import load_settings

DEFAULT_QUESTION = "Hello Billy! What do you like to do all day?"
LOG = logging.getLogger(__name__)


def run_demo(out_dir: Path, models_dir: Path, question_wav: Path | None, question_text: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    with local_stack(models_dir, out_dir / "logs") as stack:
        return _converse(stack, out_dir, question_wav, question_text)


def _converse(stack: Stack, out_dir: Path, question_wav: Path | None, question_text: str) -> dict:
    state_dir = out_dir / "state"
    render_clips(stack.models_dir, defaults.VOICE, state_dir / "sounds")
    # The environment wins (MQTT_*, a persona, another fish), except where Billy must meet the demo's services.
    env = {"MIC_TIMEOUT_SECONDS": "2", "LLM_MAX_TOKENS": "60", **os.environ}
    env.update({**stack.environment(), "BILLY_STATE_DIR": str(state_dir)})
    settings = load_settings(env)
    microphone, speaker, timeline = FileMicrophone(), FileSpeaker(), MotionTimeline()
    pin_factory = make_pin_factory("mock")
    billy = start_billy(settings, microphone, speaker, pin_factory, timeline)
    turns: queue.Queue[Turn] = queue.Queue()
    billy.turn_observers.append(turns.put)
    try:
        question = question_wav.read_bytes() if question_wav else TtsClient(stack.tts.base_url).speak_wav(question_text)
        microphone.queue(question)
        pin_factory.pin(settings.button_pin).drive_low()  # press the fish's button
        pin_factory.pin(settings.button_pin).drive_high()
        turn = _wait_for_turn(billy, turns)
        while not (billy.idle and billy.state == "idle"):
            time.sleep(0.1)
    finally:
        billy.close()
    return _write_results(out_dir, turn, speaker, timeline, stack, microphone.speech_ended_at or turn.speech_ended_at)


def _wait_for_turn(billy, turns: queue.Queue, timeout: float = 300) -> Turn:
    try:
        return turns.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"Billy did not answer within {timeout:.0f} s (state {billy.state})") from None


def _write_results(
    out_dir: Path, turn: Turn, speaker: FileSpeaker, timeline: MotionTimeline, stack: Stack, origin: float
) -> dict:
    """`origin`: the question's last voiced sample, when the person asking starts to wait."""
    reply_blocks = [block for block in speaker.played_since() if block.started >= origin]
    mark = len(speaker.played_since()) - len(reply_blocks)
    reply_wav = speaker.wav_since(mark)
    (out_dir / "transcript.txt").write_text(turn.result.heard + "\n")
    (out_dir / "reply.txt").write_text(turn.result.said + "\n")
    (out_dir / "reply.wav").write_bytes(reply_wav)
    timeline.write_csv(out_dir / "motion.csv", origin)
    result, handed_over = turn.result, turn.utterance.handed_over_at
    latency = {
        "first_sound_s": _since(result.first_sound_at, origin),
        "first_sound_after_handover_s": _since(result.first_sound_at, handed_over),
        "end_of_turn_wait_s": _since(handed_over, origin),
        "milestones_s": {name: _since(at, origin) for name, at in result.marks.items()},
        "last_sound_s": _since(result.last_sound_at, origin),
        "error": turn.result.failed_stage or None,
        "llm": {"url": stack.llm_url, "model": stack.llm_model},
        "stt_model": defaults.STT_MODEL,
        "voice": defaults.VOICE,
    }
    (out_dir / "latency.json").write_text(json.dumps(latency, indent=2) + "\n")
    plot_motion(out_dir / "motion.png", reply_blocks, timeline, origin)
    return latency


def _since(at: float | None, origin: float) -> float | None:
    return None if at is None else round(at - origin, 3)


def plot_motion(path: Path, blocks: list[PlayedBlock], timeline: MotionTimeline, origin: float) -> None:
    """The reply's loudness block by block, with the mouth, head and tail over the same time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max([b.started + len(b.samples) / b.rate - origin for b in blocks] + [1.0])
    figure, axes = plt.subplots(4, 1, sharex=True, figsize=(10, 6))
    axes[0].bar(
        [b.started - origin for b in blocks],
        [loudness(b.samples) for b in blocks],
        width=[len(b.samples) / b.rate for b in blocks],
        align="edge",
        color="tab:blue",
    )
    axes[0].set_ylabel("loudness")
    moves = timeline.moves(origin)
    for axis, part, colour in zip(
        axes[1:], ("mouth", "head", "tail"), ("tab:red", "tab:green", "tab:orange"), strict=True
    ):
        points = [(m.t - origin, m.value) for m in moves if m.part == part]
        xs = [0.0] + [t for t, _ in points] + [end]
        ys = [0.0] + [v for _, v in points] + [points[-1][1] if points else 0.0]
        axis.step(xs, ys, where="post", color=colour)
        axis.set_ylabel(part)
        axis.set_ylim(-0.05, 1.05)
    axes[-1].set_xlabel("seconds after the end of the question")
    figure.suptitle("Billy's reply: loudness and motors")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
