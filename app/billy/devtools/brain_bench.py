"""`make bench-brain`: every catalogue brain, side by side in one run: right answers, right tool calls, speed, memory.

Each brain is served by llama.cpp's server (`billy llm-server`, as on the Pi with the llama_cpp engine) and asked
exactly as Billy asks it: the default persona's prompt for that brain's chat profile, the tools Billy offers
(with a song library and Home Assistant, so every tool is there), the profile's sampling, and the same client,
so a call the model writes as text is recovered as in a conversation. Figures per brain: the share of
questions answered right (brain_cases.yaml, judged by brain_checks.py), of tool cases called right, the first
token cold (the first question after the server started: the whole prompt evaluated) and warm (the median over
the rest: the persona and tools cached), tokens per second while writing, and the server's peak resident
memory. `make test` runs a short one on the smallest brain to keep this code honest.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from billy.conversation.history import Conversation
from billy.conversation.pipeline import in_words
from billy.conversation.tools import ToolBox
from billy.devtools.brain_checks import answer_problem, call_problem
from billy.devtools.stack import peak_rss_mib, start_llama_server
from billy.integrations.home_assistant import HomeAssistant
from billy.media.songs import SongLibrary
from billy.models.catalogue import load_catalogue
from billy.persona.library import PersonaLibrary
from billy.persona.people import People
from billy.services.llm.client import ChatClient, TextDelta, ToolCall
from billy.services.llm.profile import profile_for

LOG = logging.getLogger(__name__)
CASES_FILE = "brain_cases.yaml"
# Billy's own reply budget (LLM_MAX_TOKENS' default): what a brain may write for one answer.
MAX_TOKENS = 200
# Songs the tool cases ask for: only their titles reach the model (play_song's description).
SONGS = {"blub_blub_boogie": "Blub Blub Boogie", "river": "Take Me To The River"}


def brains() -> list[str]:
    """The catalogue's brains, smallest file first."""
    catalogue = load_catalogue()
    return [entry.name for entry in catalogue.values() if entry.kind == "gguf"]


def load_cases() -> dict[str, list[dict]]:
    return yaml.safe_load(resources.files("billy.devtools").joinpath(CASES_FILE).read_text())


@dataclass
class Asked:
    """One question's reply and timing."""

    text: str = ""
    calls: list[tuple[str, str]] = field(default_factory=list)
    first_token_s: float | None = None
    tokens: int = 0
    writing_s: float = 0.0


def ask(client: ChatClient, messages: list[dict], tools: list[dict]) -> Asked:
    asked = Asked()
    started = time.perf_counter()
    last = started
    for event in client.stream(messages, tools):
        now = time.perf_counter()
        if asked.first_token_s is None:
            asked.first_token_s = now - started
        if isinstance(event, TextDelta):
            asked.text += event.text
            asked.tokens += 1
            last = now
        elif isinstance(event, ToolCall):
            asked.calls.append((event.name, event.arguments))
    if asked.first_token_s is not None:
        asked.writing_s = last - started - asked.first_token_s
    return asked


def _toolbox(state: Path) -> ToolBox:
    songs = SongLibrary(state)
    for folder, title in SONGS.items():
        (state / "songs" / folder).mkdir(parents=True)
        (state / "songs" / folder / "full.wav").write_bytes(b"")
        (state / "songs" / folder / "metadata.txt").write_text(f"title = {title}\n")
    # Never called here: its presence offers smart_home_command, as on a fish that has Home Assistant.
    toolbox = ToolBox(PersonaLibrary(state), False, songs, HomeAssistant("http://127.0.0.1:9", "token", "en"))
    toolbox.people = People(state)
    return toolbox


def bench_brain(name: str, models_dir: Path, logs: Path, cases: dict[str, list[dict]]) -> dict:
    server = start_llama_server(models_dir, logs / f"llm-{name}.log", name)
    try:
        profile = profile_for(name)
        client = ChatClient(server.base_url, name, timeout=300, max_tokens=MAX_TOKENS, profile=profile)
        with tempfile.TemporaryDirectory() as state:
            toolbox = _toolbox(Path(state))
            conversation = Conversation(toolbox.persona, short_prompt=profile.short_prompt)
            tools = profile.offered(toolbox.schemas())
            questions = [_question(client, conversation, tools, case) for case in cases.get("questions", [])]
            tool_cases = [_tool_case(client, conversation, tools, case) for case in cases.get("tools", [])]
        rss = peak_rss_mib(server.process.pid)
    finally:
        server.stop()
    return _figures(name, questions, tool_cases, profile.tools, rss)


