"""`billy demo`: spoken questions to a whole Billy on this machine, and what came out of them.

The services run as their own processes (see `stack.py`); Billy himself runs here with a file-backed sound
card and gpiozero's MockFactory. A question is the default one (piper's voice), a WAV of your own, or words
voiced by espeak-ng (another voice than Billy's, as a person is); `|` between questions asks each in a
conversation of its own, and Billy's state (people, memories, timers) stays in `out/demo/state` from one run to
the next, as on a fish. A timer that ends within TIMER_WAIT_S is waited for, and its ring stopped with a word.

The results land in one folder per question (the folder itself for one): transcript.txt, reply.txt, reply.wav,
motion.csv (time, motor, value; time 0 is the question's last voiced sample), motion.png and latency.json
(Billy's first sound after that moment, and after the listener's hand-over); a timer's ring in ring.wav.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import time
from dataclasses import dataclass
from pathlib import Path

from billy.appliance.billy import Billy
from billy.appliance.turn import Turn
from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker, PlayedBlock
from billy.audio.pcm import loudness
from billy.body.fish import make_pin_factory
from billy.body.timeline import MotionTimeline
from billy.devtools.demo_song import NAME as SONG_NAME
from billy.devtools.demo_song import write_demo_song
from billy.devtools.stack import Stack, local_stack
from billy.devtools.synthetic_voices import espeak, relabelled_voice
from billy.media.sounds import render_clips
from billy.models import defaults
from billy.models.catalogue import load_catalogue
from billy.services.tts.client import TtsClient
from billy.settings.read import load_settings

DEFAULT_QUESTION = "Hello Billy! What do you like to do all day?"
# Who asks, in each language Billy speaks: espeak-ng's voice, words per minute and pitch (those whisper makes
# out best: of ten everyday questions whisper tiny.en got 6 right in en-us+m3 at 150 wpm, 5 in +m1 and +f2;
# +m1 turned "What is the capital of France?" into "What is the capital and friends?").
ESPEAK_VOICES = {"en": ("en-us+m3", 150, 50), "de": ("de+m3", 140, 40), "fr": ("fr", 150, 50), "nl": ("nl", 150, 50)}
STOP = {"en": "Stop.", "de": "Stopp.", "fr": "Arrête.", "nl": "Stop."}  # any word ends a ring: these, here
TIMER_WAIT_S = 300  # a timer ending sooner than this is waited for, so its ring is part of the demo
LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    words: str  # "" for a WAV of the owner's
    wav: bytes


def questions_from(asked: str, language: str) -> list[Question] | None:
    """`asked`: "" (None: the default question, in Billy's own voice), a WAV's path, or words ("|" between
    questions) to be voiced by espeak-ng in `language`."""
    if not asked:
        return None
    if asked.lower().endswith(".wav") and Path(asked).is_file():
        return [Question("", Path(asked).read_bytes())]
    return [Question(words.strip(), _voiced(words.strip(), language)) for words in asked.split("|") if words.strip()]


def _voiced(words: str, language: str) -> bytes:
    voice, speed, pitch = ESPEAK_VOICES.get(language, (language, 150, 50))
    return espeak(words, voice, speed, pitch)


def run_demo(
    out_dir: Path, models_dir: Path, asked: str = "", language: str = "en", brain: str | None = None
) -> list[dict]:
    """`brain`: a catalogue brain; None: the best this machine's memory holds (models/brains.py)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    questions = questions_from(asked, language)
    voice_dir = _voices(models_dir, out_dir / "voices", language)
    stack_of = local_stack(models_dir, out_dir / "logs", language=language, voice_dir=voice_dir, brain=brain)
    with stack_of as stack:
        if questions is None:
            questions = [Question(DEFAULT_QUESTION, TtsClient(stack.tts.base_url).speak_wav(DEFAULT_QUESTION))]
        results = _converse(stack, out_dir, questions, language)
        memory = {"brain": stack.llm_model, "peak_memory_mib": stack.peak_memory_mib()}
    (out_dir / "memory.json").write_text(json.dumps(memory, indent=2) + "\n")
    for result in results:
        result["brain"] = memory["brain"]
    return results


def _voices(models_dir: Path, folder: Path, language: str) -> Path | None:
    """Billy's voice, and one of `language` if it is not English: the catalogue's, if it is in `models_dir`
    (fetched there by the owner), else the default voice relabelled (no voice of it can be fetched offline)."""
    if language == "en":
        return None
    fetch_default = models_dir / defaults.VOICE
    for file in fetch_default.iterdir():
        if not (folder / file.name).exists():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / file.name).symlink_to(file.resolve())
    theirs = [name for name in load_catalogue() if name.startswith(f"{language}_")]
    owned = [name for name in theirs if (models_dir / name / f"{name}.onnx").is_file()]
    if owned:
        relabelled_voice(models_dir / owned[0] / f"{owned[0]}.onnx", folder, owned[0])
        LOG.info("Billy speaks %s with %s", language, owned[0])
    else:
        stand_in = f"{language}_{language.upper()}-demo-medium"
        relabelled_voice(fetch_default / f"{defaults.VOICE}.onnx", folder, stand_in)
        LOG.warning(
            "no %s voice in %s (%s fetches one when online): %s's model speaks it, under that language's label",
            language, models_dir, ", ".join(theirs) or "none in the catalogue", defaults.VOICE,
        )  # fmt: skip
    return folder


