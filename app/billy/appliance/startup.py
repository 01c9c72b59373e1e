"""Billy's start after power-on: `starting` until every service he uses answers, then "ready", once."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from billy.appliance.doctor import run_check, stage_checks
from billy.appliance.update_entity import undone_update_notice

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

LOG = logging.getLogger(__name__)


def wait_for_services(billy: Billy, poll_seconds: float = 1.0) -> bool:
    """Stay `starting` until every stage Billy uses first answers its health check, so the first question after
    power-on never meets a service still loading its model. False if Billy was stopped meanwhile."""
    billy.set_state("starting")
    waiting_for: list[str] = []
    while not billy.stopping.is_set():
        down = [check for check in (run_check(n, p) for n, p in stage_checks(billy.settings)) if not check.up]
        if not down:
            LOG.info("every service answers: Billy listens")
            return True
        if [check.name for check in down] != waiting_for:
            waiting_for = [check.name for check in down]
            LOG.info("waiting for %s", "; ".join(f"{check.name}: {check.detail}" for check in down))
        billy.stopping.wait(poll_seconds)
    return False


def announce_ready(billy: Billy) -> None:
    """Say "ready" once, when the services answer: an owner hears that Billy can be talked to."""
    ready = billy.sounds.get("ready")
    if billy.settings.flap_on_boot:  # the original's FLAP_ON_BOOT: two flaps as the sound plays
        threading.Thread(target=_flap_twice, args=(billy,), name="flap-on-boot", daemon=True).start()
    billy.pipeline.player.play(ready.samples, ready.rate, billy.interrupt)
    notice = undone_update_notice(billy.settings.billy_state_dir)
    if notice:  # said in turn by his work loop, right after the ready sound
        billy.enqueue("say", {"text": notice, "literal": True, "interactive": False, "follow_up": False})


def _flap_twice(billy: Billy) -> None:
    for _ in range(2):
        billy.fish.flap_tail()
        time.sleep(0.15)
