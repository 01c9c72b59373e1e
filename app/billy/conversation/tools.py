"""The tools Billy's model may call, their JSON schemas, and what running each one does.

A tool returns what goes back into the conversation history and what Billy says (or sings) about it; Billy
speaks the outcome himself instead of asking the model again, which keeps a small local model's mistakes out
of the confirmation and saves a round trip on the Pi.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from billy.integrations.home_assistant import HomeAssistant
from billy.intents.news import NewsDesk
from billy.intents.phrasebook import Phrasebook
from billy.knowledge import Knowledge
from billy.media.songs import Song, SongError, SongLibrary
from billy.persona.library import PersonaLibrary
from billy.persona.people import People, PeopleError
from billy.persona.persona import PersonaError
from billy.services.client import ServiceError
from billy.services.llm.client import ToolCall

LOG = logging.getLogger(__name__)
# get_news_digest's categories (the original's names; its sports scores are not read here).
DIGESTS = {"headlines": lambda desk: desk.news, "weather": lambda desk: desk.forecast}


class ToolError(ValueError):
    """The model's tool call cannot be run: unknown tool or malformed arguments."""


@dataclass
class ToolOutcome:
    content: str  # the tool message for the history
    speech: str = ""  # what Billy says about it
    song: Song | None = None  # what Billy sings
    follow_up: bool | None = None  # conversation_state: does Billy wait for an answer


