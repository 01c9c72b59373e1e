"""The brain bench (`make bench-brain`): its judges on replies whose verdict is known, and a short real run on the
smallest brain, served by llama.cpp's server, as `make bench-brain` runs every brain."""

from __future__ import annotations

import json

import pytest

from billy.devtools.brain_bench import brains, load_cases, run_brain_bench
from billy.devtools.brain_checks import answer_problem, call_problem, form_problem


def test_the_bench_has_forty_checkable_questions_and_ten_tool_cases():
    cases = load_cases()
    assert len(cases["questions"]) >= 40 and len(cases["tools"]) >= 10
    assert all({"any", "unknown", "form"} & set(case) for case in cases["questions"])
    assert {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"} <= set(brains())


@pytest.mark.parametrize(
    ("case", "reply", "right"),
    [
        ({"any": ["paris"]}, "It's Paris, of course!", True),
        ({"any": ["paris"]}, "The Capital City... I'm not sure what kinda city it actually was.", False),
        ({"any": ["paris"]}, "Comparison is the thief of joy.", False),  # a word inside another is not it
        ({"any": ["12", "twelve"]}, "Seven plus five is 12.", True),
        ({"any": ["12", "twelve"]}, "That makes 120, I think.", False),
        ({"any": ["54", "fifty-four"]}, "Fifty-four, says the fish.", True),
        ({"unknown": True}, "I can't read your mind, I'm a fish!", True),
        ({"unknown": True}, "You are thinking of 7.", False),
        ({"form": True}, "I'm great, the water's fine today!", True),
        ({"form": True}, "As an AI language model, I do not have feelings.", False),
        ({"form": True}, "Great. Fine. Wet. Happy.", False),
        ({"form": True}, "The weather is nice.", False),
    ],
)
def test_the_judges_on_replies_whose_verdict_is_known(case, reply, right):
    assert (answer_problem(case, reply) == "") is right


def test_the_form_judge_says_why():
    assert form_problem("Hello. How can I assist you today?") == "assistant phrase 'how can i assist'"
    assert form_problem("One. Two. Three, I say.") == "3 sentences"


def test_the_call_judge_wants_the_tool_and_its_words():
    case = {"call": "smart_home_command", "contains": {"prompt": ["kitchen", "light"]}}
    assert call_problem(case, [("smart_home_command", '{"prompt": "Turn on the Kitchen Light"}')]) == ""
    assert call_problem(case, [("play_song", '{"song": "x"}')]) == "called play_song"
    assert "without prompt~light" in call_problem(case, [("smart_home_command", '{"prompt": "kitchen"}')])
    assert call_problem(case, []) == "no call"
    anything = {"call": "update_personality", "contains": {"sarcasm": []}}
    assert call_problem(anything, [("update_personality", '{"sarcasm": 90}')]) == ""
    assert call_problem(anything, [("update_personality", '{"humor": 90}')]) != ""


@pytest.mark.slow
def test_a_short_bench_on_the_smallest_brain(models_dir, tmp_path):
    cases = load_cases()
    short = {"questions": cases["questions"][:3], "tools": cases["tools"][:1]}
    out = tmp_path / "bench-brain.json"
    report = run_brain_bench(out, models_dir, ["smollm2-135m"], short)
    assert json.loads(out.read_text()) == report
    (row,) = report["brains"]
    assert row["brain"] == "smollm2-135m" and row["questions"] == 3 and row["tool_cases"] == 1
    assert 0 <= row["right"] <= 3 and row["score"] == round(row["right"] / 3, 3)
    assert row["tool_score"] is None  # its chat profile offers no tools
    assert all(case["reply"] for case in row["questions_asked"])
    assert row["first_token_warm_s"] > 0 and row["first_token_cold_s"] > 0
    assert row["tokens_per_s"] > 0 and row["peak_rss_mib"] > 50


def test_each_brain_is_offered_the_tools_its_profile_allows():
    from billy.services.llm.profile import profile_for

    tools = [{"type": "function", "function": {"name": name}} for name in ("play_song", "conversation_state")]
    assert profile_for("smollm2-135m").offered(tools) == []
    assert [tool["function"]["name"] for tool in profile_for("qwen2.5-coder-1.5b").offered(tools)] == ["play_song"]
    assert profile_for("some-ollama-model:7b").offered(tools) == tools


def test_a_machine_gets_the_best_brain_its_memory_holds_and_is_told_why():
    from billy.models.brains import best_brain

    assert best_brain(7800).brain == "qwen2.5-coder-1.5b"
    pi_with_two_gib = best_brain(1850)  # a Pi 4 with 2 GiB: MemTotal about 1.8 GiB
    assert pi_with_two_gib.brain != "qwen2.5-coder-1.5b" and "qwen2.5-coder-1.5b needs about" in pi_with_two_gib.reason
    assert best_brain(300).brain == "smollm2-135m"
