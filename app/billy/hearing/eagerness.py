"""`TURN_EAGERNESS`, the original's setting: how soon Billy takes his turn once you stop talking.

The original gave it to the Realtime API's voice detector as a fixed silence (high 250 ms, medium 1000 ms, low
1500 ms). Here the end of a turn has three waits (`END_OF_TURN_COMPLETE_MS` after a sentence that sounds
finished, `END_OF_SPEECH_MS` when the judge is unsure, `END_OF_TURN_INCOMPLETE_MS` mid-sentence), so the
eagerness scales all three: "high" takes the turn after 0.6 of each (240 ms after a finished question with the
defaults, as the original's 250), "low" after 1.5 of each (its low/medium ratio), "medium" as set.

A Realtime turn streamed to the cloud (BRAIN=realtime) ends as the original's did: the server's voice detector
waits the original's silence for the eagerness.
"""

from __future__ import annotations

FACTORS = {"low": 1.5, "medium": 1.0, "high": 0.6}
SERVER_SILENCE_MS = {"low": 1500, "medium": 1000, "high": 250}


def scaled(milliseconds: int, eagerness: str) -> int:
    """A wait of `milliseconds` at this eagerness."""
    return round(milliseconds * FACTORS[eagerness])
