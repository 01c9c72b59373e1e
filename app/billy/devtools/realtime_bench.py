"""`make bench`'s Realtime line: what Billy himself adds between the cloud's first audio delta and his first
sound, against the stand-in Realtime server (devtools/realtime_standin.py). A cloud's own latency is not
measured here and could not be: this only checks that nothing local (decoding, queueing, the player, the
motors) stands between the cloud's voice and the speaker."""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
from pathlib import Path

from billy.appliance.wiring import start_billy
from billy.audio.file_device import FileMicrophone, FileSpeaker
from billy.audio.pcm import Pcm, read_wav
from billy.body.fish import make_pin_factory
from billy.devtools.realtime_standin import RealtimeStandIn, Speak
from billy.devtools.stack import GGUF_MODEL, local_stack
from billy.media.sounds import render_clips
from billy.models import defaults
from billy.services.tts.client import TtsClient
from billy.settings.read import load_settings

KEY = "sk-bench"
ANSWER = "Worms, mostly. And the occasional fly, when I can catch one."
LISTEN_TIMEOUT_S = 30


def realtime_added_delay(models_dir: Path, logs: Path, runs: int, questions: tuple[str, ...]) -> dict:
    """Milliseconds from the first audio delta received to the first sample played, per turn."""
    delays_ms: list[float] = []
    with (
        tempfile.TemporaryDirectory() as state,
        local_stack(models_dir, logs, deterministic=True, brain=GGUF_MODEL) as stack,
    ):
        render_clips(models_dir, defaults.VOICE, Path(state) / "sounds")
        cloud = RealtimeStandIn(KEY, stack.stt.base_url, stack.tts.base_url).start()
        try:
            env = {**os.environ, **stack.environment(), "BILLY_STATE_DIR": state, "BRAIN": "realtime"}
            env |= {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": cloud.base_url}
            microphone = FileMicrophone()
            billy = start_billy(load_settings(env), microphone, FileSpeaker(), make_pin_factory("mock"))
            tts = TtsClient(stack.tts.base_url)
            spoken = {question: read_wav(tts.speak_wav(question)) for question in questions}
            for _ in range(runs):
                for question, pcm in spoken.items():
                    delays_ms.append(_one_turn(billy, microphone, cloud, pcm, question))
            billy.fish.close()
        finally:
            cloud.close()
    return {
        "what": "Billy's own delay from the stand-in's first audio delta to his first sound (not a cloud figure)",
        "turns": len(delays_ms),
        "median_ms": round(statistics.median(delays_ms), 1),
        "max_ms": round(max(delays_ms), 1),
    }


def _one_turn(billy, microphone: FileMicrophone, cloud: RealtimeStandIn, pcm: Pcm, question: str) -> float:
    pipeline = billy.pipeline
    pipeline.conversation.forget()
    cloud.then(Speak(ANSWER))
    microphone.queue(pcm)
    utterance = billy.listener.listen(LISTEN_TIMEOUT_S, None, pipeline.draft, pipeline.stream_turn)
    result = pipeline.turn(utterance.pcm, threading.Event(), utterance.draft)
    if result.answered_by != "realtime" or result.first_sound_at is None or "first_audio" not in result.marks:
        raise RuntimeError(f"the Realtime turn of {question!r} failed ({result.failed_stage or 'silent'})")
    return (result.first_sound_at - result.marks["first_audio"]) * 1000


def print_realtime(report: dict) -> None:
    print(
        f"\nRealtime voice against its stand-in, {report['turns']} turns: Billy adds a median "
        f"{report['median_ms']:.1f} ms (max {report['max_ms']:.1f} ms) between the first audio delta and his "
        "first sound"
    )
