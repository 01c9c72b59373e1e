"""The running Billy: his state, what the world may ask of him (through the operations table), and his work loop.

A button press (or, on a hardware-less host, a WAV dropped into the spool inbox, or `listen` over MQTT) starts
a conversation: a wake-up clip, then listen, answer, listen again until `MIC_TIMEOUT_SECONDS` pass in silence
(with `RUN_MODE=dory`, after one answer). A press while Billy speaks stops him at once and he listens again.
Messages to say, songs and wake-up clips wait in the same work queue (appliance/work.py), so they play in order
and never over Billy's own voice; what each does in its turn is in appliance/performances.py.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Mapping

from billy.appliance.memory import release_freed_memory
from billy.appliance.states import BUSY, STATES
from billy.appliance.turn import Turn
from billy.appliance.work import WorkQueue
from billy.audio.devices import Microphone
from billy.body.fish import Fish
from billy.conversation.pipeline import Pipeline
from billy.hearing.listening import Listener
from billy.media.songs import SongLibrary
from billy.media.sounds import SoundBank
from billy.persona.library import PersonaLibrary
from billy.settings.read import Settings

RECENT_TURNS = 10  # what the status (the web page's dashboard) shows
# Who answered a turn, as the dashboard counts them: Billy's own intents, Home Assistant, or the model.
ANSWERED_BY = {
    "billy": "Billy himself",
    "home assistant": "Home Assistant",
    "": "the model",
    "realtime": "the cloud's Realtime voice",
}
LOG = logging.getLogger(__name__)


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f} s"


class NullReporter:
    """Where state and words go when MQTT is off."""

    def publish_state(self, state: str) -> None: ...

    def publish_heard(self, text: str) -> None: ...

    def publish_said(self, text: str) -> None: ...

    def publish_song_last(self, name: str) -> None: ...

    def publish_timers(self, timers: list) -> None: ...

    def publish_timer_rang(self, name: str) -> None: ...


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
        operations: Mapping,
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
        self.operations = operations  # name -> Operation (billy.appliance.operations), given by the wiring
        self.reporter = NullReporter()
        self.state = "idle"
        self.mic_muted = False
        self.volume = pipeline.player.volume = settings.billy_volume
        self.interrupt = threading.Event()
        self.stopping = threading.Event()
        self.end_session = threading.Event()
        self.work = WorkQueue()
        self.link = None  # the MqttLink, attached by the wiring
        self.people = None  # who talks with Billy and what he remembers (persona/people.py), from the wiring
        self.timers = None  # his kitchen timers (intents/timers.py), from the wiring
        self.answered_by: Counter[str] = Counter()  # who answered the turns since start: the dashboard's
        self.button = None  # the gpiozero Button, once wired: its state is part of the status
        self.wake_word = None  # the WakeWordWatcher when WAKE_WORD_ENABLED
        self.status_led = None  # the StatusLed when STATUS_LED_ENABLED (body/status_led.py)
        self.mic_reading = threading.Lock()  # one body-test reading at a time (appliance/body_test.py)
        pipeline.on_state = self.set_state
        pipeline.on_song = lambda name: self.reporter.publish_song_last(name)

    # -- what the world asks (billy.appliance.operations) ----------------------------------------------

    def perform(self, name: str, arguments: dict) -> object:
        """An operation of the table, asked over MQTT or the control socket (MqttHandlers.perform)."""
        return self.operations[name].run(self, arguments)

    def enqueue(self, name: str, arguments: dict) -> None:
        """Operation `name` waits its turn; the loop plays it (Operation.play)."""
        self.work.put(name, arguments)

    def press(self) -> None:
        """The button: start a conversation, or cut Billy off if he is talking, thinking or singing."""
        if self.state in BUSY:
            LOG.info("button: stopping Billy")
            self.interrupt.set()
        elif not self.work.busy.is_set():
            self.enqueue("press", {})

    def listen(self) -> None:
        """The original's `listen` command: start a conversation, or end the one running."""
        if self.work.busy.is_set():
            LOG.info("listen: ending the conversation")
            self.end_session.set()
            self.interrupt.set()
        else:
            self.press()

    def stop_talking(self) -> None:
        if self.state in BUSY:
            self.interrupt.set()

    def sing(self, name: str) -> None:
        """Sing a song after the current work; an unknown name raises SongError at once (the web page says so)."""
        self.enqueue("song", {"name": self.songs.find(name).name})

    def play_clip(self, name: str) -> None:
        """A wake-up or error clip, or `tone` (the speaker test); an unknown one is refused at once."""
        if name != "tone" and not (self.sounds.directory / f"{name}.wav").is_file():
            raise LookupError(f"no clip called {name!r} in {self.sounds.directory}")
        self.enqueue("clip", {"name": name})

    def set_trait(self, name: str, value: int) -> None:
        """Like a spoken change: in memory now, in persona.ini only if ALLOW_UPDATE_PERSONALITY_INI."""
        self.persona.set_traits({name: value}, persist=self.settings.allow_update_personality_ini)

    def set_volume(self, value: int) -> None:
        self.volume = self.pipeline.player.volume = value

    def set_mic_muted(self, muted: bool) -> None:
        self.mic_muted = muted
        if self.status_led is not None:
            self.status_led.muted = muted

    @property
    def user(self) -> str:
        """Who is talking (persona/people.py): whoever last said who they are, else DEFAULT_USER."""
        return self.people.current() if self.people is not None else self.settings.default_user

    @user.setter
    def user(self, name: str) -> None:
        if self.people is not None:
            self.people.set_current(name)

    # -- what he reports ------------------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        if state != self.state:
            LOG.debug("state: %s -> %s", self.state, state)
        self.state = state
        for observer in self.state_observers:
            observer(state)
        self.reporter.publish_state(state)

    def finished(self, turn: Turn) -> None:
        """A turn of a conversation is over: its words on MQTT, the dashboard and every observer."""
        result = turn.result
        LOG.info("turn: heard %r, said %r, first sound %s", result.heard, result.said, _seconds(turn.first_sound_s))
        self.reporter.publish_heard(result.heard)
        self.reporter.publish_said(result.said)
        self.answered_by[ANSWERED_BY.get(result.answered_by, result.answered_by)] += 1
        if self.user != self.settings.default_user:
            self.user = self.user  # they are still talking: keep them the one who is
        self.recent_turns.append(turn)
        for observer in self.turn_observers:
            observer(turn)

    # -- the loop -------------------------------------------------------------------------------------

    def run(self) -> None:
        self.set_state("idle")
        if self.settings.use_local_models:  # a cloud model is always warm, and every request costs money
            self.pipeline.warm_up()
        while not self.stopping.is_set():
            item = self.work.next(timeout=0.2)
            if item is None:
                continue
            name, arguments = item
            self.work.busy.set()
            self.work.playing = name
            try:
                self.operations[name].play(self, **arguments)
            except Exception:  # the loop must survive anything one turn does
                LOG.exception("unexpected error; Billy carries on")
                self.set_state("error")
                self.fish.stop_all()
            finally:
                self.work.playing = None
                self.work.busy.clear()
                self.set_state("idle")
                release_freed_memory()  # months of turns: what they freed goes back to the system

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
        if self.timers is not None:
            self.timers.close()
        if self.link is not None:
            self.link.stop()
        if self.button is not None:
            self.button.close()
        if self.status_led is not None:
            self.status_led.close()
        self.fish.close()

    @property
    def idle(self) -> bool:
        return self.work.idle
