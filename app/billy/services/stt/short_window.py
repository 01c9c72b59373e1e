"""Transcribing a short question with a window just longer than it, not whisper's whole 30 s.

faster-whisper pads every clip to whisper's 30 s window, so a 2 s question costs the encoder as much as 30 s of
speech: 0.45 s of the 0.5 s a transcription took here (tiny.en, 2 threads), the largest step between the end of
the question and Billy's first sound. CTranslate2's encoder takes any number of frames up to 3000, and the
attention in it grows with the square of that number, so encoding the speech and `MARGIN_S` of silence after it
costs a fraction: questions of 1.0 to 4.6 s took 0.15 s on average instead of 0.44 s, at the same word error
rate (8.8 % against 8.1 % in one run, 9.0 % against 9.0 % in another: 64 questions in piper's voice and three
espeak voices).

The silence after the speech is what tells whisper the speech is over: with 3 s of it tiny.en often started the
question again ("What is your name? What is your"), with 10 s it did so far less. When a result still looks
wrong (it loops, never ends, is unsure of its words, or may not be speech at all), `None` sends the clip to the
full window, which has faster-whisper's own fallbacks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

LOG = logging.getLogger(__name__)
SAMPLES_PER_FRAME = 160  # whisper's hop at 16 kHz: 100 frames a second
RATE = 16000
FULL_WINDOW_FRAMES = 3000
MARGIN_S = 10
# A spoken question runs about 3 words, or 4 tokens, a second: far more than this is a loop.
TOKENS_PER_SECOND = 6
MIN_AVG_LOGPROB = -1.0  # faster-whisper's log_prob_threshold
MAX_NO_SPEECH = 0.6  # faster-whisper's no_speech_threshold


@dataclass(frozen=True)
class WindowTranscript:
    text: str
    window_s: float


def window_frames(samples: int) -> int | None:
    """The encoder's window for `samples` of 16 kHz audio, or None when it would be the whole 30 s anyway."""
    frames = samples // SAMPLES_PER_FRAME + MARGIN_S * 100
    return frames if frames < FULL_WINDOW_FRAMES else None


def loops(tokens: list[int]) -> bool:
    """True if the tokens go round in a loop, whisper's way of missing the end of the speech: some run of them
    three times back to back ("What is the capital of? France? France? France?"), a run of 4 or more twice, or
    the whole text starting over ("What is your name? What is your")."""
    count = len(tokens)
    for size in range(1, count // 2 + 1):
        for start in range(count - 2 * size + 1):
            run = tokens[start : start + size]
            if tokens[start + size : start + 2 * size] == run and (
                size >= 4 or tokens[start + 2 * size : start + 3 * size] == run
            ):
                return True
    return starts_over(tokens)


def starts_over(tokens: list[int]) -> bool:
    """True if the tokens, after some point, repeat their own beginning (cut off while starting over)."""
    for start in range(2, len(tokens) - 1):
        overlap = min(start, len(tokens) - start)
        if tokens[start : start + overlap] == tokens[:overlap]:
            return True
    return False


def transcribe_short(whisper, tokenizer, audio: np.ndarray, beam_size: int) -> WindowTranscript | None:
    """`audio` (float32, 16 kHz) through the encoder with a window of its own length plus `MARGIN_S`.

    `whisper` is a faster-whisper `WhisperModel`; None means the full window should decide.
    """
    import ctranslate2

    frames = window_frames(len(audio))
    if frames is None:
        return None
    padded = np.pad(audio, (0, frames * SAMPLES_PER_FRAME - len(audio)))
    features = whisper.feature_extractor(padded, padding=0)[:, :frames]
    encoded = whisper.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    max_length = len(prompt) + int(len(audio) / RATE * TOKENS_PER_SECOND) + 10
    result = whisper.model.generate(
        encoded,
        [prompt],
        beam_size=beam_size,
        max_length=max_length,
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=[-1],  # the model's own list of symbols never to write
    )[0]
    tokens = [token for token in result.sequences_ids[0] if token < tokenizer.eot]
    doubt = _doubt(tokens, result, len(prompt) + len(tokens) >= max_length)
    text = tokenizer.decode(tokens).strip()
    if doubt:
        LOG.info("the %.1f s window heard %r, but %s: transcribing the full window", frames / 100, text, doubt)
        return None
    return WindowTranscript(text, frames / 100)


def _doubt(tokens: list[int], result, cut_at_max_length: bool) -> str:
    """Why the short window's result should not be trusted, or "" if it can be."""
    if loops(tokens):
        return "it goes round in a loop"
    if cut_at_max_length:
        return "it never ends"
    if result.scores[0] * len(tokens) / (len(tokens) + 1) < MIN_AVG_LOGPROB:  # as faster-whisper recovers it
        return "unsure of its words"
    if result.no_speech_prob > MAX_NO_SPEECH:
        return "perhaps no speech"
    return ""
