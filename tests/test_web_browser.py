"""Billy's web page in a real browser (Debian's chromium driven by Playwright) against a whole Billy.

Billy runs in the test process as `billy run` wires him (real STT and TTS services, the scripted LLM, the
file-backed sound card, gpiozero's MockFactory) and serves the control socket; `billy web` runs as its own
process. What the page does is checked where it lands: the speaker (transcribed back by the STT service), the
motor timeline, persona.ini, local.env and the units restarted. Screenshots go to out/web/.
"""

from __future__ import annotations

import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from waiting import wait_until
from web_stage import PASSWORD, WebStage, start_web, write_journal

from billy.appliance.control import ControlServer, socket_path
from billy.audio.pcm import wav_bytes
from billy.services.stt.client import SttClient
from billy.settings.schema import SCHEMA

from text_match import contains_words

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "out" / "web"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make setup installs it)")


class Bench:
    """Billy (restartable, as systemd would restart billy.service), the web page, and the browser page."""

    def __init__(self, tank_factory, stage: WebStage, page) -> None:
        self.tank_factory = tank_factory
        self.stage = stage
        self.page = page
        self.control = None
        self._flash_page: float | None = None  # the page (its performance.timeOrigin) the last flash was read on
        self.start_billy()

    def start_billy(self, env: dict[str, str] | None = None) -> None:
        if self.control is not None:
            self.control.stop()
            self.tank.billy.stop()  # the tank factory closes the rest after the test
        self.tank = self.tank_factory(env, state_dir=self.stage.state_dir)
        self.control = ControlServer(self.tank.billy, socket_path(self.stage.state_dir)).start()

    def open(self, path: str) -> None:
        self.page.goto(self.stage.url + path)

    def flash(self) -> str:
        """The messages of the page an action led to. A form's click returns before its navigation is done, so
        this waits for a page other than the one the last message was read on, showing one (on a loaded run the
        old page was read: '')."""
        deadline = time.monotonic() + 60
        while True:
            try:
                page = self.page.evaluate("document.querySelector('.flash') ? performance.timeOrigin : null")
            except sync_api.Error:  # the page navigated while being asked: ask the new one
                page = None
            if page is not None and page != self._flash_page:
                self._flash_page = page
                return " ".join(self.page.locator(".flash").all_inner_texts())
            assert time.monotonic() < deadline, "no new page with a message after the action"
            time.sleep(0.05)

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        self.page.set_viewport_size(PHONE)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def bench(tmp_path: Path, tank_factory, browser, stt_service, tts_service, llm) -> Iterator[Bench]:
    services = {
        "STT_BASE_URL": stt_service.base_url,
        "TTS_BASE_URL": tts_service.base_url,
        "LLM_BASE_URL": llm.base_url,
        "LOCAL_LLM_MODEL": llm.model,
    }
    stage = start_web(tmp_path, tmp_path / "state", services)
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    bench = Bench(tank_factory, stage, page)
    yield bench
    context.close()
    bench.control.stop()
    stage.web.stop()


