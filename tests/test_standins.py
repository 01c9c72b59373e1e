"""The LLM stand-in's script is a list of conversation steps: a request Billy redoes with more words (a draft
dropped when the user went on) gets the reply the draft took, and any other request the next one."""

from __future__ import annotations

import httpx
import pytest

from standins import Reply, ScriptedLlm

SYSTEM = {"role": "system", "content": "You are Billy."}


@pytest.fixture
def standin():
    server = ScriptedLlm()
    yield server
    server.close()


def _said(standin: ScriptedLlm, question: str) -> str:
    body = {"model": standin.model, "stream": True, "messages": [SYSTEM, {"role": "user", "content": question}]}
    with httpx.Client(timeout=10) as client:
        lines = client.post(standin.base_url + "/chat/completions", json=body).text.splitlines()
    return "".join(
        httpx.Response(200, content=line[6:]).json()["choices"][0]["delta"].get("content") or ""
        for line in lines
        if line.startswith("data: {")
    )


def test_the_whole_question_gets_the_reply_its_dropped_draft_took(standin):
    standin.then(Reply("Of course."), Reply("Next."))
    assert _said(standin, "Could you do some") == "Of course."
    assert _said(standin, "Could you do something for me?") == "Of course."
    assert _said(standin, "Tell me a joke.") == "Next."


def test_a_new_question_after_one_gets_the_next_reply(standin):
    standin.then(Reply("Too late."), Reply("On time."))
    assert _said(standin, "What time is it?") == "Too late."
    assert _said(standin, "What time is it?") == "On time."
    assert _said(standin, "Anything else?") == standin.default.text


def test_a_reply_keyed_to_the_whole_question_wins_over_the_drafts(standin):
    standin.then(Reply("Half."), Reply("Paris.", when="France"))
    assert _said(standin, "What is the capital of") == "Half."
    assert _said(standin, "What is the capital of France?") == "Paris."