def ask_as_billy(client: ChatClient, messages: list[dict], tools: list[dict]) -> Asked:
    """As Billy's pipeline asks: once more for words when the reply was neither words nor a valid call."""
    asked = ask(client, messages, tools)
    if tools and not asked.text.strip() and not asked.calls:
        again = ask(client, in_words(messages), tools)
        again.first_token_s = None  # not a first token a person would wait for alone
        return again
    return asked


def _question(client: ChatClient, conversation: Conversation, tools: list[dict], case: dict) -> dict:
    asked = ask_as_billy(client, conversation.messages_for(case["ask"]), tools)
    problem = answer_problem(case, asked.text) if not asked.calls else f"called {asked.calls[0][0]}"
    return {"ask": case["ask"], "reply": asked.text.strip(), "calls": asked.calls, "problem": problem, **_timing(asked)}


def _tool_case(client: ChatClient, conversation: Conversation, tools: list[dict], case: dict) -> dict:
    asked = ask_as_billy(client, conversation.messages_for(case["ask"]), tools)
    problem = call_problem(case, asked.calls) if tools else "no tools offered"
    return {"ask": case["ask"], "reply": asked.text.strip(), "calls": asked.calls, "problem": problem, **_timing(asked)}


def _timing(asked: Asked) -> dict:
    return {"first_token_s": asked.first_token_s, "tokens": asked.tokens, "writing_s": asked.writing_s}


def _figures(name: str, questions: list[dict], tool_cases: list[dict], offers_tools: bool, rss: float | None) -> dict:
    asked = questions + tool_cases
    # Only replies in words: a call written as text is held back to its end, so it has no first token to show.
    firsts = [row["first_token_s"] for row in questions if row["first_token_s"] is not None and not row["calls"]]
    speeds = [row["tokens"] / row["writing_s"] for row in asked if row["tokens"] > 4 and row["writing_s"] > 0]
    right = sum(not row["problem"] for row in questions)
    called = sum(not row["problem"] for row in tool_cases)
    return {
        "brain": name,
        "score": round(right / len(questions), 3) if questions else None,
        "right": right,
        "questions": len(questions),
        "tool_score": round(called / len(tool_cases), 3) if tool_cases and offers_tools else None,
        "tools_right": called if offers_tools else None,
        "tool_cases": len(tool_cases),
        "first_token_cold_s": round(firsts[0], 3) if firsts else None,
        "first_token_warm_s": round(statistics.median(firsts[1:]), 3) if len(firsts) > 1 else None,
        "tokens_per_s": round(statistics.median(speeds), 1) if speeds else None,
        "peak_rss_mib": rss,
        "questions_asked": questions,
        "tool_cases_asked": tool_cases,
    }


def run_brain_bench(out: Path, models_dir: Path, names: list[str] | None = None, cases: dict | None = None) -> dict:
    """`make bench-brain`: every catalogue brain (or `names`) on every case (or `cases`), to `out` as JSON."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    cases = cases or load_cases()
    results = [bench_brain(name, models_dir, out.parent / "bench-logs", cases) for name in names or brains()]
    report = {"machine": {"cores": len(os.sched_getaffinity(0))}, "max_tokens": MAX_TOKENS, "brains": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    _print_table(results)
    return report


def _print_table(results: list[dict]) -> None:
    def shown(value, unit: str = "") -> str:
        return "-" if value is None else f"{value}{unit}"

    print(f"{'brain':<20} {'answers':>9} {'tools':>7} {'1st cold':>9} {'1st warm':>9} {'tok/s':>6} {'peak RSS':>9}")
    for row in results:
        tools = "-" if row["tools_right"] is None else f"{row['tools_right']}/{row['tool_cases']}"
        print(
            f"{row['brain']:<20} {row['right']:>4}/{row['questions']:<4} {tools:>7} "
            f"{shown(row['first_token_cold_s'], ' s'):>9} {shown(row['first_token_warm_s'], ' s'):>9} "
            f"{shown(row['tokens_per_s']):>6} {shown(row['peak_rss_mib'], ' MiB'):>9}"
        )
    for row in results:
        wrong = [case for case in row["questions_asked"] + row["tool_cases_asked"] if case["problem"]]
        print(f"\n{row['brain']}: {len(wrong)} wrong")
        for case in wrong:
            print(f"  {case['ask']!r}: {case['problem']} <- {case['reply'][:100]!r} {case['calls'] or ''}")
