"""`billy backup` and `billy restore` (issue 27): what is the owner's, made by Billy's own code, backed up from one
fish and restored onto a fresh one, file for file, with what Billy remembers and finds again; secrets only when
asked; an archive that reaches outside its folders, or holds links or too much, changes nothing."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_knowledge import HOUSE_NOTES

from billy.appliance import backup
from billy.appliance.backup import OWNED, BackupError, restore
from billy.intents.timers import TimerBoard
from billy.knowledge import Knowledge
from billy.persona.people import People
from billy.settings import local as local_settings
from billy.web.auth import PASSWORD_FILE, PasswordStore

from install_fixture import PERSONA_V1, clip

SECRET = "sk-owners-own-key-1234"


def billy(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "billy", *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def an_owners_fish(root: Path) -> tuple[Path, Path]:
    """A fish that has been lived with, each part written by the code that owns it."""
    state, etc = root / "state", root / "etc"
    (state / "personas" / "pirate" / "wakeup").mkdir(parents=True)
    (state / "persona.ini").write_text(PERSONA_V1)
    (state / "personas" / "pirate" / "persona.ini").write_text(PERSONA_V1.replace("Billy", "Captain Billy"))
    (state / "personas" / "pirate" / "wakeup" / "1.wav").write_bytes(clip(hz=500))
    (state / "songs" / "river").mkdir(parents=True)
    (state / "songs" / "river" / "full.wav").write_bytes(clip(seconds=2))
    (state / "custom_songs" / "tango").mkdir(parents=True)  # the original's folder for the owner's own songs
    (state / "custom_songs" / "tango" / "full.wav").write_bytes(clip(seconds=1, hz=660))
    (state / "sounds").mkdir()
    (state / "sounds" / "not-heard.wav").write_bytes(clip(hz=300))
    (state / "models").mkdir()
    (state / "models" / "big-model.gguf").write_bytes(b"weights: fetched again, never backed up")
    etc.mkdir(parents=True)
    people = People(state)
    people.remember(people.meet("Anna"), "Anna's cat is called Tuna", "high")
    Knowledge(state).add("house.md", HOUSE_NOTES)
    TimerBoard(state, lambda timer: None).add(3600, "bread")
    PasswordStore(state / PASSWORD_FILE).set("fish and chips")
    local_settings.write_overrides({"RUN_MODE": "dory", "OPENAI_API_KEY": SECRET}, etc)
    return state, etc


def files_under(root: Path, paths: list[str]) -> dict[str, bytes]:
    found = {}
    for path in paths:
        item = root / path
        for file in [item] if item.is_file() else sorted(p for p in item.rglob("*") if p.is_file()):
            found[str(file.relative_to(root))] = file.read_bytes()
    return found


def test_a_backup_restored_on_a_fresh_fish_brings_back_every_file_and_what_billy_knows(tmp_path):
    state, etc = an_owners_fish(tmp_path / "old")
    archive = tmp_path / "billy.tar"
    made = billy("backup", str(archive), "--state-dir", str(state), "--etc-dir", str(etc))
    assert made.returncode == 0, made.stderr
    assert "holds: who Billy knows and what he remembers of them" in made.stdout
    assert SECRET.encode() not in archive.read_bytes() and oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as made_archive:
        assert "state/models/big-model.gguf" not in made_archive.getnames()

    fresh_state, fresh_etc = tmp_path / "new" / "state", tmp_path / "new" / "etc"
    done = billy("restore", str(archive), "--state-dir", str(fresh_state), "--etc-dir", str(fresh_etc))
    assert done.returncode == 0, done.stderr
    assert "restored: your notes" in done.stdout and "settings: RUN_MODE" in done.stdout
    owned = [entry.path for entry in OWNED]
    assert files_under(fresh_state, owned) == files_under(state, owned)
    assert len(files_under(state, owned)) >= 10  # the test made something of every kind
    assert not (fresh_state / "models").exists() and not (fresh_state / backup.STAGING).exists()
    # What Billy answers from: the memory, the notes, the timer, the password.
    assert [m.memory for m in People(fresh_state).memories("anna")] == ["Anna's cat is called Tuna"]
    assert "Tuesday evening at seven" in Knowledge(fresh_state).notes_for("When does the green bin go out?")
    assert [timer.name for timer in TimerBoard(fresh_state, lambda timer: None).timers()] == ["bread"]
    assert PasswordStore(fresh_state / PASSWORD_FILE).check("fish and chips")
    assert local_settings.read_overrides(fresh_etc) == {"RUN_MODE": "dory"}  # the key stayed on the old card


def test_with_secrets_the_keys_come_too(tmp_path):
    state, etc = an_owners_fish(tmp_path / "old")
    archive = tmp_path / "billy.tar"
    assert (
        billy("backup", str(archive), "--with-secrets", "--state-dir", str(state), "--etc-dir", str(etc)).returncode
        == 0
    )
    restore(archive, tmp_path / "new" / "state", tmp_path / "new" / "etc")
    assert local_settings.read_overrides(tmp_path / "new" / "etc")["OPENAI_API_KEY"] == SECRET


def hostile(tmp_path: Path, *members: tarfile.TarInfo | tuple[str, bytes]) -> Path:
    path = tmp_path / "hostile.tar"
    with tarfile.open(path, "w") as archive:
        for member in (("billy-backup.json", b'{"format": 1}'), *members):
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
                continue
            info = tarfile.TarInfo(member[0])
            info.size = len(member[1])
            archive.addfile(info, io.BytesIO(member[1]))
    return path


def link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (("state/../../etc/passwd", b"x"), "outside the backup's own folders"),
        (("/etc/cron.d/evil", b"x"), "outside the backup's own folders"),
        (("state/songs/a\nb/full.wav", b"x"), "outside the backup's own folders"),
        (("state/models/m.gguf", b"x"), "is not a part of a Billy backup"),
        (("state/persona.ini/inside", b"x"), "is not a part of a Billy backup"),
        (link("state/songs/river/full.wav", "/etc/shadow"), "not links or devices"),
    ],
)
def test_an_archive_that_reaches_outside_its_folders_changes_nothing(tmp_path, member, why):
    state, etc = an_owners_fish(tmp_path / "fish")
    before = files_under(state, [entry.path for entry in OWNED])
    archive = hostile(tmp_path, ("state/persona.ini", b"[PERSONALITY]\nhumor = 1\n"), member)
    with pytest.raises(BackupError, match=why):
        restore(archive, state, etc)
    assert files_under(state, [entry.path for entry in OWNED]) == before
    assert not (state / backup.STAGING).exists()


def test_a_file_larger_than_allowed_or_not_a_backup_is_refused(tmp_path, monkeypatch):
    state, etc = tmp_path / "state", tmp_path / "etc"
    monkeypatch.setattr(backup, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(BackupError, match="more than 1000 for one file"):
        restore(hostile(tmp_path, ("state/songs/big/full.wav", bytes(1001))), state, etc)
    (tmp_path / "notes.txt").write_text("not an archive")
    with pytest.raises(BackupError, match="not a Billy backup that can be read"):
        restore(tmp_path / "notes.txt", state, etc)
    future = tmp_path / "future.tar"
    with tarfile.open(future, "w") as archive:
        info = tarfile.TarInfo("billy-backup.json")
        info.size = len(b'{"format": 9}')
        archive.addfile(info, io.BytesIO(b'{"format": 9}'))
    with pytest.raises(BackupError, match="backup format 9 is not one this Billy reads"):
        restore(future, state, etc)


def test_a_bad_settings_line_is_named_and_the_rest_restored(tmp_path):
    archive = hostile(
        tmp_path,
        ("state/persona.ini", PERSONA_V1.encode()),
        ("settings/local.env", b'RUN_MODE="dory"\nMOUTH_ARTICULATION="eleven"\n'),
    )
    restored = restore(archive, tmp_path / "state", tmp_path / "etc")
    assert restored.parts == ["the persona"] and restored.settings == ["RUN_MODE"]
    assert any("MOUTH_ARTICULATION" in problem for problem in restored.problems)
    assert (tmp_path / "state" / "persona.ini").read_text() == PERSONA_V1


def test_from_the_boot_partition_a_restored_archive_goes_and_a_refused_one_is_renamed(tmp_path):
    state, etc = an_owners_fish(tmp_path / "old")
    boot = tmp_path / "boot"
    boot.mkdir()
    archive = boot / "billy-backup.tar"
    assert billy("backup", str(archive), "--state-dir", str(state), "--etc-dir", str(etc)).returncode == 0
    fresh = ["--state-dir", str(tmp_path / "new" / "state"), "--etc-dir", str(tmp_path / "new" / "etc")]
    done = billy("restore", str(archive), "--scrub", *fresh)
    assert done.returncode == 0 and not archive.exists(), done.stderr  # it may hold secrets: not left there
    archive.write_bytes(b"a broken copy")
    refused = billy("restore", str(archive), "--scrub", *fresh)
    assert refused.returncode == 1 and "nothing was changed" in refused.stderr
    assert not archive.exists() and (boot / "billy-backup.tar.refused").exists()  # not tried at every boot


def test_from_the_web_page_the_settings_pass_the_web_pages_allow_list(tmp_path):
    # BILLY_GPIO may come from the boot partition's billy.env, never from a browser: a backup uploaded there
    # cannot carry it in.
    archive = hostile(tmp_path, ("settings/local.env", b'RUN_MODE="dory"\nBILLY_GPIO="mock"\n'))
    restored = restore(archive, tmp_path / "state", tmp_path / "etc", web=True)
    assert restored.settings == ["RUN_MODE"]
    assert any("BILLY_GPIO cannot be changed from the web page" in problem for problem in restored.problems)
    assert local_settings.read_overrides(tmp_path / "etc") == {"RUN_MODE": "dory"}
