"""Who Billy talks with, and what he remembers of each: the original's user profiles, in its own format.

A profile is `profiles/<name>.ini` in the state folder, as the original v2 keeps it: `[USER_INFO]` (name,
display_name, created_date, last_seen, interaction_count ...) and `[CORE_MEMORIES] memories = [...]`, a JSON
list of `{"id", "date", "memory", "importance", "category"}`. So an owner's profiles move in as they are (`billy
import` copies them) and go back to the original unchanged. At most MAX_MEMORIES are kept per person: the
newest, as the original keeps its most important twenty.

Who is talking is whoever last said who they are ("I'm Sam"), for as long as they keep talking (DEFAULT_USER after
CURRENT_MINUTES of silence); what they asked Billy to remember goes into the language model's prompt for them.
"""

from __future__ import annotations

import configparser
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from billy.settings.kinds import control_character

LOG = logging.getLogger(__name__)
FOLDER = "profiles"
MAX_MEMORIES = 20
MAX_MEMORY_CHARS = 300
CURRENT_FILE = "current.json"  # who is talking, and when they last did
CURRENT_MINUTES = 30  # after this long without a word, Billy talks with DEFAULT_USER again
_NAME = re.compile(r"[^\W\d_][\w'-]{0,31}")  # one word, a letter first: "Sam", "Anne-Marie", "Zoë"


class PeopleError(ValueError):
    """A name or a memory Billy cannot keep; the message says why."""


@dataclass(frozen=True)
class Memory:
    id: str
    date: str
    memory: str
    importance: str = "medium"
    category: str = "fact"


def profile_name(name: str) -> str:
    """The file name of a person: their name in lower case, which must be one word."""
    cleaned = name.strip().strip(".,!?")
    if not _NAME.fullmatch(cleaned):
        raise PeopleError(f"{name!r:.40} is not a name Billy can keep: one word, starting with a letter")
    return cleaned.lower()


def _one_memory(text: str) -> str:
    """A memory as kept: one line of plain text, 1 to MAX_MEMORY_CHARS characters."""
    if control_character(text) is not None:
        raise PeopleError("a memory is one line of plain text: no line ends or other control characters")
    text = " ".join(text.split())
    if not text or len(text) > MAX_MEMORY_CHARS:
        raise PeopleError(f"a memory is 1 to {MAX_MEMORY_CHARS} characters")
    return text


class People:
    def __init__(self, state_dir: Path, default_user: str = "guest") -> None:
        self.folder = state_dir / FOLDER
        self.default_user = default_user
        self._lock = threading.Lock()

    def current(self, now: float | None = None) -> str:
        """Who is talking: the last person who said who they are, unless nobody spoke for CURRENT_MINUTES (then
        DEFAULT_USER). Kept on disk, so a restart or the next conversation still knows them."""
        try:
            kept = json.loads((self.folder / CURRENT_FILE).read_text(encoding="utf-8"))
            name, seen = str(kept["name"]), float(kept["seen"])
        except (OSError, ValueError, KeyError, TypeError):
            return self.default_user
        fresh = (time.time() if now is None else now) - seen < CURRENT_MINUTES * 60
        return name if fresh else self.default_user

    def set_current(self, name: str) -> None:
        """`name` is talking now (and still is, when called again after a turn)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{CURRENT_FILE}.part"
        partial.write_text(json.dumps({"name": name, "seen": time.time()}), encoding="utf-8")
        partial.replace(self.folder / CURRENT_FILE)

    def path_of(self, name: str) -> Path:
        return self.folder / f"{profile_name(name)}.ini"

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.ini")) if self.folder.is_dir() else []

    def display_name(self, name: str) -> str:
        return self._read(name).get("USER_INFO", "display_name", fallback=name.strip().capitalize())

    def memories(self, name: str) -> list[Memory]:
        raw = self._read(name).get("CORE_MEMORIES", "memories", fallback="[]")
        try:
            entries = json.loads(raw)
        except ValueError:
            LOG.warning("the memories of %s are unreadable: Billy starts theirs afresh", name)
            return []
        fields = Memory.__dataclass_fields__
        return [
            Memory(**{k: str(v) for k, v in entry.items() if k in fields}) for entry in entries if "memory" in entry
        ]

    def meet(self, name: str, display_name: str = "") -> str:
        """Make sure `name` has a profile; its file name."""
        key = profile_name(name)
        with self._lock:
            parser = self._read(key)
            if not parser.has_section("USER_INFO"):
                now = datetime.now().isoformat(timespec="seconds")
                parser["USER_INFO"] = {"name": key, "display_name": display_name or name.strip(), "created_date": now}
                parser["USER_INFO"]["last_seen"] = now
                parser["USER_INFO"]["interaction_count"] = "0"
                self._write(key, parser)
        return key

    def remember(self, name: str, memory: str, importance: str = "medium", category: str = "fact") -> Memory:
        memory = _one_memory(memory)
        entry = Memory(uuid.uuid4().hex, datetime.now().isoformat(timespec="seconds"), memory, importance, category)
        self._change(name, lambda memories: [*memories, entry][-MAX_MEMORIES:])
        return entry

    def forget(self, name: str, memory_id: str = "", everything: bool = False) -> list[Memory]:
        """Forget one memory (by id; the newest when none is given) or every one; what was forgotten."""
        forgotten: list[Memory] = []

        def drop(memories: list[Memory]) -> list[Memory]:
            if everything:
                forgotten.extend(memories)
                return []
            target = memory_id or (memories[-1].id if memories else "")
            forgotten.extend(m for m in memories if m.id == target)
            return [m for m in memories if m.id != target]

        self._change(name, drop)
        return forgotten

    def edit(self, name: str, memory_id: str, text: str) -> None:
        text = _one_memory(text)
        self._change(
            name,
            lambda memories: [Memory(m.id, m.date, text, m.importance, m.category) if m.id == memory_id else m
                              for m in memories],
        )  # fmt: skip

    def delete(self, name: str) -> None:
        self.path_of(name).unlink(missing_ok=True)

    # -- the file ---------------------------------------------------------------------------------------

    def _read(self, name: str) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        path = self.path_of(name)
        if path.is_file():
            try:
                parser.read_string(path.read_text(encoding="utf-8"))
            except configparser.Error as error:
                LOG.warning("%s is unreadable (%s): treated as empty", path, error)
        return parser

    def _change(self, name: str, change) -> None:
        key = self.meet(name)
        with self._lock:
            parser = self._read(key)
            memories = change(self.memories(key))
            parser["CORE_MEMORIES"] = {"memories": json.dumps([m.__dict__ for m in memories])}
            self._write(key, parser)

    def _write(self, key: str, parser: configparser.ConfigParser) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{key}.ini"
        partial = path.with_suffix(".part")
        with partial.open("w", encoding="utf-8") as stream:
            parser.write(stream)
        partial.replace(path)


def about(people: People, user: str) -> str:
    """What the language model is told of who is talking: their name and what they asked Billy to remember."""
    if not user:
        return ""
    try:
        memories = people.memories(user)
        name = people.display_name(user)
    except PeopleError:
        return ""
    if user == people.default_user and not memories:
        return ""
    told = "; ".join(memory.memory for memory in memories)
    return f"You are talking with {name}." + (f" {name} told you to remember: {told}." if told else "")
