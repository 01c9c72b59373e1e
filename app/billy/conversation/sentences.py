"""Cutting text into sentences to speak, as it streams in: sentence-stream's boundaries, plus line breaks,
plus a length cap, so a model that forgets punctuation (or writes one line per thought) still gets Billy
talking after its first phrase instead of after its last word. The very first piece is cut sooner: at a
clause (a comma, semicolon, colon or "..." after its first word), else at the first word that ends at least 5
characters in and can end a phrase ("Paris", "I live", "The sea"), else at 18 characters: it is what the
listener waits for, and both the model's tokens and the voice's synthesis before the first sound grow with its
length. No cut leaves a piece ending on "the", "and", "of" (the voice would close a sentence there)."""

from __future__ import annotations

import re

from sentence_stream import SentenceBoundaryDetector

from billy.hearing.end_of_turn import DANGLING

# Models write stage directions ("*nods*", "(laughs)") and markdown that Billy would otherwise read out loud.
# Bold markers go first (their words stay), then "*actions*" and one- or two-word "(directions)".
MAX_DIRECTION_CHARS = 40
ACTION = re.compile(r"\*[^*\n]{1,40}\*|\(\s*[a-z]+(?: [a-z]+)?\s*\)")
STRAY_MARKUP = re.compile("[*#`\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")  # and emoji: piper reads no pictures
SPACE_BEFORE_STOP = re.compile(r"\s+([.,!?;:])")
SENTENCE_END = re.compile(r"[.!?\u2026][\"')\]\u201d]*$")
# A small model often starts with a speaker's label ("Billy: I love ..."): not for reading out.
SPEAKER_LABEL = re.compile(r"^[A-Z][\w']*(?: [A-Z][\w']*)?:(?:\s+|$)")
MAX_SENTENCE_CHARS = 160
MAX_FIRST_CHARS = 18  # about four words, a second of speech: "I'm not too picky"
# The first piece ends at the first word that can end a phrase from here on: a word is known whole once the next
# one has begun, so "Paris is the capital" is cut at "Paris" two tokens in, not cut back from 18 characters
# four tokens in (Qwen 1.5B writes a token in about 75 ms here beside the voice).
MIN_FIRST_CHARS = 5
MIN_FIRST_CLAUSE_CHARS = 2  # a clause after its first word: "Well," "Oh," "My name is Billy,"
CLAUSE_ENDS = (", ", "; ", ": ", "... ")


class SpokenSentences:
    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS, first_chars: int | None = MAX_FIRST_CHARS) -> None:
        """`first_chars` None: no shorter first piece (a whole text, not a reply still being written)."""
        self.max_chars = max_chars
        self.first_chars = first_chars
        self._started = False
        self._detector = SentenceBoundaryDetector()
        self._held = ""  # an opened "*" or "(" not yet closed: it may be a stage direction

    def add(self, text: str) -> list[str]:
        """Feed a piece of text; return the sentences it completed, as they are to be spoken."""
        done: list[str] = []
        for index, line in enumerate(self._without_directions(text).split("\n")):
            if index:
                done += self._finish_line()
            done += _tidy(self._detector.add_chunk(line))
            done += _tidy(self._cut_run_on())
        return self._spoken(done)

    def finish(self) -> list[str]:
        """Whatever is left, as a last sentence."""
        held, self._held = self._held, ""
        return self._spoken(_tidy(self._detector.add_chunk(held)) + self._finish_line())

    def _spoken(self, done: list[str]) -> list[str]:
        """The reply's first pieces lose a speaker's label; every later piece is left as it is."""
        if not self._started and done:
            done = _tidy([SPEAKER_LABEL.sub("", done[0]), *done[1:]])
        self._started = self._started or bool(done)
        return done

    def _finish_line(self) -> list[str]:
        rest = self._detector.finish()
        self._detector = SentenceBoundaryDetector()
        return _tidy([rest])

    def _without_directions(self, text: str) -> str:
        """The text without stage directions; one still open at the end waits for the next piece of the stream."""
        text = ACTION.sub("", (self._held + text).replace("**", "").replace("__", ""))
        star, paren = text.rfind("*"), text.rfind("(")
        opened = star if text.count("*") % 2 else (paren if paren > text.rfind(")") else -1)
        if opened >= 0 and len(text) - opened <= MAX_DIRECTION_CHARS:
            self._held, text = text[opened:], text[:opened]
        else:
            self._held = ""
        return text

    def _cut_run_on(self) -> list[str]:
        pending = self._detector.remaining_text
        first = not self._started and self.first_chars is not None
        if first and not self._detector.current_sentence:
            ends = [(i, mark) for mark in CLAUSE_ENDS if (i := pending.find(mark, MIN_FIRST_CLAUSE_CHARS)) > 0]
            if ends:
                at, mark = min(ends)
                self._detector.remaining_text = pending[at + len(mark) :]
                return [pending[: at + len(mark)].strip()]
            if (at := _first_phrase_end(pending)) is not None:
                self._detector.remaining_text = pending[at:].lstrip()
                return [pending[:at].strip()]
        limit = self.first_chars if first else self.max_chars
        if len(pending) <= limit:
            return []
        head = pending[:limit]
        cut = _word_boundary(head)
        self._detector.remaining_text = pending[cut:].lstrip()
        return [head[:cut].strip()]


def _first_phrase_end(pending: str) -> int | None:
    """Where the first piece may end: the first space after MIN_FIRST_CHARS with a word begun after it and, before
    it, a word that can end a phrase; None while there is none yet."""
    for at, char in enumerate(pending):
        whole = char == " " and at >= MIN_FIRST_CHARS and pending[at:].strip()
        if whole and _ends_a_phrase(pending[:at]):
            return at
    return None


def _ends_a_phrase(text: str) -> bool:
    """Whether `text`'s last word can end a phrase: not "the", "of", "like" (the voice would close it there)."""
    return text.split()[-1].lower().strip("\"'") not in DANGLING


def _word_boundary(head: str) -> int:
    """Where to cut `head`: after its last clause mark, else after its last word that can end a phrase."""
    clause = max((i + len(mark) - 1 for mark in CLAUSE_ENDS if (i := head.rfind(mark)) > 0), default=0)
    if clause:
        return clause
    spaces = [i for i, char in enumerate(head) if char == " " and head[:i].strip()]
    for space in reversed(spaces):
        if _ends_a_phrase(head[:space]):
            return space + 1
    return spaces[-1] + 1 if spaces else len(head)


def split_sentences(text: str) -> list[str]:
    """A whole text in sentences: the voice services' input, where a shorter first piece would only add a pause."""
    splitter = SpokenSentences(first_chars=None)
    return splitter.add(text) + splitter.finish()


def _tidy(pieces: list[str]) -> list[str]:
    """Pieces without stray markup, their spaces closed up; an empty piece is dropped."""
    tidied = (SPACE_BEFORE_STOP.sub(r"\1", " ".join(STRAY_MARKUP.sub("", piece).split())) for piece in pieces)
    return [piece for piece in tidied if piece]


def ends_sentence(piece: str) -> bool:
    """Whether the piece ends a sentence (not a clause or a run-on cut at the length cap)."""
    return bool(SENTENCE_END.search(piece))
