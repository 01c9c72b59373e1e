"""Has the user finished their turn? Asked once a short silence follows their speech.

A fixed silence is either slow (every answer waits for it) or rude (a pause mid-sentence cuts the user off).
Smart Turn v3 (Pipecat's open end-of-turn model: Whisper-tiny features of the last 8 s of speech, ONNX, a
few tens of milliseconds on a CPU) hears from the words and the intonation whether a turn sounds complete.
Complete: the turn ends after `complete_ms` of silence. Incomplete: Billy waits up to `incomplete_ms`, so a
speaker who pauses to think keeps the floor. The transcript of the same speech (drafted during the silence)
settles it when it is clear: one that stops where a sentence cannot ("the", "and", "of", "If it rains
tomorrow" with no main clause, or only "I was wondering") is unfinished, a whole question (Whisper's "?" after
a sentence that can end there) is finished; otherwise the model decides, with two shades between its yes and
no. Unsure (a probability from `UNSURE` to one half): the fixed `END_OF_SPEECH_MS` silence, as without a judge.
Disputed (the model hears it unfinished, but Whisper closed a sentence with "." or "!"): `DISPUTED_MS`.
Without the model, a fixed `END_OF_SPEECH_MS` silence decides.

The shades exist because the model was trained on people, and Billy's tests and benchmark speak with piper:
through the TTS service, "Tell me something about the sea." was judged 0.01 to 0.04 in twelve renditions
(and waited the full 2 s), "Before you answer" 0.19 to 0.93, "I was wondering" 0.03 to 0.46.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from billy.audio.pcm import Pcm
from billy.models import defaults

if TYPE_CHECKING:
    from billy.conversation.draft import Draft

LOG = logging.getLogger(__name__)
MODEL_NAME = defaults.END_OF_TURN_MODEL
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
WINDOW_SAMPLES = 8 * 16000  # the model hears the last 8 s
# Words after which an English sentence cannot be over: articles, prepositions, conjunctions, fillers.
DANGLING_WORDS = (
    "a an the and or but so because if of to in on at for with from about into than that which who whose "
    "my your his her our their its is are was were am be do does did can could would should will um uh er erm like"
)
DANGLING = frozenset(DANGLING_WORDS.split())
# Below one half the model leans to "unfinished"; from here up to one half it is unsure: the fixed silence.
UNSURE = 0.2
# The words end a sentence (Whisper's "." or "!") but the voice sounds unfinished to the model: more than a
# second's thinking pause, less than the wait for a turn that is plainly unfinished. Piper's "Tell me something
# about the sea." was judged 0.01 to 0.04 in twelve renditions through the TTS service, and waited the full 2 s.
DISPUTED_MS = 1200
# Whole transcripts that only open a sentence, though Whisper ends them with a period ("I was wondering.").
OPENERS = frozenset({"i was wondering", "i wonder", "i think", "i guess", "i mean", "you know", "let me think"})
# A clause opened by one of these needs a main clause after it ("If it rains tomorrow ..."). Not "when" or
# "where": they also open complete questions.
SUBORDINATORS = frozenset({"if", "because", "although", "though", "unless", "before", "after", "while", "since"})
# Whisper can leave the end of a sentence cut by a pause out altogether ("What?" for "What is the capital of"),
# which would read as a whole question. Words that cover the speech come at least this fast after its first
# half second (the listener's lead-in and a first word); fewer mean words are missing, and the model decides.
MIN_WORDS_PER_SECOND = 1.0
LEAD_IN_S = 0.5


class Verdict(Future):
    """The judgement of one stretch of speech: the model's probability, and how long the speech was."""

    def __init__(self, speech_s: float | None = None) -> None:
        super().__init__()
        self.speech_s = speech_s


class SmartTurn:
    """The model: probability that the speech so far is a finished turn."""

    def __init__(self, model_path: Path) -> None:
        import onnxruntime
        from faster_whisper.feature_extractor import FeatureExtractor

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one core; the other transcribes at the same moment
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(model_path), sess_options=options)
        self._features = FeatureExtractor(feature_size=80, chunk_length=8)

    def probability_complete(self, pcm: Pcm) -> float:
        audio = pcm.resampled(16000).samples.astype(np.float32)[-WINDOW_SAMPLES:] / 32768
        audio = np.pad(audio, (WINDOW_SAMPLES - len(audio), 0))  # silence before, as the model was trained
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)
        features = self._features(audio, padding=0)[None, :, :800].astype(np.float32)
        return float(self._session.run(None, {"input_features": features})[0].reshape(-1)[0])


def dangling(transcript: str) -> bool:
    """True if the transcript stops where a sentence cannot: a trailing "the", "and", "um" or comma, or a
    leading "if"/"because"/"before" clause with nothing after it."""
    text = transcript.strip()
    if text.endswith((",", "-", "...", "…")):
        return True
    words = [word.lower().strip("\"'") for word in text.rstrip(".?!").split()]
    if not words:
        return False
    return words[-1] in DANGLING or (words[0] in SUBORDINATORS and "," not in text) or " ".join(words) in OPENERS


