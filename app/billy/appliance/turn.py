"""One finished turn: what was heard and said, and when each milestone came after the end of the question."""

from __future__ import annotations

from dataclasses import dataclass

from billy.conversation.pipeline import TurnResult
from billy.hearing.listening import Utterance

MILESTONES = ("transcribed", "first_token", "first_sentence", "first_sound")


@dataclass
class Turn:
    result: TurnResult
    utterance: Utterance

    @property
    def speech_ended_at(self) -> float:
        return self.utterance.ended_at

    @property
    def first_sound_s(self) -> float | None:
        at = self.result.first_sound_at
        return None if at is None else at - self.speech_ended_at

    def summary(self) -> dict:
        """Words and latency figures (seconds after the end of speech) for the status."""
        marks = {**self.result.marks, "first_sound": self.result.first_sound_at}
        return {
            "heard": self.result.heard,
            "said": self.result.said,
            "error": self.result.failed_stage,
            "latency": {
                name: None if marks.get(name) is None else round(marks[name] - self.speech_ended_at, 3)
                for name in MILESTONES
            },
        }
