"""What Billy does when its turn in his work queue comes: a conversation, a message said, a song sung, a clip
played. The operations table (appliance/operations.py) names which; Billy's loop (appliance/billy.py) calls it,
one at a time, so nothing is ever heard over his own voice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from billy.appliance.turn import Turn
from billy.conversation.draft import AnyOf
from billy.conversation.pipeline import TurnResult
from billy.media.songs import SongError
from billy.media.sounds import tone
from billy.persona.persona import PersonaError

if TYPE_CHECKING:
    from billy.appliance.billy import Billy

LOG = logging.getLogger(__name__)


def converse(billy: Billy, wake: bool = True) -> None:
    """A conversation: a wake-up clip, then listen and answer until the silence says it is over."""
    if billy.mic_muted:
        LOG.info("the microphone is muted: not listening")
        return
    billy.interrupt.clear()
    billy.end_session.clear()
    billy.pipeline.conversation.forget()  # a new conversation starts with no history
    if wake:
        clip = billy.sounds.wake(billy.personas.wakeup_dir(billy.persona.name))
        billy.pipeline.player.play(clip.samples, clip.rate, billy.interrupt)
    settings = billy.settings
    while not billy.stopping.is_set() and not billy.end_session.is_set():
        billy.set_state("listening")
        billy.interrupt.clear()
        billy.microphone.flush()  # whatever the microphone caught while Billy spoke is his own voice
        ended = AnyOf(billy.stopping, billy.end_session)
        utterance = billy.listener.listen(settings.mic_timeout_seconds, ended, billy.pipeline.draft)
        if utterance is None:
            LOG.info("no speech for %.0f s: conversation over", settings.mic_timeout_seconds)
            return
        turn = Turn(billy.pipeline.turn(utterance.pcm, billy.interrupt, utterance.draft), utterance)
        billy.finished(turn)
        while (waiting := billy.work.take_waiting("say")) is not None:  # a message that came meanwhile, now
            speak(billy, waiting["text"], waiting["literal"])
        if settings.run_mode == "dory":
            LOG.info("RUN_MODE=dory: one answer, conversation over")
            return


def speak(billy: Billy, text: str, literal: bool, interactive: bool = False) -> None:
    """Say `text` word for word, or (not literal) answer it in character; interactive: listen afterwards."""
    billy.interrupt.clear()
    if literal:
        result = TurnResult(heard="")
        billy.pipeline.speak(text, billy.interrupt, result)
    else:
        result = billy.pipeline.reply(TurnResult(heard=text), billy.interrupt)
    billy.reporter.publish_said(result.said)
    if interactive and not billy.interrupt.is_set():
        converse(billy, wake=False)


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