class OtherSite:
    """Another site (a host name Billy's own is not): a page with a link to Billy, and one that posts a form to
    him as soon as it loads, on a real HTTP server on a free port."""

    def __init__(self, host_url: str, billy_url: str) -> None:
        pages = {
            "/": f'<a href="{billy_url}/">Visit</a>',
            "/forged": f'<form method="post" action="{billy_url}/settings"><input name="BILLY_VOLUME" value="5">'
            "</form><script>document.forms[0].submit()</script>",
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f"<!doctype html><html><body>{pages.get(self.path, '')}</body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None: ...

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtherSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def sign_up(bench: Bench) -> None:
    bench.open("/")
    assert bench.page.url.endswith("/setup")  # no default password: setting one is the only thing offered
    bench.page.fill("input[name=password]", PASSWORD)
    bench.page.fill("input[name=confirm]", PASSWORD)
    bench.page.click("text=Set the password")
    bench.page.wait_for_url(re.compile(r"/$"))


def song_files(folder: Path) -> list[Path]:
    """A two-second song: a tone for the voice, clicks for the drums, the head out in the middle."""
    folder.mkdir(parents=True, exist_ok=True)
    rate = 22050
    t = np.arange(2 * rate) / rate
    vocals = (np.sin(2 * np.pi * 220 * t) * 12000 * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.int16)
    drums = np.zeros_like(vocals)
    for beat in range(0, len(drums), rate // 4):
        drums[beat : beat + 800] = 20000
    (folder / "vocals.wav").write_bytes(wav_bytes(vocals, rate))
    (folder / "drums.wav").write_bytes(wav_bytes(drums, rate))
    (folder / "full.wav").write_bytes(wav_bytes((vocals // 2 + drums // 2).astype(np.int16), rate))
    (folder / "metadata.txt").write_text("title = Web Tune\nhead_moves = 0.9:0.4\n")  # the original: start:duration
    return [folder / name for name in ("full.wav", "vocals.wav", "drums.wav", "metadata.txt")]


def test_password_login_and_the_live_dashboard(bench: Bench, speak) -> None:
    page = bench.page
    sign_up(bench)
    assert page.locator("#state").get_attribute("data-state") == "idle"
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login$"))
    page.fill("input[name=password]", "not the password")
    page.click("button:has-text('Log in')")
    assert "Wrong password." in bench.flash()
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r"/$"))

    # The listen button is a press: Billy hears the question and the turn appears live, with its latency chart.
    bench.tank.microphone.queue(speak("What is your favourite song?"))
    page.click("button:has-text('Listen')")
    page.wait_for_selector("#turns li svg rect", timeout=90_000)
    turn = page.locator("#turns li").first.inner_text()
    assert contains_words(turn, "favourite song") or contains_words(turn, "favorite song"), turn
    assert "first sound" in turn and "Blub" in turn
    page.wait_for_selector("#state[data-state=idle]")
    page.wait_for_selector("#health li")
    assert page.locator("#health li.bad").count() == 0, page.locator("#health").inner_text()  # the doctor's checks
    bench.shot("dashboard")


def test_say_a_text_and_hear_it(bench: Bench, stt_service) -> None:
    sign_up(bench)
    speaker = bench.tank.speaker
    mark = speaker.mark()
    bench.page.fill("textarea[name=text]", "Hello from the kitchen, my friend.")
    bench.page.click("button:has-text('Say it')")
    assert "Billy says it." in bench.flash()
    bench.page.wait_for_selector("#state[data-state=speaking]")
    wait_until(lambda: speaker.first_sound_since(mark) and bench.tank.billy.idle, what="Billy saying it")
    bench.tank.wait_idle()
    heard = SttClient(stt_service.base_url).transcribe(speaker.wav_since(mark, gaps=False), "en")
    assert contains_words(heard, "hello from the kitchen my friend"), heard

    mark = speaker.mark()  # in character: the question goes to the LLM, and its answer is spoken
    bench.page.fill("textarea[name=text]", "Who are you?")
    bench.page.check("input[name=mode][value=character]")
    bench.page.click("button:has-text('Say it')")
    assert "Billy answers in character." in bench.flash()
    wait_until(lambda: speaker.first_sound_since(mark) and bench.tank.billy.idle, what="Billy answering")
    bench.tank.wait_idle()
    heard = SttClient(stt_service.base_url).transcribe(speaker.wav_since(mark, gaps=False), "en")
    assert contains_words(heard, "i am a fish"), heard


def test_a_setting_saved_restarts_only_its_unit_and_takes_effect(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/settings")
    bench.page.fill("input[name=BILLY_VOLUME]", "35")
    bench.page.click("button:has-text('Save')")
    assert "Saved BILLY_VOLUME; restarted billy." in bench.flash()
    assert bench.stage.restarts() == ["restart --no-block billy.service"]
    assert 'BILLY_VOLUME="35"' in (bench.stage.config_dir / "local.env").read_text()
    assert bench.page.locator(".setting.local label[for=BILLY_VOLUME] .tag").inner_text() == "local"
    bench.shot("settings")
    forged = bench.page.request.post(bench.stage.url + "/settings", form={"BILLY_VOLUME": "5"})  # session, no token
    assert forged.status == 403 and "CSRF" in forged.text()
    assert 'BILLY_VOLUME="35"' in (bench.stage.config_dir / "local.env").read_text()

    bench.start_billy(bench.stage.environment())  # what systemd does on that restart: billy.env, then local.env
    bench.open("/")
    assert bench.page.locator("#volume").inner_text() == "35"
    assert bench.tank.billy.pipeline.player.volume == 35

    bench.open("/settings")
    bench.page.select_option("select[name=LOCAL_TTS_VOICE]", "de_DE-thorsten-medium")  # the catalogue's voices
    bench.page.fill("input[name=MQTT_PORT]", "eighty")
    bench.page.click("button:has-text('Save')")
    assert "MQTT_PORT='eighty' is not valid: expected a whole number from 1 to 65535" in bench.flash()
    assert len(bench.stage.restarts()) == 1  # a bad value saves and restarts nothing
    assert "LOCAL_TTS_VOICE" not in (bench.stage.config_dir / "local.env").read_text()


def test_every_setting_shows_its_label_and_description_and_commands_are_not_editable(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/settings")
    for setting in SCHEMA:
        field = bench.page.locator(f".setting:has(#{setting.name})")
        assert field.locator("label").first.inner_text().removesuffix(" local").strip() == setting.label
        help_text = " ".join(field.locator(".help").inner_text().split())
        assert help_text.startswith(f"{setting.name} · {' '.join(setting.description.split())}"), help_text
        editable = bench.page.locator(f"[name={setting.name}]").count()
        assert editable == (1 if setting.web else 0), setting.name
    assert bench.page.locator("#BILLY_REBOOT_COMMAND").is_disabled()


@pytest.mark.parametrize("path", ["/", "/settings", "/logs"])
def test_on_a_phone_every_page_s_link_is_in_sight(bench: Bench, path: str) -> None:
    sign_up(bench)
    bench.open(path)
    for link in bench.page.locator("nav a").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (link.inner_text(), box)
        assert link.is_visible()


def test_a_link_from_another_site_keeps_the_owner_signed_in_but_a_form_from_there_does_nothing(bench: Bench) -> None:
    sign_up(bench)  # signed in on http://127.0.0.1:PORT; Home Assistant is another site (http://localhost:PORT)
    volume = bench.tank.billy.volume
    with OtherSite(bench.stage.url.replace("127.0.0.1", "localhost"), bench.stage.url) as other:
        bench.page.goto(other.url)
        bench.page.click("text=Visit")  # Home Assistant's device page: a top-level GET to Billy
        bench.page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/$"))
        assert bench.page.locator("#state").count() == 1  # the dashboard, not the login page
        bench.page.goto(other.url + "/forged")  # a page there that posts a form to Billy by itself
        bench.page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/settings$"))
        assert "sign in first" in bench.page.content()  # no session cookie came with it, so nothing happened
    assert not (bench.stage.config_dir / "local.env").exists() and bench.tank.billy.volume == volume


def test_a_setting_the_web_page_reads_asks_for_its_restart_on_the_system_page(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/settings")
    bench.page.fill("input[name=BILLY_WEB_MAX_UPLOAD_MB]", "3")
    bench.page.click("button:has-text('Save')")
    said = bench.flash()  # the reply arrives whole: billy-web did not restart itself under it
    assert "Saved BILLY_WEB_MAX_UPLOAD_MB; restarted nothing." in said and "restart billy-web on the System" in said
    assert bench.stage.restarts() == []
    bench.open("/system")
    assert "BILLY_WEB_MAX_UPLOAD_MB" in bench.page.locator("#web-restart").inner_text()
    bench.page.click("#web-restart button:has-text('Restart billy-web')")
    bench.page.click("button:has-text('Yes, do it')")  # confirmed, as every System action is
    assert "Restarting billy-web." in bench.flash()
    assert bench.stage.restarts() == ["restart --no-block billy-web.service"]


def test_personas_listed_edited_and_switched(bench: Bench) -> None:
    pirate = bench.stage.state_dir / "personas" / "pirate" / "persona.ini"
    pirate.parent.mkdir(parents=True)
    pirate.write_text("[PERSONALITY]\nhumor = 90\n\n[META]\ninstructions = You are Billy, a pirate fish.\n")
    sign_up(bench)
    bench.open("/persona")
    personas = bench.page.locator("#personas li")
    assert personas.all_inner_texts()[0].startswith("default") and "in use" in personas.nth(0).inner_text()
    assert personas.nth(1).get_attribute("data-persona") == "pirate"
    bench.page.fill("input[name=trait_humor]", "15")
    bench.page.fill("textarea[name=instructions]", "You are Billy, a grumpy trout, 100% fish. Answer in one sentence.")
    bench.page.fill("textarea[name=wake_phrases]", "What now?\nSpeak, human.")
    bench.page.click("button:has-text('Save the persona')")
    assert "Persona default saved; Billy uses it now." in bench.flash()
    persona = bench.tank.billy.persona
    assert persona.traits["humor"] == 15 and "grumpy trout, 100% fish." in persona.system_prompt()
    assert "2 = Speak, human." in (bench.stage.state_dir / "persona.ini").read_text()

    # Another persona: edited in its own file while Billy stays himself, then switched to as by voice or MQTT.
    bench.page.click("#personas li[data-persona=pirate] a:has-text('Edit')")
    assert bench.page.locator("h2:has-text('Edit pirate')").count() == 1
    assert bench.page.locator("input[name=trait_humor]").input_value() == "90"
    bench.page.fill("textarea[name=instructions]", "You are Billy, a pirate fish who says arr a lot.")
    bench.page.click("button:has-text('Save the persona')")
    assert "Persona pirate saved; Billy uses it once you switch to it." in bench.flash()
    assert "says arr a lot" in pirate.read_text() and "grumpy trout" in persona.system_prompt()
    bench.page.click("#personas li[data-persona=pirate] button:has-text('Use pirate')")
    assert "Billy is pirate now." in bench.flash()
    assert persona.name == "pirate" and "says arr a lot" in persona.system_prompt()
    assert (bench.stage.state_dir / "persona-current").read_text().strip() == "pirate"  # survives a restart
    assert "in use" in bench.page.locator("#personas li[data-persona=pirate]").inner_text()
    bench.shot("persona")


def test_song_uploaded_and_played_with_the_fish_moving(bench: Bench, tmp_path: Path) -> None:
    sign_up(bench)
    bench.open("/songs")
    bench.page.fill("input[name=name]", "web-tune")
    bench.page.set_input_files("input[name=files]", [str(path) for path in song_files(tmp_path / "song")])
    bench.page.click("button:has-text('Upload')")
    assert "Song web-tune uploaded." in bench.flash()
    assert "Web Tune" in bench.page.locator(".list").inner_text()
    started = time.monotonic()
    mark = bench.tank.speaker.mark()
    bench.page.click(".list li:has-text('Web Tune') button:has-text('Play')")
    assert "Billy sings web-tune." in bench.flash()
    wait_until(lambda: "playing_song" in bench.tank.states, what="playing the song")
    bench.tank.wait_idle()
    moves = bench.tank.timeline.moves(started)
    assert any(m.part == "mouth" and m.value > 0 for m in moves), moves
    assert any(m.part == "head" and m.value > 0 for m in moves), moves
    assert any(m.part == "tail" and m.value > 0 for m in moves), moves
    assert bench.tank.speaker.first_sound_since(mark) is not None

    bench.open("/body")
    bench.page.click("button:has-text('Pulse mouth')")
    assert "Pulsed the mouth motor." in bench.flash()
    wait_until(lambda: any(m.part == "mouth" and m.value == 0.8 for m in bench.tank.timeline.moves(started)))

    bench.open("/songs")
    bench.page.once("dialog", lambda dialog: dialog.accept())  # "Delete web-tune?"
    bench.page.click(".list li:has-text('Web Tune') button:has-text('Delete')")
    assert "Song web-tune deleted." in bench.flash() and "Web Tune" not in bench.page.locator(".list").inner_text()
    assert not (bench.stage.state_dir / "songs" / "web-tune").exists()


def test_body_tests_speaker_live_microphone_meter_and_button(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/body")
    mark = bench.tank.speaker.mark()
    bench.page.click("button:has-text('Speaker test')")
    assert "Playing a test tone." in bench.flash()
    wait_until(lambda: bench.tank.speaker.first_sound_since(mark) is not None, what="the test tone")
    bench.tank.wait_idle()

    # The page's CSP forbids eval, so the test reads the meter from here rather than with wait_for_function.
    def level() -> float:
        text = bench.page.locator("#mic-reading").inner_text()
        return float(text) if re.fullmatch(r"[0-9.]+", text) else -1.0  # -1: no reading yet, or Billy busy

    wait_until(lambda: 0 <= level() < 0.01, what="a quiet room's reading")
    rate = 16000
    tone = (np.sin(2 * np.pi * 440 * np.arange(4 * rate) / rate) * 16000).astype(np.int16)
    bench.tank.microphone.queue(wav_bytes(tone, rate))  # a whistle near the fish, four seconds long
    wait_until(lambda: level() > 0.2, what="the meter rising")
    assert bench.page.locator("#mic-level").evaluate("meter => meter.value") > 0.2
    bench.shot("body")
    wait_until(lambda: 0 <= level() < 0.01, what="the meter falling after the whistle")

    # The button, as the owner wiring it presses it: the page follows its pin live.
    button = bench.page.locator("#button")
    assert button.inner_text() == "released"
    pin = bench.tank.pin_factory.pin(bench.tank.billy.settings.button_pin)
    pin.drive_low()
    wait_until(lambda: button.inner_text() == "pressed", what="the page showing the button pressed")
    pin.drive_high()
    wait_until(lambda: button.inner_text() == "released", what="the page showing the button released")
    bench.tank.wait_idle()  # the press started a turn with nothing said: Billy answers it and is idle again


def test_the_microphone_calibrated_from_the_body_page_and_saved(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/body")
    rate = 16000
    room = np.random.default_rng(3).normal(0, 0.002 * 32768, 6 * rate).astype(np.int16)  # a quiet fridge
    bench.tank.microphone.queue(wav_bytes(room, rate))
    bench.page.click("button:has-text('1. Measure the room')")
    voice_step = bench.page.locator("button:has-text('2. Measure your voice')")
    voice_step.wait_for(timeout=TIMEOUT_MS)
    wait_until(lambda: bench.tank.microphone.idle, what="the rest of the room heard by the live meter")
    # A steady voice at 0.05 of full scale (-26 dBFS): 6 dB under the -20 dBFS the proposal aims for.
    voice = (np.sin(2 * np.pi * 220 * np.arange(6 * rate) / rate) * 0.05 * 32768 * 2**0.5).astype(np.int16)
    bench.tank.microphone.queue(wav_bytes(voice, rate))
    voice_step.click()
    proposal = bench.page.locator("#proposal")
    proposal.wait_for(timeout=TIMEOUT_MS)
    assert "MIC_GAIN 6," in proposal.inner_text(), proposal.inner_text()
    bench.shot("calibration")
    bench.page.click("button:has-text('Save them')")
    assert "Saved MIC_GAIN, SILENCE_THRESHOLD; restarted billy." in bench.flash()
    saved = (bench.stage.config_dir / "local.env").read_text()
    floor = int(re.search(r'SILENCE_THRESHOLD="(\d+)"', saved)[1])
    assert 'MIC_GAIN="6"' in saved and 0.002 * 2 * 32767 < floor < 0.05 * 2 / 3 * 32767, saved  # over the room


def test_logs_shown_filtered_and_downloaded(bench: Bench) -> None:
    sign_up(bench)
    bench.open("/logs")
    log = bench.page.locator("#log")
    assert "Billy is ready (modern fish)" in log.inner_text() and "voice file unreadable" in log.inner_text()
    bench.page.select_option("select[name=unit]", "billy-tts")
    bench.page.select_option("select[name=level]", "error")
    bench.page.click("button:has-text('Filter')")
    assert "voice file unreadable" in log.inner_text() and "Billy is ready" not in log.inner_text()
    write_journal(bench.stage.journal_dir, [("billy-tts", 3, "speaker unplugged just now")])
    bench.page.wait_for_selector("#log span:has-text('speaker unplugged just now')")  # followed live
    with bench.page.expect_download() as download:
        bench.page.click("text=Download")
    assert "billy-tts error: voice file unreadable" in Path(download.value.path()).read_text()

    bench.page.click("text=Log out")  # then a guesser: rejected, and after five tries locked out for a while
    for attempt in range(6):
        bench.page.fill("input[name=password]", f"guess {attempt}")
        bench.page.click("button:has-text('Log in')")
    assert "Too many wrong passwords" in bench.flash()
