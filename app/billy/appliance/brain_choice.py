"""Which brain answers: BRAIN from the settings, or the one chosen in Home Assistant or on the web page while
Billy runs. A choice takes effect at the next turn, without a restart, and is kept in the state directory (as
the persona is), so it survives one; the settings' BRAIN is where a new card starts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from billy.conversation.realtime_turn import RealtimeBrain
from billy.hearing.eagerness import SERVER_SILENCE_MS
from billy.services.llm.cloud import realtime_voice
from billy.settings.kinds import ConfigError
from billy.settings.read import Settings
from billy.settings.schema import BRAINS

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

CHOICE_FILE = "brain"
LOG = logging.getLogger(__name__)


def remembered(settings: Settings) -> str:
    """The brain last chosen while Billy ran, else BRAIN. The file also keeps the BRAIN it was chosen over: once
    the owner sets BRAIN anew (settings page, boot file, playbook), the setting wins and the old choice goes."""
    path = Path(settings.billy_state_dir) / CHOICE_FILE
    try:
        chosen, over = path.read_text().split()
    except (OSError, ValueError):
        return settings.brain
    if chosen in BRAINS and over == settings.brain:
        return chosen
    path.unlink(missing_ok=True)
    return settings.brain


def brain_for(settings: Settings, name: str) -> RealtimeBrain | None:
    """The Realtime brain for `name` (realtime: it answers first; hybrid: when a local stage fails), or None for
    the local pipeline alone; ConfigError if the cloud lacks its key."""
    if name == "local":
        return None
    return RealtimeBrain(
        realtime_voice(settings),
        settings.realtime_daily_cap_minutes,
        answers_first=name == "realtime",
        vad_silence_ms=SERVER_SILENCE_MS[settings.turn_eagerness],
    )


def switch_brain(billy: Billy, name: str) -> dict:
    """The operation behind Home Assistant's "Billy Brain" select and the web page's: ValueError names the
    allowed brains, or the key the cloud needs."""
    if name not in BRAINS:
        raise ValueError(f"unknown brain {name!r}: allowed values are {', '.join(BRAINS)}")
    try:
        billy.pipeline.realtime = brain_for(billy.settings, name)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    path = Path(billy.settings.billy_state_dir) / CHOICE_FILE
    if name == billy.settings.brain:
        path.unlink(missing_ok=True)  # back to what the settings say: nothing to remember
    else:
        path.write_text(f"{name} {billy.settings.brain}\n")
    LOG.info("brain: now %s, from the next turn", name)
    return {"brain": name}


def brain_of(billy: Billy) -> str:
    brain = billy.pipeline.realtime
    if brain is None:
        return "local"
    return "realtime" if brain.answers_first else "hybrid"
