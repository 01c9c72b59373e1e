"""Cutting text into sentences to speak, as it streams in: sentence-stream's boundaries, plus line breaks,
plus a length cap, so a model that forgets punctuation (or writes one line per thought) still gets Billy
talking after its first phrase instead of after its last word. The very first piece is cut sooner, at a
clause (a comma after a few words) or at 40 characters: it is what the listener waits for."""

from __future__ import annotations

from sentence_stream import SentenceBoundaryDetector

MAX_SENTENCE_CHARS = 160
MAX_FIRST_CHARS = 40
MIN_FIRST_CLAUSE_CHARS = 12


class SpokenSentences:
    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS, first_chars: int = MAX_FIRST_CHARS) -> None:
        self.max_chars = max_chars
        self.first_chars = first_chars
        self._started = False
        self._detector = SentenceBoundaryDetector()

    def add(self, text: str) -> list[str]:
        """Feed a piece of text; return the sentences it completed."""
        done: list[str] = []
        for index, line in enumerate(text.split("\n")):
            if index:
                done += self.finish()
            done += [s for s in self._detector.add_chunk(line) if s.strip()]
            done += self._cut_run_on()
        self._started = self._started or bool(done)
        return done

    def finish(self) -> list[str]:
        """Whatever is left, as a last sentence."""
        rest = self._detector.finish().strip()
        self._detector = SentenceBoundaryDetector()
        return [rest] if rest else []

    def _cut_run_on(self) -> list[str]:
        pending = self._detector.remaining_text
        if not self._started and not self._detector.current_sentence:
            clause = min(
                (
                    i
                    for i in (pending.find(", ", MIN_FIRST_CLAUSE_CHARS), pending.find("; ", MIN_FIRST_CLAUSE_CHARS))
                    if i > 0
                ),
                default=-1,
            )
            if clause > 0:
                self._detector.remaining_text = pending[clause + 2 :]
                return [pending[: clause + 1].strip()]
        limit = self.max_chars if self._started else self.first_chars
        if len(pending) <= limit:
            return []
        head = pending[:limit]
        cut = max(head.rfind(", "), head.rfind("; "), head.rfind(" "))
        cut = cut + 1 if cut > 0 else limit
        self._detector.remaining_text = pending[cut:].lstrip()
        return [head[:cut].strip()]


def split_sentences(text: str) -> list[str]:
    splitter = SpokenSentences()
    return splitter.add(text) + splitter.finish()
