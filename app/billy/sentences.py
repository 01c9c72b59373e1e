"""Cutting text into sentences to speak, as it streams in: sentence-stream's boundaries, plus line breaks,
plus a length cap, so a model that forgets punctuation (or writes one line per thought) still gets Billy
talking after its first phrase instead of after its last word."""

from __future__ import annotations

from sentence_stream import SentenceBoundaryDetector

MAX_SENTENCE_CHARS = 160


class SpokenSentences:
    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS) -> None:
        self.max_chars = max_chars
        self._detector = SentenceBoundaryDetector()

    def add(self, text: str) -> list[str]:
        """Feed a piece of text; return the sentences it completed."""
        done: list[str] = []
        for index, line in enumerate(text.split("\n")):
            if index:
                done += self.finish()
            done += [s for s in self._detector.add_chunk(line) if s.strip()]
            done += self._cut_run_on()
        return done

    def finish(self) -> list[str]:
        """Whatever is left, as a last sentence."""
        rest = self._detector.finish().strip()
        self._detector = SentenceBoundaryDetector()
        return [rest] if rest else []

    def _cut_run_on(self) -> list[str]:
        pending = self._detector.remaining_text
        if len(pending) <= self.max_chars:
            return []
        head = pending[: self.max_chars]
        cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" "))
        cut = cut + 1 if cut > 0 else self.max_chars
        self._detector.remaining_text = pending[cut:].lstrip()
        return [head[:cut].strip()]


def split_sentences(text: str) -> list[str]:
    splitter = SpokenSentences()
    return splitter.add(text) + splitter.finish()
