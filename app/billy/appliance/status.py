"""Billy as the web page's dashboard shows him: state, volume, button, who is talking, his last turns with their
latency, who answered them, and the timers running (the control socket's `status`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billy.appliance.brain_choice import brain_of
from billy.settings.schema import BRAINS

if TYPE_CHECKING:
    from billy.appliance.billy import Billy


def status_of(billy: Billy) -> dict:
    now = billy.timers.clock() if billy.timers is not None else 0
    timers = billy.timers.timers() if billy.timers is not None else []
    return {
        "state": billy.state,
        "volume": billy.volume,
        "mic_muted": billy.mic_muted,
        "button_pressed": bool(billy.button.is_pressed) if billy.button is not None else None,
        "model": billy.settings.billy_model,
        "persona": billy.persona.name,
        "user": billy.user,
        "turns": [turn.summary() for turn in billy.recent_turns],
        "answered_by": dict(billy.answered_by),
        "timers": [{"name": t.name, "left_s": round(t.left(now)), "paused": t.paused} for t in timers],
        "brain": brain_of(billy),
        "brains": list(BRAINS),
        "cloud": _cloud(billy),
    }


def _cloud(billy: Billy) -> dict | None:
    """BRAIN=realtime or hybrid: the Realtime voice's provider, today's usage, and why not, if it does not answer."""
    brain = billy.pipeline.realtime
    if brain is None:
        return None
    return {"provider": brain.voice.provider, "model": brain.voice.model, **brain.report()}
