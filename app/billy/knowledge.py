"""Local knowledge, as the original's `search_local_knowledge`: the owner's own notes (text, Markdown or PDF
uploaded on the web page), searched when a question matches, the best passages given to the model.

Everything stays on the fish: the files in `knowledge/` under the state folder and an index beside them in
SQLite's FTS5 (in Python's standard library: no search server, no embedding model, nothing to download; a
porter stemmer, so "bins" finds "bin"). Files are cut into passages of about a paragraph. A passage is given
to the model only when it shares enough of the question's words that say what it is about (a third of them:
one of up to three), so "what time does the bin go out?" brings the house notes' line about the bins and "tell
me a joke" brings none.
Bounded: at most `MAX_FILES` files of `MAX_FILE_BYTES` each, `MAX_TOTAL_BYTES` of text in all.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)
FOLDER = "knowledge"
INDEX = "index.sqlite"
SUFFIXES = (".txt", ".md", ".pdf")
MAX_FILES = 50
MAX_FILE_BYTES = 5 * 2**20
MAX_TOTAL_BYTES = 20 * 2**20  # of extracted text: a few thousand pages of notes
PASSAGE_CHARS = 600
GIVEN = 3  # passages given to the model for one question
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,79}$")
WORD = re.compile(r"\w{3,}", re.UNICODE)
# Words that say nothing about what a question is about (English, German, French, Dutch); anything of three
# letters or more that is not here counts.
_STOP_WORDS = """
    the and are was were what when where which who whom whose why how does did done doing have has had you your
    yours our ours their they them this that these those there here with from into onto about for not but can
    could would should will shall may might must tell please out get got any some all just also very much many
    more most der die das und ist sind was wann wie wer wo warum ich mir mich du dir dich ein eine einen dem
    den des mit von zu auf für nicht aber bitte sag les des une est sont que qui quoi quand comment pour dans
    avec pas mais moi toi vous nous het een van wat wanneer hoe wie waar waarom ik mij jij jou met voor niet
    maar zijn heb hebt
"""
STOP = frozenset(_STOP_WORDS.split())


class KnowledgeError(ValueError):
    """A file refused; the message says what and why."""


@dataclass(frozen=True)
class Passage:
    document: str
    text: str


def content_words(text: str) -> list[str]:
    """The words of `text` that can say what it is about, lower case, each once."""
    return list(dict.fromkeys(word for word in WORD.findall(text.lower()) if word not in STOP))


def extract_text(name: str, data: bytes) -> str:
    """The text of an uploaded file: UTF-8 text or Markdown as it is, a PDF's text layer page by page."""
    if name.lower().endswith(".pdf"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            pages = PdfReader(io.BytesIO(data)).pages
            return "\n\n".join(page.extract_text() or "" for page in pages)
        except (PdfReadError, ValueError, KeyError, TypeError) as error:
            raise KnowledgeError(f"{name}: not a PDF that can be read ({error})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise KnowledgeError(f"{name}: not UTF-8 text") from None


def passages_of(text: str) -> list[str]:
    """Paragraphs, joined up to about PASSAGE_CHARS, a long one cut at sentence ends."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = " ".join(paragraph.split())
        while len(paragraph) > PASSAGE_CHARS:
            cut = paragraph.rfind(". ", 0, PASSAGE_CHARS) + 1 or PASSAGE_CHARS
            pieces.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if paragraph:
            pieces.append(paragraph)
    joined: list[str] = []
    for piece in pieces:
        if joined and len(joined[-1]) + len(piece) < PASSAGE_CHARS // 2:
            joined[-1] += "\n" + piece
        else:
            joined.append(piece)
    return joined


class Knowledge:
    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / FOLDER
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _index(self) -> Iterator[sqlite3.Connection]:
        """The index, one connection at a time (the runtime asks, the web page writes): committed and closed."""
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.folder / INDEX, timeout=10)
            try:
                connection.execute(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS passages USING fts5(document UNINDEXED, text, "
                    "tokenize = 'porter unicode61')"
                )
                yield connection
                connection.commit()
            finally:
                connection.close()

    def documents(self) -> list[tuple[str, int]]:
        """(name, size in bytes) of each file, by name."""
        if not self.folder.is_dir():
            return []
        return sorted((p.name, p.stat().st_size) for p in self.folder.iterdir() if p.suffix.lower() in SUFFIXES)

    def add(self, name: str, data: bytes) -> int:
        """Keep and index a file (replacing one of the same name); the number of passages found in it."""
        name = Path(name).name.strip()
        if not NAME.match(name) or Path(name).suffix.lower() not in SUFFIXES:
            raise KnowledgeError(f"{name!r}: a .txt, .md or .pdf file named with letters, digits and _ . ( ) -")
        if len(data) > MAX_FILE_BYTES:
            raise KnowledgeError(f"{name}: bigger than {MAX_FILE_BYTES // 2**20} MB")
        others = [document for document, _ in self.documents() if document != name]
        if len(others) >= MAX_FILES:
            raise KnowledgeError(f"{name}: already {MAX_FILES} files; remove one first")
        text = extract_text(name, data)
        passages = passages_of(text)
        if not passages:
            raise KnowledgeError(f"{name}: no text in it (a scanned PDF has only pictures of text)")
        with self._index() as connection:
            (indexed,) = connection.execute(
                "SELECT coalesce(sum(length(text)), 0) FROM passages WHERE document != ?", (name,)
            ).fetchone()
            if indexed + len(text) > MAX_TOTAL_BYTES:
                raise KnowledgeError(f"{name}: the notes would pass {MAX_TOTAL_BYTES // 2**20} MB of text")
            connection.execute("DELETE FROM passages WHERE document = ?", (name,))
            connection.executemany("INSERT INTO passages VALUES (?, ?)", [(name, passage) for passage in passages])
            (self.folder / name).write_bytes(data)
        LOG.info("knowledge: %s indexed, %d passages", name, len(passages))
        return len(passages)

    def remove(self, name: str) -> None:
        if name not in [document for document, _ in self.documents()]:
            raise KnowledgeError(f"no file called {name!r}")
        with self._index() as connection:
            connection.execute("DELETE FROM passages WHERE document = ?", (name,))
            (self.folder / name).unlink()

    def search(self, question: str, limit: int = GIVEN) -> list[Passage]:
        """The passages that answer to the question's words best, each sharing enough of them; none when none do."""
        words = content_words(question)
        if not words or not (self.folder / INDEX).is_file():
            return []
        needed = math.ceil(len(words) / 3)  # a third of the question's words: one of up to three
        query = " OR ".join(f'"{word}"' for word in words)
        with self._index() as connection:
            rows = connection.execute(
                "SELECT rowid, document, text FROM passages WHERE passages MATCH ? ORDER BY bm25(passages) LIMIT ?",
                (query, limit * 4),
            ).fetchall()
            found = []
            for rowid, document, text in rows:
                shared = sum(
                    bool(connection.execute(
                        "SELECT 1 FROM passages WHERE rowid = ? AND passages MATCH ?", (rowid, f'"{word}"')
                    ).fetchone())
                    for word in words
                )  # fmt: skip
                if shared >= needed:
                    found.append(Passage(document, text))
        return found[:limit]

    def notes_for(self, question: str) -> str:
        """What the model is told for this question: the passages, with where they come from; "" when none."""
        found = self.search(question)
        if not found:
            return ""
        lines = "\n".join(f"- ({passage.document}) {passage.text}" for passage in found)
        return f"From the owner's own notes (use them when they answer the question):\n{lines}"