def _converse(stack: Stack, out_dir: Path, questions: list[Question], language: str) -> list[dict]:
    state_dir = out_dir / "state"
    render_clips(stack.models_dir, defaults.VOICE, state_dir / "sounds")
    tts = TtsClient(stack.tts.base_url)
    if not (state_dir / "songs" / SONG_NAME).is_dir():
        write_demo_song(state_dir / "songs" / SONG_NAME, tts.speak_wav)
    # The environment wins (MQTT_*, a persona, another fish), except where Billy must meet the demo's services.
    env = {"MIC_TIMEOUT_SECONDS": "2", "LLM_MAX_TOKENS": "60", "STT_LANGUAGE": language, **os.environ}
    env.update({**stack.environment(), "BILLY_STATE_DIR": str(state_dir)})
    settings = load_settings(env)
    microphone, speaker, timeline = FileMicrophone(), FileSpeaker(), MotionTimeline()
    pin_factory = make_pin_factory("mock")
    billy = start_billy(settings, microphone, speaker, pin_factory, timeline)
    turns: queue.Queue[Turn] = queue.Queue()
    billy.turn_observers.append(turns.put)
    rings = _RingWatch(billy, microphone, speaker, out_dir, language)
    results = []
    try:
        for number, question in enumerate(questions, 1):
            folder = out_dir if len(questions) == 1 else out_dir / str(number)
            folder.mkdir(parents=True, exist_ok=True)
            if billy.timers.ringing():  # a press now would only stop the ring: answer it first
                rings.stop_next()
            mark = speaker.mark()
            microphone.queue(question.wav)
            pin_factory.pin(settings.button_pin).drive_low()  # press the fish's button
            pin_factory.pin(settings.button_pin).drive_high()
            turn = _wait_for_turn(billy, turns)
            # Until Billy is done (the reply, a song after it, a follow-up he waited for), or a timer rings.
            _until(lambda: rings.started or (billy.idle and billy.state == "idle"), f"Billy (state {billy.state})")
            until = rings.started[0] if rings.started else None
            origin = microphone.speech_ended_at or turn.speech_ended_at
            results.append(_write_results(folder, turn, speaker, timeline, stack, origin, mark, until))
            if rings.started:
                rings.stop_next()
        rings.wait_for_soon_timers()
    finally:
        billy.close()
    return results


def _wait_for_turn(billy: Billy, turns: queue.Queue, timeout: float = 300) -> Turn:
    try:
        return turns.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"Billy did not answer within {timeout:.0f} s (state {billy.state})") from None


