"""`billy run`: the appliance's main loop, wiring ears, brain, voice and body together.

A button press (or, on a hardware-less host, a WAV dropped into the spool inbox, or `listen` over MQTT) starts
a session: a wake-up clip, then listen, answer, listen again until `MIC_TIMEOUT_SECONDS` pass in silence (with
`RUN_MODE=dory`, after one answer). A press while Billy speaks stops him at once and he listens again.
Messages to say, songs and wake-up clips asked for over MQTT wait in the same work queue, so they play in
order and never over Billy's own voice.
"""

from __future__ import annotations

import logging
import queue
import shlex
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from billy.appliance.memory import release_freed_memory
from billy.audio.devices import Microphone
from billy.audio.pcm import loudness
from billy.body.fish import Fish
from billy.conversation.draft import AnyOf
from billy.conversation.pipeline import Pipeline, TurnResult
from billy.hearing.listening import Listener, Utterance
from billy.integrations.mqtt.link import MqttLink
from billy.media.songs import SongError, SongLibrary
from billy.media.sounds import SoundBank, tone
from billy.persona.library import PersonaLibrary
from billy.persona.persona import PersonaError
from billy.settings.settings import Settings

STATES = ("starting", "idle", "listening", "thinking", "speaking", "playing_song", "error")
BUSY = ("speaking", "playing_song", "thinking")
# Says waiting behind Billy's current work; more are dropped with a warning, so a flood of `billy/say` (a
# runaway automation) cannot keep him talking for hours or grow memory without bound.
MAX_WAITING_SAYS = 10
RECENT_TURNS = 10  # what the status (the web page's dashboard) shows
MIC_LEVEL_SECONDS = 0.5
MIC_LEVEL_CHUNKS = 10  # read in short pieces, so a press during a reading shares the microphone for 50 ms at most
LOG = logging.getLogger(__name__)


@dataclass
class Turn:
    result: TurnResult
    utterance: Utterance

    @property
    def speech_ended_at(self) -> float:
        return self.utterance.ended_at

    @property
    def first_sound_s(self) -> float | None:
        at = self.result.first_sound_at
        return None if at is None else at - self.speech_ended_at

    def summary(self) -> dict:
        """Words and latency figures (seconds after the end of speech) for the status."""
        marks = {**self.result.marks, "first_sound": self.result.first_sound_at}
        return {
            "heard": self.result.heard,
            "said": self.result.said,
            "error": self.result.failed_stage,
            "latency": {
                name: None if marks.get(name) is None else round(marks[name] - self.speech_ended_at, 3)
                for name in ("transcribed", "first_token", "first_sentence", "first_sound")
            },
        }


class NullReporter:
    """Where state and words go when MQTT is off."""

    def publish_state(self, state: str) -> None: ...

    def publish_heard(self, text: str) -> None: ...

    def publish_said(self, text: str) -> None: ...

    def publish_song_last(self, name: str) -> None: ...


