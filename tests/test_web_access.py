"""The web page's guard: no default password, sessions, CSRF, the login limit, and uploads that cannot escape.

A real `billy web` process on a free port, reached over HTTP the way a browser (or an attacker on the home
network) would.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from own_wake_fixtures import micro_files
from waiting import wait_until
from web_stage import PASSWORD, WebStage, start_web, write_journal

from billy.audio.pcm import wav_bytes
from billy.media.sounds import CLIPS
from billy.persona.people import People
from billy.web.auth import LOGIN_ATTEMPTS

PAGES = ["/", "/settings", "/persona", "/songs", "/sounds", "/models", "/body", "/logs", "/system", "/events"]
PAGES += ["/dashboard/turns", "/dashboard/health", "/logs/download", "/logs/stream", "/settings/overrides"]
PAGES += ["/body/mic", "/people", "/notes"]
POSTS = ["/talk", "/settings", "/persona", "/persona/switch", "/songs/upload", "/songs/play", "/songs/delete"]
POSTS += ["/sounds/play", "/sounds/regenerate", "/body", "/system", "/system/password", "/logout"]
POSTS += ["/people/remember", "/people/edit", "/people/forget", "/people/current", "/people/delete"]
POSTS += ["/notes/upload", "/notes/delete", "/sounds/wake-word", "/sounds/wake-word/delete", "/brain"]
POSTS += ["/system/backup", "/system/restore", "/system/backup/kept"]


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def flash(page: httpx.Response) -> list[str]:
    return re.findall(r'class="flash"[^>]*>([^<]*)<', page.text)


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[WebStage]:
    root = tmp_path_factory.mktemp("web")
    stage = start_web(root, root / "state", {"BILLY_TTS_VOICE_DIR": str(models_dir)})
    yield stage
    stage.web.stop()


def client(stage: WebStage) -> httpx.Client:
    return httpx.Client(base_url=stage.url, follow_redirects=False, timeout=30)


@pytest.fixture(scope="module")
def owner(stage: WebStage) -> httpx.Client:
    """Sets the password (the first visitor's only choice) and stays signed in."""
    browser = client(stage)
    assert browser.get("/").headers["location"] == "/setup"
    assert browser.get("/login").headers["location"] == "/setup"
    form = browser.get("/setup")
    reply = browser.post("/setup", data={"csrf": csrf_of(form), "password": PASSWORD, "confirm": PASSWORD})
    assert reply.status_code == 303 and reply.headers["location"] == "/"
    return browser


def test_the_password_is_stored_as_a_salted_hash(owner: httpx.Client, stage: WebStage) -> None:
    stored = (stage.state_dir / "web" / "password.json").read_text()
    assert PASSWORD not in stored and '"scheme": "scrypt"' in stored and '"salt"' in stored
    assert oct((stage.state_dir / "web" / "password.json").stat().st_mode & 0o777) == "0o600"
    assert client(stage).get("/setup").headers["location"] == "/login"  # set once: the setup page is gone


def test_session_cookie_is_httponly_and_samesite_lax(owner: httpx.Client, stage: WebStage) -> None:
    # Lax: Home Assistant's "Visit" link (a top-level GET from another site) keeps the owner signed in; a POST
    # from another site carries no cookie, and none carries this session's CSRF token (test_web_browser.py).
    page = client(stage).get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_every_page_but_login_needs_a_session(owner: httpx.Client, stage: WebStage) -> None:
    stranger = client(stage)
    for path in PAGES:
        reply = stranger.get(path)
        assert reply.status_code == 303 and reply.headers["location"] == "/login", path
    stranger.get("/login")  # an anonymous session with its own CSRF token is still not a signed-in one
    for path in POSTS:
        token = csrf_of(stranger.get("/login"))
        assert stranger.post(path, data={"csrf": token}).status_code == 403, path
    assert owner.get("/settings").status_code == 200


def test_post_without_or_with_a_wrong_csrf_token_is_refused(owner: httpx.Client, stage: WebStage) -> None:
    for data in ({"BILLY_VOLUME": "10"}, {"BILLY_VOLUME": "10", "csrf": "forged"}):
        reply = owner.post("/settings", data=data)
        assert reply.status_code == 403 and "CSRF" in reply.text
    assert not (stage.config_dir / "local.env").exists() and not stage.restarts()


def test_a_bad_setting_is_refused_with_the_parsers_words(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/settings"))
    page = owner.post("/settings", data={"csrf": token, "BILLY_VOLUME": "300"}, follow_redirects=True)
    assert any("BILLY_VOLUME='300' is out of range" in message.replace("&#39;", "'") for message in flash(page))
    page = owner.post("/settings", data={"csrf": token, "BILLY_SHUTDOWN_COMMAND": "rm -rf /"}, follow_redirects=True)
    assert flash(page) == [
        "Not saved: BILLY_SHUTDOWN_COMMAND cannot be changed from the web page: it is set in the Ansible inventory "
        "(billy_app_shutdown_command)"
    ]


FORBIDDEN = "BILLY_REBOOT_COMMAND BILLY_WEB_SYSTEMCTL BILLY_AUDIO_DIR BILLY_MODELS_DIR BILLY_STT_MODEL_DIR"
FORBIDDEN += " BILLY_TTS_VOICE_DIR MQTT_CA_CERT BILLY_STATE_DIR BILLY_WEB_PASSWORD"


@pytest.mark.parametrize("setting", FORBIDDEN.split())
def test_no_command_path_or_password_is_taken_from_the_settings_form(owner, stage, setting) -> None:
    token = csrf_of(owner.get("/settings"))
    sneaky = {"csrf": token, "BILLY_VOLUME": "11", setting: "/bin/sh -c 'touch /tmp/owned'"}
    page = owner.post("/settings", data=sneaky, follow_redirects=True)
    assert flash(page)[0].startswith(f"Not saved: {setting} cannot be changed from the web page"), flash(page)
    assert not (stage.config_dir / "local.env").exists() and not stage.restarts()


@pytest.mark.parametrize("line_end", ["\n", "\r", "\r\n", "\u2028"], ids=repr)
def test_a_line_end_inside_a_value_never_becomes_a_setting(owner, stage, line_end) -> None:
    token = csrf_of(owner.get("/settings"))
    sneaky = f"Billy{line_end}BILLY_WEB_SYSTEMCTL=/bin/sh -c 'touch /tmp/owned' #"
    page = owner.post("/settings", data={"csrf": token, "MQTT_DEVICE_NAME": sneaky}, follow_redirects=True)
    (said,) = flash(page)
    assert said.startswith("Not saved: MQTT_DEVICE_NAME contains a control character ("), said
    assert not (stage.config_dir / "local.env").exists() and not stage.restarts()


def test_secrets_are_write_only_and_a_local_value_resets(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/settings"))
    page = owner.post("/settings", data={"csrf": token, "HA_TOKEN": "long-lived-s3cret"}, follow_redirects=True)
    assert any(m.startswith("Saved HA_TOKEN; restarted") for m in flash(page)), flash(page)
    assert "long-lived-s3cret" not in page.text and "set: type to replace" in page.text  # never sent back
    page = owner.post("/settings", data={"csrf": token, "HA_TOKEN": ""}, follow_redirects=True)
    assert flash(page) == ["Nothing changed."]  # an empty box keeps the secret
    assert 'HA_TOKEN="long-lived-s3cret"' in (stage.config_dir / "local.env").read_text()
    page = owner.post("/settings", data={"csrf": token, "reset__HA_TOKEN": "1"}, follow_redirects=True)
    assert any(m.startswith("Saved HA_TOKEN") for m in flash(page)), flash(page)
    assert "HA_TOKEN" not in (stage.config_dir / "local.env").read_text()


def test_power_and_restarts_need_a_confirmation_and_only_billys_units(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/system"))
    reply = owner.post("/system", data={"csrf": token, "what": "reboot"})
    assert reply.headers["location"] == "/system?confirm=reboot"  # asked first, nothing done
    assert "reboot" not in stage.systemctl_calls()
    assert "Really reboot the Pi?" in owner.get(reply.headers["location"]).text
    page = owner.post("/system", data={"csrf": token, "what": "poweroff", "confirmed": "yes"}, follow_redirects=True)
    assert "Poweroff under way." in flash(page) and "poweroff" in stage.systemctl_calls()
    page = owner.post("/system", data={"csrf": token, "what": "ssh", "confirmed": "yes"}, follow_redirects=True)
    assert flash(page) == ["Refused: not one of Billy&#39;s units: ssh"]
    assert not any("ssh" in call for call in stage.systemctl_calls())


def test_an_offered_release_shows_and_installs_through_the_updaters_unit(owner: httpx.Client, stage: WebStage) -> None:
    assert "<button>Install" not in owner.get("/system").text  # nothing offered yet
    offered = {"installed": "0.1.0", "latest": "0.2.0", "notes": "Sings in tune", "phase": "idle"}
    (stage.state_dir / "update.json").write_text(json.dumps(offered))
    page = owner.get("/system")
    assert "Install 0.2.0" in page.text and "Sings in tune" in page.text
    token = csrf_of(page)
    assert owner.post("/system", data={"csrf": token, "what": "update"}).headers["location"] == "/system?confirm=update"
    assert not any("billy-update" in call for call in stage.systemctl_calls())  # asked first
    page = owner.post("/system", data={"csrf": token, "what": "update", "confirmed": "yes"}, follow_redirects=True)
    assert any("Update under way" in message for message in flash(page))
    assert "start --no-block billy-update.service" in stage.systemctl_calls()


def test_a_password_from_the_inventory_is_hashed_and_replaces_set_the_password(tmp_path: Path) -> None:
    vaulted = "from-the-vault-123"
    stage = start_web(tmp_path, tmp_path / "state", web_env={"BILLY_WEB_PASSWORD": vaulted})
    try:
        visitor = client(stage)
        assert visitor.get("/").headers["location"] == "/login"  # no "set the password": one is set
        token = csrf_of(visitor.get("/login"))
        assert visitor.post("/login", data={"csrf": token, "password": vaulted}).headers["location"] == "/"
        stored = (stage.state_dir / "web" / "password.json").read_text()
        assert vaulted not in stored and '"salt"' in stored
    finally:
        stage.web.stop()


def test_the_dashboard_shows_load_temperature_and_memory(owner: httpx.Client) -> None:
    page = owner.get("/").text
    assert re.search(r"CPU load [0-9.]+ on [0-9]+ cores · ([0-9.]+|–) °C · memory [0-9]+ % \([0-9]+ MB\)", page), page


def test_every_asset_is_served_by_billy_himself(owner: httpx.Client) -> None:
    """The Pi may be offline: no CDN, no font or script from elsewhere, and each asset answers."""
    for path in ["/", "/settings", "/persona", "/songs", "/sounds", "/models", "/body", "/logs", "/system"]:
        links = re.findall(r'(?:src|href)="([^"]*)"', owner.get(path).text)
        assert links and all(link.startswith(("/", "#")) and not link.startswith("//") for link in links), (path, links)
        for asset in {link for link in links if link.startswith("/static/")}:
            assert owner.get(asset).status_code == 200, asset


def test_a_model_is_fetched_with_progress(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/models"))
    page = owner.post("/models/fetch", data={"csrf": token, "name": "llama-9000"}, follow_redirects=True)
    assert any("unknown model 'llama-9000'" in message.replace("&#39;", "'") for message in flash(page)), flash(page)
    page = owner.post("/models/fetch", data={"csrf": token, "name": "tiny.en"}, follow_redirects=True)
    assert "Fetching tiny.en." in flash(page) and "files verified" in page.text

    def finished() -> httpx.Response | None:  # the page refreshes itself until the fetch is done
        page = owner.get("/models")
        return None if 'http-equiv="refresh"' in page.text else page

    page = wait_until(finished, "the fetch to finish")
    assert "4 of 4 files verified" in page.text and "tiny.en: 4 file(s)" in page.text
    assert (stage.state_dir / "models" / "tiny.en" / "model.bin").is_file()


def test_sounds_are_regenerated_in_billys_voice(owner: httpx.Client, stage: WebStage) -> None:
    page = owner.get("/sounds")
    assert page.text.count(">missing<") == len(CLIPS)  # a fresh state directory: no clips yet
    page = owner.post("/sounds/regenerate", data={"csrf": csrf_of(page)}, follow_redirects=True)
    clips = {path.name: path.read_bytes() for path in (stage.state_dir / "sounds").glob("*.wav")}
    assert len(clips) == len(CLIPS)
    # A voice that is not there: the clips stay as they were, and the page says why.
    (stage.config_dir / "local.env").write_text('LOCAL_TTS_VOICE="en_GB-nobody-low"\n')
    try:
        page = owner.post("/sounds/regenerate", data={"csrf": csrf_of(page)}, follow_redirects=True)
    finally:
        (stage.config_dir / "local.env").unlink()
    assert page.status_code == 200 and flash(page)[0].startswith("Not rendered, the clips are as they were: unknown")
    assert {path.name: path.read_bytes() for path in (stage.state_dir / "sounds").glob("*.wav")} == clips
    page = owner.post("/sounds/regenerate", data={"csrf": csrf_of(page)}, follow_redirects=True)
    assert f"Rendered {len(CLIPS)} clips in en_US-joe-medium&#39;s voice." in flash(page), flash(page)
    assert ">missing<" not in page.text and (stage.state_dir / "sounds" / "wake-1.wav").stat().st_size > 10000


@pytest.mark.parametrize("path", ["/logs", "/logs/download", "/logs/stream"])
def test_a_unit_that_is_not_billys_is_named_not_a_traceback(owner: httpx.Client, path: str) -> None:
    for query in ({"unit": "../x"}, {"unit": "sshd"}, {"level": "../x"}):
        reply = owner.get(path, params=query, follow_redirects=True)
        said = " ".join(flash(reply)) if path == "/logs" else reply.text
        assert reply.status_code == (200 if path == "/logs" else 400), (path, query, reply.text)
        assert "not one of Billy&#39;s units" in said or "not one of Billy's units" in said or "unknown level" in said


def test_wrong_current_passwords_on_the_system_page_are_rate_limited(tmp_path: Path) -> None:
    stage = start_web(tmp_path, tmp_path / "state", web_env={"BILLY_WEB_PASSWORD": PASSWORD})
    try:
        owner = client(stage)
        token = csrf_of(owner.get("/login"))
        owner.post("/login", data={"csrf": token, "password": PASSWORD})
        token = csrf_of(owner.get("/system"))
        change = {"csrf": token, "password": "a-new-password", "confirm": "a-new-password"}
        for attempt in range(LOGIN_ATTEMPTS):
            page = owner.post("/system/password", data={**change, "current": f"guess{attempt}"}, follow_redirects=True)
            assert flash(page) == ["Not changed: the current password is wrong."]
        page = owner.post("/system/password", data={**change, "current": PASSWORD}, follow_redirects=True)
        assert flash(page)[0].startswith("Not changed: too many wrong passwords, wait"), flash(page)
        assert owner.get("/system").status_code == 200  # still signed in, the password as it was
    finally:
        stage.web.stop()


def test_logout_ends_the_session(stage: WebStage, owner: httpx.Client) -> None:
    visitor = client(stage)
    token = csrf_of(visitor.get("/login"))
    assert visitor.post("/login", data={"csrf": token, "password": PASSWORD}).status_code == 303
    assert visitor.get("/settings").status_code == 200
    visitor.post("/logout", data={"csrf": csrf_of(visitor.get("/settings"))})
    assert visitor.get("/settings").headers["location"] == "/login"


def test_wrong_passwords_are_rejected_then_rate_limited(owner: httpx.Client, stage: WebStage) -> None:
    """Last in this file: it locks 127.0.0.1 out of logging in for a minute."""
    guesser = client(stage)
    token = csrf_of(guesser.get("/login"))
    for attempt in range(LOGIN_ATTEMPTS):
        reply = guesser.post("/login", data={"csrf": token, "password": f"guess{attempt}"})
        assert reply.status_code == 401 and "Wrong password" in reply.text
    reply = guesser.post("/login", data={"csrf": token, "password": PASSWORD})
    assert reply.status_code == 429 and int(reply.headers["retry-after"]) > 0  # even the right one, for now
    assert "billy_session" not in reply.headers.get("set-cookie", "")


def test_script_in_a_persona_field_is_rendered_inert(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/persona"))
    evil = '<script>document.title="owned"</script><img src=x onerror=alert(1)>'
    form = {
        "csrf": token,
        "instructions": f"You are Billy. {evil}",
        "backstory": f"origin: {evil}",
        "wake_phrases": evil,
    }
    page = owner.post("/persona", data=form, follow_redirects=True)
    assert "<script>document" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;document.title" in page.text
    assert evil in (stage.state_dir / "persona.ini").read_text()  # kept as the owner typed it, shown as text


def test_a_persona_is_chosen_by_name_never_by_path(owner: httpx.Client, stage: WebStage) -> None:
    outside = stage.state_dir.parent / "persona.ini"
    outside.write_text("[META]\ninstructions = not a persona of Billy's\n")
    page = owner.get("/persona", params={"name": "../../persona.ini"}, follow_redirects=True)
    assert page.url.path == "/persona" and any("no persona called" in m for m in flash(page))
    assert "not a persona of Billy" not in page.text
    token = csrf_of(page)
    form = {"csrf": token, "persona": "../..", "instructions": "You are a trout."}
    page = owner.post("/persona", data=form, follow_redirects=True)
    assert any(m.startswith("Not saved: no persona called") for m in flash(page)), flash(page)
    assert "trout" not in outside.read_text()


def test_people_and_their_memories_are_listed_edited_and_forgotten(owner: httpx.Client, stage: WebStage) -> None:
    people = People(stage.state_dir)
    people.meet("Sam")
    people.remember("Sam", "I like jazz")
    page = owner.get("/people")
    assert "Sam" in page.text and "I like jazz" in page.text
    token = csrf_of(page)
    memory = people.memories("sam")[0]
    form = {"csrf": token, "person": "sam", "memory_id": memory.id, "text": "I like bebop"}
    page = owner.post("/people/edit", data=form, follow_redirects=True)
    assert [m.memory for m in people.memories("sam")] == ["I like bebop"], flash(page)
    page = owner.post("/people/remember", data={"csrf": token, "person": "Alex", "text": "hates anchovies"})
    assert [m.memory for m in people.memories("alex")] == ["hates anchovies"]
    page = owner.post("/people/current", data={"csrf": token, "person": "alex"}, follow_redirects=True)
    assert people.current() == "alex" and "talking now" in page.text
    form = {"csrf": token, "person": "sam", "memory_id": memory.id}
    page = owner.post("/people/forget", data=form, follow_redirects=True)
    assert people.memories("sam") == [] and "Forgotten." in flash(page)
    page = owner.post("/people/delete", data={"csrf": token, "person": "sam"}, follow_redirects=True)
    assert "sam" not in people.names()


def test_a_person_is_named_never_a_path_and_a_memory_has_no_line_end(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/people"))
    page = owner.post("/people/delete", data={"csrf": token, "person": "../persona"}, follow_redirects=True)
    assert any(m.startswith("Not deleted:") and "not a name" in m for m in flash(page)), flash(page)
    assert (stage.state_dir / "persona.ini").exists()
    page = owner.post("/people/remember", data={"csrf": token, "person": "../../etc/x", "text": "hi"})
    assert not list(stage.state_dir.parent.glob("**/x.ini"))
    form = {"csrf": token, "person": "Kim", "text": "likes jazz\n[USER_INFO]\nname = root"}
    page = owner.post("/people/remember", data=form, follow_redirects=True)
    assert any(m.startswith("Not kept:") for m in flash(page)), flash(page)
    assert People(stage.state_dir).memories("kim") == []


def _song_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tone() -> bytes:
    return wav_bytes((np.sin(np.arange(22050) / 10) * 8000).astype(np.int16), 22050)


def test_a_zip_with_parent_paths_is_refused(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/songs"))
    for members in (
        {"../../persona.ini": b"[META]\n", "song/full.wav": _tone()},
        {"song/../../escape/full.wav": _tone()},
        {"/etc/full.wav": _tone()},
    ):
        files = {"files": ("song.zip", _song_zip(members), "application/zip")}
        page = owner.post("/songs/upload", data={"csrf": token}, files=files, follow_redirects=True)
        assert any("outside the song folder" in message for message in flash(page)), flash(page)
    assert not (stage.state_dir.parent / "escape").exists() and not (stage.state_dir / "songs" / "song").exists()


def test_an_oversize_upload_is_refused(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/songs"))
    big = b"\0" * (4 * 2**20)  # BILLY_WEB_MAX_UPLOAD_MB is 2 on this bench
    reply = owner.post("/songs/upload", data={"csrf": token, "name": "huge"}, files={"files": ("full.wav", big)})
    assert reply.status_code == 413
    bomb = _song_zip({"bomb/full.wav": b"\0" * (9 * 2**20)})  # compresses to a few KB, unpacks past 4x the limit
    page = owner.post("/songs/upload", data={"csrf": token}, files={"files": ("bomb.zip", bomb)}, follow_redirects=True)
    assert any("unpacks to more than" in message for message in flash(page)), flash(page)
    assert not any((stage.state_dir / "songs").glob("*/full.wav"))


def test_notes_uploaded_listed_and_removed_and_only_into_their_folder(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/notes"))
    notes = b"The green bin goes out on Tuesday evening at seven."
    files = [("files", ("house.md", notes, "text/markdown")), ("files", ("../../escape.txt", b"Out of bounds."))]
    page = owner.post("/notes/upload", data={"csrf": token}, files=files, follow_redirects=True)
    assert "Added house.md (1 passage), escape.txt (1 passage)." in flash(page), flash(page)
    assert "house.md" in page.text and (stage.state_dir / "knowledge" / "house.md").read_bytes() == notes
    assert not (stage.state_dir.parent / "escape.txt").exists()  # the name's folders are dropped
    page = owner.post(
        "/notes/upload", data={"csrf": token}, files={"files": ("run.sh", b"#!/bin/sh")}, follow_redirects=True
    )
    assert any("a .txt, .md or .pdf file" in message for message in flash(page)), flash(page)
    page = owner.post("/notes/delete", data={"csrf": token, "name": "house.md"}, follow_redirects=True)
    assert "Removed house.md." in flash(page) and not (stage.state_dir / "knowledge" / "house.md").exists()
    page = owner.post("/notes/delete", data={"csrf": token, "name": "../web/password.json"}, follow_redirects=True)
    assert any("no file called" in message for message in flash(page)), flash(page)
    assert (stage.state_dir / "web" / "password.json").exists()


def test_an_own_wake_word_uploaded_tried_and_offered_only_by_its_own_path(owner: httpx.Client, stage) -> None:
    token = csrf_of(owner.get("/sounds"))
    files = [("files", (name, data)) for name, data in micro_files("hey_fish").items()]
    page = owner.post("/sounds/wake-word", data={"csrf": token}, files=files, follow_redirects=True)
    assert "Wake word hey_fish loads and runs: choose it below to use it." in flash(page), flash(page)
    model = stage.state_dir / "wakewords" / "hey_fish" / "hey_fish.json"
    assert f'name="WAKE_WORD_MODEL" value="{model}"' in page.text and page.text.count('id="wake-words"') == 1
    broken = owner.post(
        "/sounds/wake-word", data={"csrf": token}, files={"files": ("x.onnx", b"junk")}, follow_redirects=True
    )
    assert any("does not load and run" in message for message in flash(broken)), flash(broken)
    use = {
        "csrf": token,
        "WAKE_WORD_ENABLED": "true",
        "WAKE_WORD_BACKEND": "microwakeword",
        "WAKE_WORD_MODEL": str(model),
    }
    owner.post("/settings", data=use)
    assert f'WAKE_WORD_MODEL="{model}"' in (stage.config_dir / "local.env").read_text()
    forged = {**use, "WAKE_WORD_MODEL": "/etc/billy/secrets.json"}  # a path the page never offered
    page = owner.post("/settings", data=forged, follow_redirects=True)
    assert any("is not one of the choices offered" in message for message in flash(page)), flash(page)
    assert "/etc/billy/secrets.json" not in (stage.config_dir / "local.env").read_text()


def test_health_answers_without_telling_anything(stage: WebStage) -> None:
    assert client(stage).get("/api/health").json() == {"ok": True}


def test_a_flood_of_anonymous_visits_keeps_signed_in_sessions() -> None:
    from billy.web.auth import MAX_SESSIONS, Sessions

    sessions = Sessions()
    token, _ = sessions.new(signed_in=True)
    for _ in range(MAX_SESSIONS * 3):
        sessions.new()
    assert sessions.get(token) is not None and len(sessions) <= MAX_SESSIONS


def test_an_entry_written_between_the_page_and_its_live_view_is_shown_once(owner: httpx.Client, stage: WebStage):
    # The order a busy machine makes likely: the page is read, a line is logged, then the browser opens the stream.
    page = owner.get("/logs", params={"unit": "billy-tts"})
    stream_url = html.unescape(re.search(r'data-stream="([^"]+)"', page.text).group(1))
    assert "after=" in stream_url or "since=" in stream_url, stream_url
    write_journal(stage.journal_dir, [("billy-tts", 3, "written while the page loaded")])
    with owner.stream("GET", stream_url, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                entry = json.loads(line.removeprefix("data: "))
                assert entry["message"] not in page.text, entry  # nothing the page showed comes again
                if entry["message"] == "written while the page loaded":
                    break


def test_a_backup_downloaded_then_restored_brings_back_what_was_removed(owner: httpx.Client, stage: WebStage) -> None:
    token = csrf_of(owner.get("/system"))
    notes = b"The cat is called Tuna and eats at six."
    owner.post("/notes/upload", data={"csrf": token}, files={"files": ("cat.md", notes)}, follow_redirects=True)
    archive = owner.post("/system/backup", data={"csrf": token})
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/x-tar"
    assert "billy-backup-" in archive.headers["content-disposition"]
    assert not list((stage.state_dir / "web").glob("backup-*"))  # the scratch copy went with the download
    owner.post("/notes/delete", data={"csrf": token, "name": "cat.md"}, follow_redirects=True)
    assert not (stage.state_dir / "knowledge" / "cat.md").exists()

    upload = {"archive": ("billy-backup.tar", archive.content, "application/x-tar")}
    page = owner.post("/system/restore", data={"csrf": token}, files=upload, follow_redirects=True)
    assert any(m.startswith("Restored ") and "your notes" in m for m in flash(page)), flash(page)
    assert (stage.state_dir / "knowledge" / "cat.md").read_bytes() == notes
    assert owner.get("/notes").status_code == 200  # still signed in: the password restored is the same one

    page = owner.post(
        "/system/restore", data={"csrf": token}, files={"archive": ("x.tar", b"not a tar")}, follow_redirects=True
    )
    assert any("Not restored, nothing was changed" in m for m in flash(page)), flash(page)
    assert (stage.state_dir / "knowledge" / "cat.md").read_bytes() == notes


def test_backups_kept_on_the_fish_are_listed_and_only_they_are_served(owner: httpx.Client, stage: WebStage) -> None:
    shelf = stage.state_dir / "backups"
    shelf.mkdir(exist_ok=True)
    (shelf / "billy-backup-20261207-101500.tar").write_bytes(b"a kept backup")
    (stage.state_dir / "secret.tar").write_bytes(b"not a backup")
    page = owner.get("/system")
    assert "billy-backup-20261207-101500.tar (0.0 MB)" in page.text
    token = csrf_of(page)
    got = owner.post("/system/backup/kept", data={"csrf": token, "name": "billy-backup-20261207-101500.tar"})
    assert got.status_code == 200 and got.content == b"a kept backup"
    assert 'filename="billy-backup-20261207-101500.tar"' in got.headers["content-disposition"]
    for name in ("../secret.tar", "billy-backup-20261207-101501.tar", "/etc/passwd", ""):
        refused = owner.post("/system/backup/kept", data={"csrf": token, "name": name}, follow_redirects=True)
        assert any("No such backup" in message for message in flash(refused)), (name, flash(refused))