def _until(condition, what: str, timeout: float = 300) -> None:
    """Wait for `condition()`; a Billy that hangs ends the demo with what he did not do."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


class _RingWatch:
    """A timer set in the demo rings whenever it ends, between questions or after the last: each ring is
    answered with a word, as an owner would, and kept in ring.wav (ring-2.wav...)."""

    def __init__(self, billy: Billy, microphone: FileMicrophone, speaker: FileSpeaker, out: Path, language: str):
        self.billy, self.microphone, self.speaker, self.out, self.language = billy, microphone, speaker, out, language
        self.started: list[int] = []  # the speaker's mark where each ring not yet answered began
        self.answered = 0
        self._in_ring = False
        billy.state_observers.append(self._on_state)

    def _on_state(self, state: str) -> None:
        # A ring's first state change comes before its bell: that mark splits the reply from the ring. It
        # listens between rounds ("speaking" again after each), and the loop's "idle" ends it.
        if state == "speaking" and self.billy.work.playing == "ring" and not self._in_ring:
            self.started.append(self.speaker.mark())
        self._in_ring = self.billy.work.playing == "ring" and state != "idle"

    def stop_next(self) -> None:
        _until(lambda: self.started, "the timer's ring to start")
        mark = self.started.pop(0)
        self.microphone.queue(_voiced(STOP.get(self.language, "Stop."), self.language))
        _until(lambda: self.billy.idle and self.billy.state == "idle", f"the ring to stop (state {self.billy.state})")
        self.answered += 1
        path = self.out / ("ring.wav" if self.answered == 1 else f"ring-{self.answered}.wav")
        path.write_bytes(self.speaker.wav_since(mark))
        print(f"a timer rang, and was answered: {path}")

    def wait_for_soon_timers(self) -> None:
        """Timers set in the demo that end within TIMER_WAIT_S: wait for them to ring."""
        board = self.billy.timers
        while soon := [left for timer in board.timers() if (left := timer.left(board.clock())) < TIMER_WAIT_S]:
            print(f"waiting {min(soon):.0f} s for a timer to ring")
            _until(lambda: board.ringing(), "the timer to ring", min(soon) + 60)
            self.stop_next()
        while board.ringing():
            self.stop_next()


def _write_results(
    out_dir: Path,
    turn: Turn,
    speaker: FileSpeaker,
    timeline: MotionTimeline,
    stack: Stack,
    origin: float,
    mark: int,
    until: int | None,
) -> dict:
    """`origin`: the question's last voiced sample, when the person asking starts to wait; the reply is what
    was played from then on, since the speaker's `mark` and up to `until` (a timer's ring)."""
    asked = speaker.played_since(mark, until)
    start = mark + sum(1 for block in asked if block.started < origin)  # the wake-up clip, before the question
    reply_blocks = speaker.played_since(start, until)
    reply_wav = speaker.wav_since(start, until=until)
    (out_dir / "transcript.txt").write_text(turn.result.heard + "\n")
    (out_dir / "reply.txt").write_text(turn.result.said + "\n")
    (out_dir / "reply.wav").write_bytes(reply_wav)
    timeline.write_csv(out_dir / "motion.csv", origin)
    result, handed_over = turn.result, turn.utterance.handed_over_at
    latency = {
        "heard": result.heard,
        "said": result.said,
        "answered_by": result.answered_by,
        "first_motion_s": _since(result.first_motion_at, origin),  # the "I heard you" flap
        "first_sound_s": _since(result.first_sound_at, origin),
        "first_sound_after_handover_s": _since(result.first_sound_at, handed_over),
        "end_of_turn_wait_s": _since(handed_over, origin),
        "milestones_s": {name: _since(at, origin) for name, at in result.marks.items()},
        "last_sound_s": _since(result.last_sound_at, origin),
        "error": turn.result.failed_stage or None,
        "llm": {"url": stack.llm_url, "model": stack.llm_model},
        "stt_model": stack.stt_model,
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
