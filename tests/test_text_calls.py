"""A tool call a small model wrote as text (services/llm/text_calls.py): taken when it names an offered tool with
arguments that fit, dropped otherwise, and a reply that is not shaped like a call streams on at once."""

from __future__ import annotations

import json

import pytest

from billy.services.llm.events import CutOff, Overtime, TextDelta, ToolCall
from billy.services.llm.text_calls import recover

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "play_song",
            "parameters": {
                "type": "object",
                "properties": {"title": {"type": "string", "enum": ["Fishsticks", "Take Me to the River"]}},
                "required": ["title"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "update_personality",
            "parameters": {
                "type": "object",
                "properties": {"humor": {"type": "integer", "minimum": 0, "maximum": 100}},
                "required": [],
            },
        },
    },
]


def _deltas(text: str, size: int = 3) -> list[TextDelta]:
    """The reply as a server streams it: a few characters a delta."""
    return [TextDelta(text[start : start + size]) for start in range(0, len(text), size)]


def _calls(events) -> list[tuple[str, dict]]:
    return [(event.name, json.loads(event.arguments)) for event in events if isinstance(event, ToolCall)]


@pytest.mark.parametrize(
    "reply",
    [
        '{"name": "play_song", "arguments": {"title": "Fishsticks"}}',
        '  <tool_call>\n{"name": "play_song", "arguments": {"title": "Fishsticks"}}\n</tool_call>',
        '```json\n{"name": "play_song", "arguments": {"title": "Fishsticks"}}\n```',
        '{"function": "play_song", "parameters": {"title": "Fishsticks"}}',
        '{"type": "function", "function": {"name": "play_song", "arguments": "{\\"title\\": \\"Fishsticks\\"}"}}',
        '[{"name": "play_song", "arguments": {"title": "Fishsticks"}}]',
        '{{"name": "play_song", "arguments": {"title": "Fishsticks"}}}',  # Qwen 1.5B through llama.cpp
        '<tools>\n{"name": "play_song", "arguments": {"title": "Fishsticks"}}\n</tools>',
        '{"name": "play_song", "arguments": {"title": "Fishsticks"}}}',
    ],
)
def test_a_call_written_as_text_becomes_a_call(reply):
    events = list(recover(iter(_deltas(reply)), TOOLS))
    assert _calls(events) == [("play_song", {"title": "Fishsticks"})]
    assert not [event for event in events if isinstance(event, TextDelta)]


def test_two_calls_in_one_reply_are_both_taken():
    reply = (
        '{"name": "update_personality", "arguments": {"humor": 80}}\n'
        '{"name": "play_song", "arguments": {"title": "Fishsticks"}}'
    )
    assert _calls(recover(iter(_deltas(reply)), TOOLS)) == [
        ("update_personality", {"humor": 80}),
        ("play_song", {"title": "Fishsticks"}),
    ]
    doubled = reply.replace("{", "{{").replace("}", "}}")  # as Qwen 0.5B writes them
    assert len(_calls(recover(iter(_deltas(doubled)), TOOLS))) == 2


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ('{"name": "run_shell", "arguments": {"command": "reboot"}}', "not a tool Billy offered"),
        ('{"name": "play_song", "arguments": {"title": "Never Gonna Give You Up"}}', "is not one of"),
        ('{"name": "play_song", "arguments": {}}', "missing ['title']"),
        ('{"name": "play_song", "arguments": {"title": "Fishsticks", "loud": true}}', "unknown ['loud']"),
        ('{"name": "update_personality", "arguments": {"humor": 300}}', "out of range"),
        ('{"name": "update_personality", "arguments": {"humor": true}}', "is not a integer"),
        ('{"name": "play_song", "arguments": {"title": "Fishsticks"}} and then some', "not JSON"),
        ('{"name": "play_song", "arguments": {"title": ', "not JSON"),
        ('[}{"name": "play_song", "arguments": {"title": "Fishsticks"}}]', "not JSON"),
        ('{"name": "play_song", "arguments": {"title": "Fishsticks"}}\n{"name": "run_shell"}', "not a tool"),
    ],
)
def test_anything_else_shaped_like_a_call_is_never_run_nor_read_aloud(reply, why, caplog):
    events = list(recover(iter(_deltas(reply)), TOOLS))
    assert events == []
    assert why in caplog.text


def test_a_plain_reply_streams_on_from_its_first_word():
    """Not held back: the first delta that shows it is not a call goes out, and every later one as it comes."""
    source = iter([TextDelta(" "), TextDelta("Hi"), TextDelta(" there."), Overtime(), TextDelta(" Bye.")])
    stream = recover(source, TOOLS)
    assert next(stream) == TextDelta(" Hi")
    assert list(stream) == [TextDelta(" there."), Overtime(), TextDelta(" Bye.")]


def test_a_reply_that_only_begins_like_a_tag_is_spoken():
    spoken = "".join(event.text for event in recover(iter(_deltas("<3 I love the river.")), TOOLS))
    assert spoken == "<3 I love the river."


def test_the_servers_own_calls_and_cut_pass_through_while_a_text_call_is_held():
    server_call = ToolCall("call_0", "play_song", '{"title": "Fishsticks"}')
    events = list(recover(iter([TextDelta("{"), Overtime(), CutOff(), server_call]), TOOLS))
    assert events == [CutOff(), server_call]  # the held "{" alone is no call: dropped