class EndOfTurn:
    """How much silence ends the turn, given what is known of the speech before it."""

    def __init__(
        self, model: SmartTurn | None, silence_ms: int, complete_ms: int = 400, incomplete_ms: int = 2000
    ) -> None:
        self.model = model
        self.silence_ms = silence_ms
        self.complete_ms = complete_ms
        self.incomplete_ms = incomplete_ms
        self._executor = ThreadPoolExecutor(1, "end-of-turn") if model else None

    def judge(self, speech: Pcm, words: Draft | None = None) -> Verdict | None:
        """Start judging `speech` (in the background); None without a model.

        `words`: the draft transcribing the same speech, if any. The model then waits for its transcript and is
        not asked at all when the words settle the question. On this 2-core machine the two at once took
        0.16 s for the transcript where it alone took 0.10 s, and the model 0.05 s alone: one after the other,
        the transcript comes 0.06 s sooner and the verdict no later.
        """
        if self._executor is None:
            return None
        verdict = Verdict(len(speech.samples) / speech.rate)
        verdict.add_done_callback(_log_failure)
        if words is None:
            self._executor.submit(self._settle, verdict, speech, None)
        else:
            words.when_transcribed(lambda: self._executor.submit(self._settle, verdict, speech, words.transcript()))
        return verdict

    def _settle(self, verdict: Verdict, speech: Pcm, transcript: str | None) -> None:
        try:
            settled = _settled_by_words(transcript, verdict.speech_s)
            verdict.set_result(settled if settled is not None else self.model.probability_complete(speech))
        except Exception as error:  # the verdict carries it: the fixed silence decides (`silence_needed_ms`)
            verdict.set_exception(error)

    def completeness(self, verdict: Verdict | None, transcript: str | None, words_coming: bool) -> float | None:
        """How surely the turn is over, 0 to 1, once the words (if `words_coming`) and the model settle it; None
        while unknown. The words decide when they are clear (`_settled_by_words`); otherwise the model, which
        also hears the intonation."""
        if verdict is None or (words_coming and transcript is None):
            return None
        settled = _settled_by_words(transcript, verdict.speech_s)
        if settled is not None:
            return settled
        if not verdict.done() or verdict.exception() is not None:  # a broken model must not stop Billy listening
            return None
        return verdict.result()

    def silence_needed_ms(self, verdict: Verdict | None, transcript: str | None, words_coming: bool) -> int:
        """`transcript`: the words so far if known; `words_coming`: a transcript is on its way."""
        if verdict is None or (verdict.done() and verdict.exception() is not None):
            return self.silence_ms
        probability = self.completeness(verdict, transcript, words_coming)
        if probability is None:
            return self.incomplete_ms  # not judged yet: never cut before knowing
        if probability < UNSURE:
            return min(DISPUTED_MS, self.incomplete_ms) if _ends_sentence(transcript) else self.incomplete_ms
        return self.complete_ms if probability >= 0.5 else max(self.complete_ms, self.silence_ms)

    def may_start_reply(self, verdict: Verdict | None, transcript: str | None, words_coming: bool) -> bool:
        """Whether the model may start on the speech so far: it is not judged unfinished, or there is no judge.

        An unsure or disputed turn starts it too: its silence is short, and the draft is dropped if the user goes on.
        """
        if verdict is None or _ends_sentence(transcript):  # whatever the model says of a closed sentence, it starts
            return True
        probability = self.completeness(verdict, transcript, words_coming)
        return probability is not None and probability >= UNSURE


def _settled_by_words(transcript: str | None, speech_s: float | None) -> float | None:
    """0 when the words stop where a sentence cannot, 1 for a whole question (Whisper writes its "?") that covers
    the speech, else None: the words alone do not tell."""
    if transcript is None:
        return None
    if dangling(transcript):
        return 0.0
    covered = speech_s is None or len(transcript.split()) >= (speech_s - LEAD_IN_S) * MIN_WORDS_PER_SECOND
    return 1.0 if transcript.rstrip().endswith("?") and covered else None


def _ends_sentence(transcript: str | None) -> bool:
    """Whisper closed a sentence (with "." or "!") at a word where one can end."""
    return transcript is not None and transcript.rstrip().endswith((".", "!")) and not dangling(transcript)


def _log_failure(verdict: Future) -> None:
    if verdict.exception() is not None:
        LOG.error("the end-of-turn model failed (the fixed silence decides): %s", verdict.exception())


def load_end_of_turn(mode: str, models_dir: Path, silence_ms: int, complete_ms: int, incomplete_ms: int):
    """END_OF_TURN=smart uses the model if installed (`billy models fetch smart-turn-v3`), else says why."""
    model = None
    if mode == "smart":
        path = models_dir / MODEL_NAME / MODEL_FILE
        if path.is_file():
            model = SmartTurn(path)
        else:
            LOG.warning("END_OF_TURN=smart but %s is missing: ending turns after %d ms of silence", path, silence_ms)
    return EndOfTurn(model, silence_ms, complete_ms, incomplete_ms)