class Billy:
    def __init__(
        self,
        settings: Settings,
        microphone: Microphone,
        pipeline: Pipeline,
        listener: Listener,
        fish: Fish,
        sounds: SoundBank,
        personas: PersonaLibrary,
        songs: SongLibrary,
        reporter=None,
    ) -> None:
        # Callbacks, so Billy himself keeps no history (he runs for months): the spool writes replies from
        # turn_observers, the demo and the tests record what they need.
        self.turn_observers: list[Callable[[Turn], None]] = []
        self.recent_turns: deque[Turn] = deque(maxlen=RECENT_TURNS)  # the dashboard's; bounded, for months of use
        self.state_observers: list[Callable[[str], None]] = []
        self.settings = settings
        self.microphone = microphone
        self.pipeline = pipeline
        self.listener = listener
        self.fish = fish
        self.sounds = sounds
        self.personas = personas
        self.persona = personas.persona  # live: a persona switch reloads it in place
        self.songs = songs
        self.reporter = reporter or NullReporter()
        self.state = "idle"
        self.mic_muted = False
        self.button = None  # the gpiozero Button, once wired: its state is part of the status
        self.volume = pipeline.player.volume = settings.billy_volume
        self.interrupt = threading.Event()
        self.stopping = threading.Event()
        self.end_session = threading.Event()
        self._work: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self.link: MqttLink | None = None  # attached by start_billy
        self.button = None
        self.wake_word = None  # the WakeWordWatcher when WAKE_WORD_ENABLED
        self._mic_level_lock = threading.Lock()  # one reading at a time: the web page's meter may be open twice
        pipeline.on_state = self.set_state
        pipeline.on_song = lambda name: self.reporter.publish_song_last(name)

    # -- inputs: button, MQTT -------------------------------------------------------------------------

    def press(self) -> None:
        """The button: start a session, or cut Billy off if he is talking, thinking or singing."""
        if self.state in BUSY:
            LOG.info("button: stopping Billy")
            self.interrupt.set()
        elif not self._busy.is_set():
            self._work.put(("session",))

    def say(self, text: str, literal: bool = True, interactive: bool = False) -> None:
        self._queue_play(("say", text, literal, interactive), "a message to say")

    def play_song(self, name: str) -> None:
        self._queue_play(("song", name), f"the song {name!r}")

    def play_wakeup(self, index: int, persona: str | None = None) -> None:
        self._queue_play(("wakeup", index, persona), f"wake-up clip {index}")

    def _queue_play(self, item: tuple, what: str) -> None:
        with self._work.mutex:
            waiting = sum(1 for queued in self._work.queue if queued[0] != "session")
        if waiting >= MAX_WAITING_SAYS:
            LOG.warning("dropped %s: %d are already waiting", what, waiting)
            return
        self._work.put(item)

    def sing(self, name: str) -> None:
        """Sing a song after the current work; an unknown name raises SongError at once (the web page says so)."""
        self.play_song(self.songs.find(name).name)

    def play_clip(self, name: str) -> None:
        """A wake-up or error clip, or `tone` (the speaker test)."""
        if name != "tone" and not (self.sounds.directory / f"{name}.wav").is_file():
            raise LookupError(f"no clip called {name!r} in {self.sounds.directory}")
        self._queue_play(("clip", name), f"the clip {name!r}")

    def mic_level(self) -> float:
        """Loudness (RMS, 0..1 of full scale) of half a second of microphone, for the wiring test's meter."""
        busy = LookupError("Billy is busy with the microphone; try again when he is idle")
        chunk = int(self.microphone.rate * MIC_LEVEL_SECONDS / MIC_LEVEL_CHUNKS)
        with self._mic_level_lock:
            pieces = []
            for _ in range(MIC_LEVEL_CHUNKS):
                if not self.idle or self.state != "idle":
                    raise busy  # a turn started: the microphone is the listener's now
                pieces.append(self.microphone.read(chunk))
        return round(float(loudness(np.concatenate(pieces))), 4)

    def status(self) -> dict:
        return {
            "state": self.state,
            "volume": self.volume,
            "mic_muted": self.mic_muted,
            "button_pressed": bool(self.button.is_pressed) if self.button is not None else None,
            "model": self.settings.billy_model,
            "persona": self.persona.name,
            "turns": [turn.summary() for turn in self.recent_turns],
        }

    def stop_talking(self) -> None:
        if self.state in BUSY:
            self.interrupt.set()

    def listen(self) -> None:
        """The original's `listen` command: start a session, or end the one running."""
        if self._busy.is_set():
            LOG.info("listen: ending the session")
            self.end_session.set()
            self.interrupt.set()
        else:
            self.press()

    def run_command(self, name: str) -> None:
        if name == "stop":
            self.stop_talking()
            return
        if name == "listen":
            self.listen()
            return
        settings = self.settings
        if name in ("shutdown", "reboot") and not settings.billy_mqtt_power_commands:
            LOG.warning("%s refused: BILLY_MQTT_POWER_COMMANDS is false", name)
            return
        command = {
            "shutdown": settings.billy_shutdown_command,
            "reboot": settings.billy_reboot_command,
            "restart-billy": settings.billy_restart_command,
            "restart": settings.billy_restart_command,
        }[name]
        LOG.warning("%s requested: running %s", name, command)
        self.stop_talking()
        process = subprocess.Popen(shlex.split(command), stdin=subprocess.DEVNULL)
        # Not waited for here (a restart stops this very process), but reaped so it leaves no zombie.
        threading.Thread(target=process.wait, daemon=True).start()

    # -- MQTT handlers (billy.mqtt.MqttHandlers) -----------------------------------------------------

    def command(self, name: str) -> None:
        self.run_command(name)

    def set_persona(self, name: str) -> None:
        try:
            self.personas.switch(name)
        except PersonaError as error:
            LOG.warning("persona not switched: %s", error)

    def set_trait(self, name: str, value: int) -> None:
        """Like a spoken change: in memory now, in persona.ini only if ALLOW_UPDATE_PERSONALITY_INI."""
        self.persona.set_traits({name: value}, persist=self.settings.allow_update_personality_ini)

    def set_volume(self, value: int) -> None:
        self.volume = self.pipeline.player.volume = value

    def set_mic_muted(self, muted: bool) -> None:
        self.mic_muted = muted

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        if state != self.state:
            LOG.debug("state: %s -> %s", self.state, state)
        self.state = state
        for observer in self.state_observers:
            observer(state)
        self.reporter.publish_state(state)

    # -- the loop -------------------------------------------------------------------------------------

    def run(self) -> None:
        self.set_state("idle")
        if self.settings.use_local_models:  # a cloud model is always warm, and every request costs money
            self.pipeline.warm_up()
        while not self.stopping.is_set():
            try:
                item = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            self._busy.set()
            try:
                self._do(item)
            except Exception:  # the loop must survive anything one turn does
                LOG.exception("unexpected error; Billy carries on")
                self.set_state("error")
                self.fish.stop_all()
            finally:
                self._busy.clear()
                self.set_state("idle")
                release_freed_memory()  # months of turns: what they freed goes back to the system

    def wait_for_services(self, poll_seconds: float = 1.0) -> bool:
        """Stay `starting` until every stage Billy uses first answers its health check, so the first question
        after power-on never meets a service still loading its model. False if Billy was stopped meanwhile."""
        from billy.appliance.doctor import run_check, stage_checks

        self.set_state("starting")
        waiting_for: list[str] = []
        while not self.stopping.is_set():
            down = [check for check in (run_check(n, p) for n, p in stage_checks(self.settings)) if not check.up]
            if not down:
                LOG.info("every service answers: Billy listens")
                return True
            if [check.name for check in down] != waiting_for:
                waiting_for = [check.name for check in down]
                LOG.info("waiting for %s", "; ".join(f"{check.name}: {check.detail}" for check in down))
            self.stopping.wait(poll_seconds)
        return False

    def announce_ready(self) -> None:
        """Say "ready" once, when the services answer: an owner hears that Billy can be talked to."""
        ready = self.sounds.get("ready")
        self.pipeline.player.play(ready.samples, ready.rate, self.interrupt)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="billy", daemon=True)
        self._thread.start()

    def stop(self, wait: float = 10) -> None:
        """Stop listening and talking; wait for the current turn to wind down so the motors end off."""
        self.stopping.set()
        self.end_session.set()
        self.interrupt.set()
        thread = getattr(self, "_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)

    def close(self) -> None:
        """The orderly end: stop the loop, say offline on MQTT, release the button, switch the motors off."""
        self.stop()
        if self.link is not None:
            self.link.stop()
        if self.button is not None:
            self.button.close()
        self.fish.close()

    @property
    def idle(self) -> bool:
        return not self._busy.is_set() and self._work.empty()

    def _do(self, item: tuple) -> None:
        kind = item[0]
        if kind == "session":
            self._session()
        elif kind == "say":
            self._say(*item[1:])
        elif kind == "song":
            self._song(item[1])
        elif kind == "wakeup":
            self._wakeup(item[1], item[2])
        elif kind == "clip":
            self._clip(item[1])

    def _say(self, text: str, literal: bool, interactive: bool = False) -> None:
        self.interrupt.clear()
        if literal:
            result = TurnResult(heard="")
            self.pipeline.speak(text, self.interrupt, result)
        else:
            result = self.pipeline.reply(TurnResult(heard=text), self.interrupt)
        self.reporter.publish_said(result.said)
        if interactive and not self.interrupt.is_set():
            self._session(wake=False)

    def _song(self, wanted: str) -> None:
        try:
            song = self.songs.load(wanted)
        except SongError as error:
            LOG.warning("song not played: %s", error)
            return
        self.interrupt.clear()
        self.set_state("playing_song")
        LOG.info("playing the song %s", song.title)
        self.reporter.publish_song_last(song.name)
        self.pipeline.player.play_song(song, self.interrupt)

    def _wakeup(self, index: int, persona: str | None) -> None:
        try:
            name = self.personas.find(persona) if persona else self.persona.name
        except PersonaError as error:
            LOG.warning("wake-up clip not played: %s", error)
            return
        clip = self.sounds.wakeup_clip(index, self.personas.wakeup_dir(name))
        if clip is None:
            LOG.warning("wake-up clip %d of persona %s not found", index, name)
            return
        self.interrupt.clear()
        self.pipeline.player.play(clip.samples, clip.rate, self.interrupt)

    def _clip(self, name: str) -> None:
        self.interrupt.clear()
        clip = tone(1.0, 440) if name == "tone" else self.sounds.get(name)
        self.set_state("speaking")
        self.pipeline.player.play(clip.samples, clip.rate, self.interrupt)

    def _session(self, wake: bool = True) -> None:
        if self.mic_muted:
            LOG.info("the microphone is muted: not listening")
            return
        self.interrupt.clear()
        self.end_session.clear()
        self.pipeline.conversation.forget()  # a new session is a new conversation
        if wake:
            clip = self.sounds.wake(self.personas.wakeup_dir(self.persona.name))
            self.pipeline.player.play(clip.samples, clip.rate, self.interrupt)
        while not self.stopping.is_set() and not self.end_session.is_set():
            self.set_state("listening")
            self.interrupt.clear()
            self.microphone.flush()  # whatever the microphone caught while Billy spoke is his own voice
            utterance = self.listener.listen(
                self.settings.mic_timeout_seconds, AnyOf(self.stopping, self.end_session), self.pipeline.draft
            )
            if utterance is None:
                LOG.info("no speech for %.0f s: session over", self.settings.mic_timeout_seconds)
                return
            result = self.pipeline.turn(utterance.pcm, self.interrupt, utterance.draft)
            turn = Turn(result, utterance)
            LOG.info("turn: heard %r, said %r, first sound %s", result.heard, result.said, _seconds(turn.first_sound_s))
            self.reporter.publish_heard(result.heard)
            self.reporter.publish_said(result.said)
            self.recent_turns.append(turn)
            for observer in self.turn_observers:
                observer(turn)
            while not self._work.empty() and self._work.queue[0][0] == "say":
                self._say(*self._work.get()[1:3])
            if self.settings.run_mode == "dory":
                LOG.info("RUN_MODE=dory: one answer, session over")
                return


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f} s"
