"""What Billy does when its turn in his work queue comes: a conversation, a message said, a song sung, a clip
played. The operations table (appliance/operations.py) names which; Billy's loop (appliance/billy.py) calls it,
one at a time, so nothing is ever heard over his own voice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from billy.appliance.turn import Turn
from billy.conversation.draft import AnyOf
from billy.conversation.pipeline import TurnResult, asks
from billy.intents.phrasebook import Phrasebook
from billy.media.songs import SongError
from billy.media.sounds import tone
from billy.persona.persona import PersonaError

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

LOG = logging.getLogger(__name__)
RINGS = 10  # a timer rings this many rounds at most: a minute or so
RING_LISTEN_SECONDS = 3  # between rounds, a word (any) is enough to stop it


def converse(billy: Billy, wake: bool = True, asked: bool = False) -> None:
    """A conversation: a wake-up clip, then listen and answer until the silence says it is over.

    When Billy asked something (his reply ends with a question, or the model said so), a silence does not end
    it at once: he waits through FOLLOW_UP_RETRY_LIMIT more, each after a cue ("Hm?"). `asked`: the conversation
    starts with such a question (an MQTT say that asks one).
    """
    if billy.mic_muted:
        LOG.info("the microphone is muted: not listening")
        return
    billy.interrupt.clear()
    billy.end_session.clear()
    billy.pipeline.conversation.forget()  # a new conversation starts with no history
    if wake:
        clip = billy.sounds.wake(billy.personas.wakeup_dir(billy.persona.name))
        billy.pipeline.player.play(clip.samples, clip.rate, billy.interrupt)
    settings, retries = billy.settings, 0
    while not billy.stopping.is_set() and not billy.end_session.is_set():
        billy.set_state("listening")
        billy.interrupt.clear()
        billy.microphone.flush()  # whatever the microphone caught while Billy spoke is his own voice
        ended = AnyOf(billy.stopping, billy.end_session)
        utterance = billy.listener.listen(
            settings.mic_timeout_seconds,
            ended,
            billy.pipeline.draft,
            billy.pipeline.stream_turn,
            billy.pipeline.prefill,
        )
        if utterance is None:
            if asked and retries < settings.follow_up_retry_limit and not billy.end_session.is_set():
                retries += 1
                LOG.info(
                    "no answer to Billy's question: waiting again (%d of %d)", retries, settings.follow_up_retry_limit
                )
                play_clip(billy, "follow-up")
                continue
            LOG.info("no speech for %.0f s: conversation over", settings.mic_timeout_seconds)
            return
        turn = Turn(billy.pipeline.turn(utterance.pcm, billy.interrupt, utterance.draft), utterance)
        billy.finished(turn)
        result, retries = turn.result, 0
        asked = result.expects_reply if result.expects_reply is not None else asks(result.said)
        while (waiting := billy.work.take_waiting("say")) is not None:  # a message that came meanwhile, now
            speak(billy, waiting["text"], waiting["literal"])
        if settings.run_mode == "dory":
            LOG.info("RUN_MODE=dory: one answer, conversation over")
            return


def speak(billy: Billy, text: str, literal: bool, interactive: bool = False, follow_up: bool = False) -> None:
    """Say `text` word for word, or (not literal) answer it in character; then listen when `interactive`, or
    when `follow_up` and what was said asks something (a Home Assistant announcement asking a question)."""
    billy.interrupt.clear()
    if literal:
        result = TurnResult(heard="")
        billy.pipeline.speak(text, billy.interrupt, result)
    else:
        result = billy.pipeline.reply(TurnResult(heard=text), billy.interrupt)
    billy.reporter.publish_said(result.said)
    question = follow_up and asks(result.said)
    if (interactive or question) and not billy.interrupt.is_set():
        converse(billy, wake=False, asked=question)


def ring(billy: Billy, timer_id: str, name: str, seconds: float, language: str, late: bool) -> None:
    """A timer is done: a bell, Billy's words and his tail, again and again until the button, a word, or
    RINGS rounds. Then the timer is done with (`rung`); a ring cut short by Billy stopping rings again when he
    is back."""
    book = Phrasebook(language)
    key = "timer_done_meanwhile" if late else "timer_done"
    words = book.say(key, billy.persona, duration=book.duration(seconds, adjective=True), name=name)
    billy.reporter.publish_timer_rang(name)
    billy.interrupt.clear()
    # The state stays "speaking" between rounds too, so that the button (Billy.press) stops the ring at any
    # moment: in "listening" a press would wait for the work queue instead.
    billy.set_state("speaking")
    quiet = AnyOf(billy.stopping, billy.interrupt)
    try:
        for _ in range(RINGS):
            billy.fish.flap_tail(0.3)
            bell = billy.sounds.get("timer")
            billy.pipeline.player.play(bell.samples, bell.rate, billy.interrupt)
            billy.pipeline.speak(words, billy.interrupt)
            if quiet.is_set():
                break
            billy.microphone.flush()
            if billy.listener.listen(RING_LISTEN_SECONDS, quiet) is not None:
                LOG.info("the timer's ring was answered: quiet now")
                break
    finally:
        billy.fish.stop_all()
        if not billy.stopping.is_set():
            billy.timers.rung(timer_id)


def sing(billy: Billy, name: str) -> None:
    try:
        song = billy.songs.load(name)
    except SongError as error:
        LOG.warning("song not played: %s", error)
        return
    billy.interrupt.clear()
    billy.set_state("playing_song")
    LOG.info("playing the song %s", song.title)
    billy.reporter.publish_song_last(song.name)
    billy.pipeline.player.play_song(song, billy.interrupt)


def play_wakeup(billy: Billy, index: int, persona: str | None) -> None:
    """Wake-up clip `index` of a persona (the original's `billy/wakeup/play`)."""
    try:
        name = billy.personas.find(persona) if persona else billy.persona.name
    except PersonaError as error:
        LOG.warning("wake-up clip not played: %s", error)
        return
    clip = billy.sounds.wakeup_clip(index, billy.personas.wakeup_dir(name))
    if clip is None:
        LOG.warning("wake-up clip %d of persona %s not found", index, name)
        return
    billy.interrupt.clear()
    billy.pipeline.player.play(clip.samples, clip.rate, billy.interrupt)


def play_clip(billy: Billy, name: str) -> None:
    """A wake-up or error clip by name, or `tone` (the speaker test)."""
    billy.interrupt.clear()
    clip = tone(1.0, 440) if name == "tone" else billy.sounds.get(name)
    billy.set_state("speaking")
    billy.pipeline.player.play(clip.samples, clip.rate, billy.interrupt)
