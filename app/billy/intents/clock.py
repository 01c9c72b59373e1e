"""Billy's own intents about time: what time and day it is, and kitchen timers (intents/timers.py)."""

from __future__ import annotations

from collections.abc import Callable

from billy.conversation.answer import Answer
from billy.intents.asked import BY, Asked
from billy.intents.timers import Timer


def _seconds(slots: dict, prefix: str = "") -> float:
    total = 0.0
    for unit, size in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
        value = slots.get(prefix + unit)
        if value is not None:
            total += float(value) * size
    return total


def time(asked: Asked) -> Answer:
    return asked.say("time", time=asked.book.clock(asked.abilities.now()))


def date(asked: Asked) -> Answer:
    return asked.say("date", date=asked.book.date(asked.abilities.now()))


def start_timer(asked: Asked) -> Answer:
    seconds, name = _seconds(asked.match.slots), str(asked.match.slots.get("name", ""))
    try:
        asked.abilities.timers.add(seconds, name, asked.book.language)
    except ValueError:
        return asked.say("timer_full")
    return asked.say("timer_started", duration=asked.book.duration(seconds, adjective=True), name=name)


def _chosen(asked: Asked) -> list[Timer]:
    """The timers a request means: by name, by the length it was set for, else all."""
    slots = asked.match.slots
    return asked.abilities.timers.find(str(slots.get("name", "")), _seconds(slots, prefix="start_"))


def cancel_timer(asked: Asked) -> Answer:
    timers = _chosen(asked)[-1:]
    if not timers:
        return asked.say("timer_none")
    asked.abilities.timers.cancel(timers)
    return asked.say("timer_cancelled", name=timers[0].name)


def cancel_all_timers(asked: Asked) -> Answer:
    timers = asked.abilities.timers.timers()
    if not timers:
        return asked.say("timer_none")
    asked.abilities.timers.cancel(timers)
    return asked.say("timer_cancelled_all", count=len(timers))


def timer_status(asked: Asked) -> Answer:
    timers = _chosen(asked)
    if not timers:
        return asked.say("timer_none")
    now, book = asked.abilities.timers.clock(), asked.book
    persona = asked.abilities.personas.persona
    said = [book.say("timer_left", persona, left=book.duration(t.left(now)), name=t.name) for t in timers]
    return Answer(BY, " ".join(said))


def _change(asked: Asked, change: Callable[[list[Timer]], None], key: str) -> Answer:
    timers = _chosen(asked)[-1:]
    if not timers:
        return asked.say("timer_none")
    change(timers)
    left = timers[0].left(asked.abilities.timers.clock())
    return asked.say(key, name=timers[0].name, left=asked.book.duration(left))


def pause_timer(asked: Asked) -> Answer:
    return _change(asked, asked.abilities.timers.pause, "timer_paused")


def resume_timer(asked: Asked) -> Answer:
    return _change(asked, asked.abilities.timers.resume, "timer_resumed")


HANDLERS = {
    "HassGetCurrentTime": time,
    "HassGetCurrentDate": date,
    "HassStartTimer": start_timer,
    "HassCancelTimer": cancel_timer,
    "HassCancelAllTimers": cancel_all_timers,
    "HassTimerStatus": timer_status,
    "HassPauseTimer": pause_timer,
    "HassUnpauseTimer": resume_timer,
}
