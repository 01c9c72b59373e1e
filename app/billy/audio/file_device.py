"""A sound card made of files, for tests, the demo and hardware-less hosts.

The microphone plays queued WAVs (then silence) in real time; the speaker keeps everything it is given, with
the moment each block started, and takes as long to "play" a block as a sound card would. The spool variant
(`BILLY_AUDIO=file`) reads questions from `inbox/*.wav` and writes each reply to `outbox/`.

Like a real card, the speaker may have an output latency (its `write` returns that long before the block is
heard), and in loopback the microphone hears what the speaker plays, when it plays, as a fish's own
microphone does: the setting in which Billy must not take his own voice for a question.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from billy.audio.devices import MIC_RATE
from billy.audio.pcm import Pcm, read_wav, resample, wav_bytes

SPEECH_LEVEL = 300  # PCM16 amplitude above which a sample counts as sound, not silence
CAPTURE_BUFFER_S = 0.5  # what the microphone keeps for a late reader, as ALSA's capture buffer does


class RealTimeClock:
    """Makes a stream of blocks take as long as the audio they carry.

    `buffer_s`: how far a late reader may fall behind and catch up, as a card's capture buffer holds what was
    recorded while nobody read. Without it, every late read would lose time, and a loopback echo (which keeps
    every sample) would drift behind the voices in the room, a second or more on a busy machine."""

    def __init__(self, buffer_s: float = 0.0) -> None:
        self._due = 0.0
        self.buffer_s = buffer_s

    def reserve(self, seconds: float) -> float:
        """The moment the next block starts (from now on, or where the last one ended if the buffer still holds
        it); the block is done at `done`."""
        now = time.monotonic()
        start = self._due if self._due >= now - self.buffer_s else now  # longer late: an overrun, time lost
        self._due = start + seconds
        return start

    @property
    def done(self) -> float:
        return self._due

    def wait(self, seconds: float) -> float:
        """Sleep until the block has played (or been heard) in full; return when it started."""
        start = self.reserve(seconds)
        time.sleep(max(0.0, self._due - time.monotonic()))
        return start


@dataclass
class _Queued:
    audio: np.ndarray
    speech_end: int  # index just after the last loud sample
    position: int = 0


class FileMicrophone:
    rate = MIC_RATE

    def __init__(self) -> None:
        self._queue: deque[_Queued] = deque()
        self._echo: deque[tuple[float, np.ndarray]] = deque()  # (when it is heard, 16 kHz samples), loopback
        self._heard = np.zeros(0, dtype=np.int16)  # echo already in the air, not read yet
        self._heard_at = 0.0  # when the first sample of `_heard` sounds
        self._lock = threading.Lock()
        self._clock = RealTimeClock(CAPTURE_BUFFER_S)
        self.speech_ended_at: float | None = None

    def hear(self, samples: np.ndarray, rate: int, at: float) -> None:
        """Sound in the room from `at` on (the loopback speaker's output), mixed into what is read."""
        with self._lock:
            self._echo.append((at, resample(samples, rate, MIC_RATE)))

    def _collect_echo(self, until: float) -> None:
        """Echo in the air by `until`, each sample at its own moment (a pause between clips stays a pause)."""
        while self._echo and self._echo[0][0] <= until:
            at, samples = self._echo.popleft()
            if not len(self._heard):
                self._heard_at = at
            gap = round((at - self._heard_at) * MIC_RATE) - len(self._heard)
            if gap > 0:
                samples = np.concatenate([np.zeros(gap, np.int16), samples])
            self._heard = np.concatenate([self._heard, samples])

    def _echo_for(self, start: float, samples: int) -> np.ndarray:
        """The echo heard during the block from `start`: earlier echo is gone (an overrun lost it)."""
        block = np.zeros(samples, np.int16)
        offset = round((self._heard_at - start) * MIC_RATE)
        if offset < 0:
            self._heard = self._heard[-offset:]
            offset = 0
        take = max(0, min(samples - offset, len(self._heard)))
        block[offset : offset + take] = self._heard[:take]
        self._heard = self._heard[take:]
        self._heard_at = start + (offset + take) / MIC_RATE
        return block

    def flush(self) -> None:
        """Forget what the room has sounded like so far, as a sound card's input buffer is drained."""
        with self._lock:
            self._collect_echo(time.monotonic())
            self._heard = np.zeros(0, dtype=np.int16)

    def queue(self, wav: bytes | Pcm) -> None:
        """Speak this into the microphone after anything already queued."""
        pcm = wav if isinstance(wav, Pcm) else read_wav(wav)
        samples = resample(pcm.samples, pcm.rate, MIC_RATE)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > SPEECH_LEVEL)
        with self._lock:
            self._queue.append(_Queued(samples, int(loud[-1]) + 1 if len(loud) else 0))

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._queue

    def unread_seconds(self) -> float:
        """A reader behind the clock (within the capture buffer) gets old sound until it catches up."""
        return max(0.0, time.monotonic() - self._clock.done)

    def read(self, samples: int) -> np.ndarray:
        start = self._clock.wait(samples / self.rate)
        filled, speech_end = 0, None  # where in this block the last voiced sample of a question ends
        with self._lock:
            self._collect_echo(start + samples / self.rate)
            block = self._echo_for(start, samples)
            while filled < samples and self._queue:
                item = self._queue[0]
                take = min(samples - filled, len(item.audio) - item.position)
                mixed = (
                    block[filled : filled + take].astype(np.int32) + item.audio[item.position : item.position + take]
                )
                block[filled : filled + take] = np.clip(mixed, -32768, 32767)
                if item.position < item.speech_end <= item.position + take:
                    speech_end = filled + item.speech_end - item.position
                item.position += take
                filled += take
                if item.position >= len(item.audio):
                    self._queue.popleft()
        if speech_end is not None:
            self.speech_ended_at = start + speech_end / self.rate
        return block

    def close(self) -> None:
        pass