class ToolBox:
    def __init__(
        self, personas: PersonaLibrary, allow_persist: bool, songs: SongLibrary, home_assistant: HomeAssistant | None
    ) -> None:
        self.personas = personas
        self.persona = personas.persona  # the live persona: a switch reloads it in place
        self.allow_persist = allow_persist
        self.songs = songs
        self.home_assistant = home_assistant
        # Who is talking and what Billy remembers of them (persona/people.py), given by the wiring.
        self.people: People | None = None
        self.user: Callable[[], str] = lambda: ""
        self.set_user: Callable[[str], None] = lambda name: None
        self.news: NewsDesk | None = None  # the news and the weather (intents/news.py), given by the wiring
        self.knowledge: Knowledge | None = None  # the owner's notes (billy/knowledge.py), given by the wiring

    def schemas(self, searching_notes: bool = False) -> list[dict]:
        """`searching_notes`: the original's `search_local_knowledge` too, for a brain that hears the question
        itself (the Realtime voice), so the notes cannot be chosen by its words beforehand as for the local one."""
        traits = {
            name: {"type": "integer", "minimum": 0, "maximum": 100, "description": f"new {name} level"}
            for name in self.persona.traits
        }
        songs = [info.title for info in self.songs.songs().values()]
        schemas = [
            _function("update_personality", "Change one or more of Billy's personality traits (0-100).", traits, []),
            _function(
                "play_song",
                "Sing one of Billy's songs." + (f" Songs: {', '.join(songs)}." if songs else ""),
                {"song": {"type": "string", "description": "the song's name or title"}},
                ["song"],
            ),
            _function(
                "switch_persona",
                f"Become another persona. Personas: {', '.join(self.personas.names())}.",
                {"persona": {"type": "string", "description": "the persona's name"}},
                ["persona"],
            ),
        ]
        schemas.append(
            _function(
                "conversation_state",
                "Say whether you expect the user to answer (you asked them something).",
                {"expects_follow_up": {"type": "boolean", "description": "true if you wait for an answer"}},
                ["expects_follow_up"],
            )
        )
        if self.people is not None:
            schemas += [
                _function(
                    "identify_user",
                    "The user said who they are: remember who is talking.",
                    {"name": {"type": "string", "description": "the user's first name"}},
                    ["name"],
                ),
                _function(
                    "store_memory",
                    "Remember a fact about the user for later conversations.",
                    {
                        "memory": {"type": "string", "description": "the fact, in a short sentence"},
                        "importance": {"type": "string", "enum": ["low", "medium", "high"]},
                        "category": {"type": "string", "description": "for example preference, fact, event"},
                    },
                    ["memory"],
                ),
            ]
        if self.news is not None and self.news.has_sources():  # nothing to read: no tool in the prompt
            schemas.append(
                _function(
                    "get_news_digest",
                    "Read out the latest news headlines or today's weather.",
                    {"category": {"type": "string", "enum": list(DIGESTS), "description": "what to read out"}},
                    ["category"],
                )
            )
        if searching_notes and self.knowledge is not None and self.knowledge.documents():
            schemas.append(
                _function(
                    "search_local_knowledge",
                    "Search the owner's own notes (house, family, devices) for what the question is about.",
                    {"query": {"type": "string", "description": "what to look for, in a few words"}},
                    ["query"],
                )
            )
        if self.home_assistant is not None:  # HA_CONVERSATION=off: no Home Assistant at all
            schemas.append(
                _function(
                    "smart_home_command",
                    "Ask Home Assistant to control or report on the house (lights, heating, devices, sensors).",
                    {"prompt": {"type": "string", "description": "the request in plain words"}},
                    ["prompt"],
                )
            )
        return schemas

    def run(self, call: ToolCall, searching_notes: bool = False) -> ToolOutcome:
        try:
            arguments = json.loads(call.arguments or "{}")
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
            raise ToolError(f"{call.name}: arguments are not JSON: {call.arguments[:100]!r}") from None
        if not isinstance(arguments, dict):
            raise ToolError(f"{call.name}: arguments must be a JSON object, got {type(arguments).__name__}")
        offered = {schema["function"]["name"] for schema in self.schemas(searching_notes)}
        if call.name not in offered:
            raise ToolError(f"unknown tool {call.name!r}")
        return getattr(self, f"_{call.name}")(arguments)

    def _update_personality(self, arguments: dict) -> ToolOutcome:
        try:
            applied = self.persona.set_traits(arguments, persist=self.allow_persist)
        except PersonaError as error:
            raise ToolError(str(error)) from None
        if not applied:
            raise ToolError("update_personality: no trait given")
        said = ", ".join(f"{name} {value}" for name, value in applied.items())
        kept = "" if self.allow_persist else " Just for now, though: my settings file is locked."
        return ToolOutcome(json.dumps({"updated": applied}), f"Okay. {said.capitalize()}.{kept}")

    def _play_song(self, arguments: dict) -> ToolOutcome:
        wanted = arguments.get("song")
        if not isinstance(wanted, str) or not wanted.strip():
            raise ToolError("play_song: 'song' must be a non-empty string")
        try:
            song = self.songs.load(wanted)
        except SongError as error:
            LOG.info("play_song: %s", error)
            known = [info.title for info in self.songs.songs().values()]
            offer = f" I know {', '.join(known)}." if known else " I don't know any songs yet."
            return ToolOutcome(json.dumps({"error": str(error)}), f"I don't know a song called {wanted}.{offer}")
        return ToolOutcome(json.dumps({"playing": song.title}), "", song)

    def _switch_persona(self, arguments: dict) -> ToolOutcome:
        wanted = arguments.get("persona")
        if not isinstance(wanted, str) or not wanted.strip():
            raise ToolError("switch_persona: 'persona' must be a non-empty string")
        try:
            name = self.personas.switch(wanted)
        except PersonaError as error:
            LOG.info("switch_persona: %s", error)
            known = ", ".join(self.personas.names())
            return ToolOutcome(
                json.dumps({"error": str(error)}), f"I don't have a persona called {wanted}. I can be {known}."
            )
        shown = self.persona.meta.get("name", "").strip() or name
        return ToolOutcome(json.dumps({"persona": name}), f"Okay. I'm {shown} now.")

    def _smart_home_command(self, arguments: dict) -> ToolOutcome:
        prompt = arguments.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ToolError("smart_home_command: 'prompt' must be a non-empty string")
        try:
            answer = self.home_assistant.process(prompt)
        except ServiceError as error:
            LOG.warning("smart_home_command: %s", error)
            return ToolOutcome(
                json.dumps({"error": str(error)}), "I couldn't reach the house. Home Assistant isn't answering."
            )
        return ToolOutcome(json.dumps({"home_assistant": answer}), answer)

    def _get_news_digest(self, arguments: dict) -> ToolOutcome:
        category = arguments.get("category", "headlines")
        if category not in DIGESTS:
            raise ToolError(f"get_news_digest: 'category' must be one of {', '.join(DIGESTS)}")
        said = DIGESTS[category](self.news)(Phrasebook(self.news.language), self.persona)
        return ToolOutcome(json.dumps({category: said}), said)

    def _search_local_knowledge(self, arguments: dict) -> ToolOutcome:
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("search_local_knowledge: 'query' must be text")
        notes = self.knowledge.notes_for(query) or "Nothing in the owner's notes about that."
        return ToolOutcome(json.dumps({"notes": notes}))

    def _conversation_state(self, arguments: dict) -> ToolOutcome:
        expects = arguments.get("expects_follow_up")
        if not isinstance(expects, bool):
            raise ToolError("conversation_state: 'expects_follow_up' must be true or false")
        return ToolOutcome(json.dumps({"expects_follow_up": expects}), follow_up=expects)

    def _identify_user(self, arguments: dict) -> ToolOutcome:
        name = arguments.get("name")
        try:
            key = self.people.meet(name if isinstance(name, str) else "")
        except PeopleError as error:
            raise ToolError(f"identify_user: {error}") from None
        self.set_user(key)
        return ToolOutcome(json.dumps({"user": key, "memories": [m.memory for m in self.people.memories(key)]}))

    def _store_memory(self, arguments: dict) -> ToolOutcome:
        memory, importance = arguments.get("memory"), arguments.get("importance", "medium")
        if not isinstance(memory, str) or importance not in ("low", "medium", "high"):
            raise ToolError("store_memory: 'memory' must be text, 'importance' low, medium or high")
        try:
            self.people.remember(self.user(), memory, importance, str(arguments.get("category", "fact"))[:40])
        except PeopleError as error:
            raise ToolError(f"store_memory: {error}") from None
        return ToolOutcome(json.dumps({"stored": memory}))


def _function(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }
