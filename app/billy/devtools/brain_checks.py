"""The brain bench's judges: is a reply right, does it say "I don't know", is it in Billy's form, is a call right.

Each returns a reason when the reply fails ("" when it passes), so the report says why, not only how many.
"""

from __future__ import annotations

import json
import re

# What a fish on a wall says and an assistant product says: never heard from Billy.
ASSISTANT_PHRASES = (
    "as an ai",
    "language model",
    "i am an ai",
    "i'm an ai",
    "virtual assistant",
    "how can i assist",
    "how may i assist",
    "i'm here to help",
    "i am here to help",
    "feel free to ask",
)
# How a reply admits that nobody could know.
NOT_KNOWING = re.compile(
    r"\b(don'?t|do not|can'?t|cannot|can not|couldn'?t|could not|won'?t|no way to|have no|no idea|not sure|"
    r"impossible|unable|guess|only you|you tell me|wish i knew|no clue)\b",
    re.IGNORECASE,
)
FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
MOST_SENTENCES = 2


def _words(text: str) -> str:
    """Lower case, curly quotes straightened, each word between single spaces (for whole-word matching)."""
    text = text.lower().replace("\u2019", "'")
    return " " + " ".join(word.strip(",'-") for word in re.findall(r"[a-z0-9',-]+", text)) + " "


def sentences(reply: str) -> int:
    return len([part for part in SENTENCE_END.split(reply.strip()) if part.strip()])


def answer_problem(case: dict, reply: str) -> str:
    """Why `reply` does not answer a question case ("" when it does)."""
    if not reply.strip():
        return "no reply"
    if "any" in case:
        heard = _words(reply)
        wanted = [str(option).lower() for option in case["any"]]
        if any(f" {option} " in heard for option in wanted):
            return ""
        return f"none of {wanted}"
    if case.get("unknown"):
        return "" if NOT_KNOWING.search(reply) else "claims to know what nobody could"
    if case.get("form"):
        return form_problem(reply)
    raise ValueError(f"a question case needs any, unknown or form: {case}")


def form_problem(reply: str) -> str:
    """Why `reply` is not in Billy's form: at most two sentences, first person, no assistant phrases."""
    lowered = reply.lower().replace("\u2019", "'")
    said = [phrase for phrase in ASSISTANT_PHRASES if phrase in lowered]
    if said:
        return f"assistant phrase {said[0]!r}"
    if sentences(reply) > MOST_SENTENCES:
        return f"{sentences(reply)} sentences"
    if not FIRST_PERSON.search(reply):
        return "not in the first person"
    return ""


def call_problem(case: dict, calls: list[tuple[str, str]]) -> str:
    """Why `calls` (name, arguments JSON) do not make the call a tool case wants ("" when one does)."""
    if not calls:
        return "no call"
    reasons = []
    for name, arguments in calls:
        if name != case["call"]:
            reasons.append(f"called {name}")
            continue
        try:
            given = json.loads(arguments or "{}")
        except ValueError:
            reasons.append(f"{name} with arguments that are not JSON")
            continue
        missing = [
            f"{key}~{word}"
            for key, words in case.get("contains", {}).items()
            for word in (words or [""])
            if key not in given or word.lower() not in str(given[key]).lower()
        ]
        if not missing:
            return ""
        reasons.append(f"{name} without {', '.join(missing)}")
    return "; ".join(reasons)