@dataclass
class PlayedBlock:
    started: float
    samples: np.ndarray
    rate: int

    @property
    def loud(self) -> bool:
        return bool(len(self.samples)) and int(np.abs(self.samples.astype(np.int32)).max()) > SPEECH_LEVEL


class FileSpeaker:
    """Keeps what it played, for the tests and the demo; `forget_before` lets a long-running user drop it."""

    def __init__(self, realtime: bool = True, latency: float = 0.0, loopback: FileMicrophone | None = None) -> None:
        self._blocks: list[PlayedBlock] = []
        self._forgotten = 0  # blocks dropped from the front: marks count every block ever played
        self.latency = latency  # seconds from `write` returning to the block being heard, as a card's buffer
        self.loopback = loopback
        self._clock = RealTimeClock()
        self._realtime = realtime
        self._lock = threading.Lock()

    def write(self, samples: np.ndarray, rate: int) -> None:
        seconds = len(samples) / rate
        # Returns as a sound card does: once the block is in its buffer, `latency` before it is heard.
        started = (self._clock.reserve(seconds) if self._realtime else time.monotonic()) + self.latency
        with self._lock:
            self._blocks.append(PlayedBlock(started, samples.copy(), rate))
        if self.loopback is not None:  # in the room from `started` on, before this call returns
            self.loopback.hear(samples, rate, started)
        if self._realtime:
            time.sleep(max(0.0, self._clock.done - time.monotonic()))

    def mark(self) -> int:
        with self._lock:
            return self._forgotten + len(self._blocks)

    def played_since(self, mark: int = 0, until: int | None = None) -> list[PlayedBlock]:
        """The blocks from `mark` on, up to (not including) the mark `until`."""
        with self._lock:
            end = None if until is None else max(0, until - self._forgotten)
            return list(self._blocks[max(0, mark - self._forgotten) : end])

    def end_clip(self) -> None:
        pass  # blocks are kept at their own rate: no resampler state to end

    def forget_before(self, mark: int) -> None:
        with self._lock:
            drop = max(0, min(mark - self._forgotten, len(self._blocks)))
            del self._blocks[:drop]
            self._forgotten += drop

    def first_sound_since(self, mark: int = 0) -> float | None:
        return next((block.started for block in self.played_since(mark) if block.loud), None)

    def last_sound_since(self, mark: int = 0) -> float | None:
        loud = [block for block in self.played_since(mark) if block.loud]
        return loud[-1].started + len(loud[-1].samples) / loud[-1].rate if loud else None

    def wav_since(self, mark: int = 0, rate: int = 22050, gaps: bool = True, until: int | None = None) -> bytes:
        """What a microphone by the speaker would have recorded: the blocks, with the silences between them.
        `gaps=False` joins the blocks as they were given: what was said, whatever delays a busy machine added."""
        parts, previous_end = [], None
        for block in self.played_since(mark, until):
            if gaps and previous_end is not None and block.started - previous_end > 0.005:
                parts.append(np.zeros(int((block.started - previous_end) * rate), np.int16))
            parts.append(resample(block.samples, block.rate, rate))
            previous_end = block.started + len(block.samples) / block.rate
        return wav_bytes(np.concatenate(parts) if parts else np.zeros(0, np.int16), rate)

    def close(self) -> None:
        pass


class SpoolAudio:
    """`BILLY_AUDIO=file`: questions from `DIR/inbox/*.wav`, replies to `DIR/outbox/<stamp>.wav` + `.json`."""

    def __init__(self, directory: Path) -> None:
        self.inbox = directory / "inbox"
        self.outbox = directory / "outbox"
        for folder in (self.inbox, self.outbox):
            folder.mkdir(parents=True, exist_ok=True)
        self.microphone = FileMicrophone()
        self.speaker = FileSpeaker()
        self._mark = 0

    def take_question(self) -> Path | None:
        """Queue the oldest WAV of the inbox into the microphone; it is removed once read."""
        for path in sorted(self.inbox.glob("*.wav")):
            self._mark = self.speaker.mark()
            self.speaker.forget_before(self._mark)  # played before this question: no reply will hold it
            try:
                self.microphone.queue(path.read_bytes())
            finally:
                path.unlink(missing_ok=True)
            return path
        return None

    def write_reply(self, heard: str, said: str) -> Path:
        """Everything played since the last question or reply (the wake-up clip too), and the words."""
        mark, self._mark = self._mark, self.speaker.mark()
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{mark}"
        wav = self.outbox / f"{stamp}.wav"
        _write_whole(wav, self.speaker.wav_since(mark))
        self.speaker.forget_before(self._mark)  # written out: the spool runs for months and keeps none of it
        # The .json comes last and whole: once a reader sees it, the reply's .wav is complete too.
        _write_whole(self.outbox / f"{stamp}.json", json.dumps({"heard": heard, "said": said}).encode())
        return wav


def _write_whole(path: Path, data: bytes) -> None:
    """Readers of the outbox see a file complete or not at all."""
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
