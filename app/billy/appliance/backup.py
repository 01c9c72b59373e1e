"""`billy backup` and `billy restore`: everything that is the owner's in one archive, and back on a new card.

What is the owner's is one declaration, `OWNED`: personas, who Billy knows and what he remembers, songs, clips,
his own wake words, notes, timers, the brain chosen while he ran, the web page's password (its hash), and the
settings changed on the fish (`local.env`, secrets only when asked). Not in it: models and wheels (fetched
again), logs, caches. The archive is a plain tar: `billy-backup.json` (what it holds), `state/<path>` and
`settings/local.env`.

Restoring trusts nothing in the archive: only members the declaration allows (regular files and folders; no
links, devices, absolute paths, `..` or control characters), each under `MAX_MEMBER_BYTES` and all under
`MAX_TOTAL_BYTES`, are written, into a staging folder first; a refused archive leaves the fish as it was. Then
each part replaces Billy's own (restoring means the backup wins), and `local.env`'s lines go through the same
checks as a `billy.env` (a bad line is named and left, the rest applied).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from billy.appliance.brain_choice import CHOICE_FILE
from billy.hearing.wake_models import OWN_MODELS_FOLDER
from billy.intents.timers import FILE as TIMERS_FILE
from billy.knowledge import FOLDER as NOTES_FOLDER
from billy.media.songs import SONG_DIRS
from billy.persona.library import CURRENT_FILE as PERSONA_CURRENT
from billy.persona.people import FOLDER as PEOPLE_FOLDER
from billy.settings import local as local_settings
from billy.settings.envfile import env_text, parse_env_text
from billy.settings.schema import SECRET_NAMES
from billy.web.auth import PASSWORD_FILE

FORMAT = 1
MANIFEST = "billy-backup.json"
STATE = "state"
SETTINGS = "settings/local.env"
MAX_MEMBER_BYTES = 512 * 2**20  # a song's full.wav is tens of MB
MAX_TOTAL_BYTES = 4 * 2**30
STAGING = ".restore-staging"  # in the state folder: the same filesystem, so parts move into place at once


@dataclass(frozen=True)
class Owned:
    path: str  # under the state folder
    what: str  # for the owner, in the manifest and the report
    folder: bool = False  # else a single file


OWNED = (
    Owned("persona.ini", "the persona"),
    Owned(PERSONA_CURRENT, "which persona speaks"),
    Owned("personas", "the other personas and their wake-up clips", folder=True),
    Owned(PEOPLE_FOLDER, "who Billy knows and what he remembers of them", folder=True),
    *(Owned(folder, "the songs", folder=True) for folder in SONG_DIRS),
    Owned("sounds", "the wake-up and error clips", folder=True),
    Owned(OWN_MODELS_FOLDER, "your own wake words", folder=True),
    Owned(NOTES_FOLDER, "your notes", folder=True),
    Owned(TIMERS_FILE, "the timers"),
    Owned(CHOICE_FILE, "the brain chosen while Billy ran"),
    Owned(str(PASSWORD_FILE), "the web page's password (its hash)"),
)


class BackupError(ValueError):
    """The archive cannot be restored (or made): nothing was changed."""


@dataclass
class Restored:
    parts: list[str] = field(default_factory=list)  # what was put back, in the owner's words
    settings: list[str] = field(default_factory=list)  # the settings applied
    problems: list[str] = field(default_factory=list)  # settings lines left, with why

    def lines(self) -> list[str]:
        out = [f"restored: {part}" for part in self.parts]
        out += [f"settings: {', '.join(self.settings)}"] if self.settings else []
        return out + [f"left: {problem}" for problem in self.problems]


def back_up(state_dir: Path, config_dir: Path, out: Path, with_secrets: bool = False) -> list[str]:
    """Write the archive to `out` (atomically); the parts it holds, in the owner's words."""
    held = [owned for owned in OWNED if (state_dir / owned.path).exists()]
    values = local_settings.read_overrides(config_dir)
    if not with_secrets:
        values = {name: value for name, value in values.items() if name not in SECRET_NAMES}
    manifest = {
        "format": FORMAT,
        "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "holds": [owned.path for owned in held],
        "secrets": with_secrets,
    }
    partial = out.with_name(out.name + ".part")
    with tarfile.open(partial, "w") as archive:
        _add_text(archive, MANIFEST, json.dumps(manifest, indent=2) + "\n")
        for owned in held:
            archive.add(state_dir / owned.path, f"{STATE}/{owned.path}", filter=_regular_only)
        _add_text(archive, SETTINGS, env_text(values))
    partial.chmod(0o600)  # the password hash, and secrets when asked
    os.replace(partial, out)
    return [owned.what for owned in held] + [f"{len(values)} settings changed on the fish"]


def restore(archive_path: Path, state_dir: Path, config_dir: Path, owner: str = "", web: bool = False) -> Restored:
    """Put the archive's parts in place of Billy's own and apply its settings; BackupError changes nothing.

    `web`: the web page restores it, so its settings pass the web page's allow-list, not a billy.env file's."""
    staging = state_dir / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        try:
            with tarfile.open(archive_path, "r:*") as archive:
                holds = _stage(archive, staging)
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{archive_path.name} is not a Billy backup that can be read: {error}") from None
        result = Restored()
        for owned in (owned for owned in OWNED if owned.path in holds):
            _replace(staging / STATE / owned.path, state_dir / owned.path)
            if owner:
                _chown_tree(state_dir / owned.path, owner)
            if owned.what not in result.parts:
                result.parts.append(owned.what)
        if (staging / SETTINGS).is_file():
            config_dir.mkdir(parents=True, exist_ok=True)
            if web:
                text = (staging / SETTINGS).read_text(errors="replace")
                lines = {line.name: line.value for line in parse_env_text(text, "local.env").lines}
                applied = local_settings.apply_changes(lines, config_dir, "local.env", web=True)
            else:
                applied = local_settings.apply_file(staging / SETTINGS, config_dir)
            result.settings, result.problems = sorted(applied.changed), applied.problems
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _stage(archive: tarfile.TarFile, staging: Path) -> set[str]:
    """Every member checked and written under `staging`; the owned paths the archive holds."""
    members = archive.getmembers()
    if not members or members[0].name != MANIFEST:
        raise BackupError(f"not a Billy backup: it does not start with {MANIFEST}")
    try:
        manifest = json.loads(archive.extractfile(members[0]).read(65536))
    except ValueError:
        raise BackupError(f"not a Billy backup: {MANIFEST} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not one this Billy reads ({FORMAT})")
    total, holds = 0, set()
    for member in members[1:]:
        _check_name(member.name)
        if member.isdir():
            continue  # made as its files are written
        root = _owned_root(member.name)
        if not member.isfile():
            raise BackupError(f"{member.name}: only files and folders are restored, not links or devices")
        if member.size > MAX_MEMBER_BYTES:
            raise BackupError(f"{member.name}: {member.size} bytes, more than {MAX_MEMBER_BYTES} for one file")
        total += member.size
        if total > MAX_TOTAL_BYTES:
            raise BackupError(f"the archive holds more than {MAX_TOTAL_BYTES} bytes")
        target = staging / member.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.extractfile(member) as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy)
        target.chmod(0o640 if member.name == SETTINGS else 0o644)
        holds.add(root)
    return holds


def _check_name(name: str) -> None:
    parts = PurePosixPath(name).parts
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts) or _has_control(name):
        raise BackupError(f"{name!r}: a path outside the backup's own folders")


def _owned_root(name: str) -> str:
    """The owned path a file `name` belongs to (SETTINGS for the settings), or BackupError."""
    if name == SETTINGS:
        return SETTINGS
    state, _, relative = name.partition("/")
    for owned in OWNED if state == STATE else ():
        if (relative == owned.path and not owned.folder) or (owned.folder and relative.startswith(owned.path + "/")):
            return owned.path
    raise BackupError(f"{name!r} is not a part of a Billy backup")


def _has_control(name: str) -> bool:
    return any(ord(character) < 32 or ord(character) == 127 for character in name)


def _replace(new: Path, target: Path) -> None:
    """`new` in place of `target` (file or folder), the old one gone only once the new one is there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        old = target.with_name(target.name + ".before-restore")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old)
    else:
        os.replace(new, target)


def _chown_tree(path: Path, owner: str) -> None:
    for item in [path, *(path.rglob("*") if path.is_dir() else [])]:
        shutil.chown(item, owner, owner)


def _add_text(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
    archive.addfile(info, io.BytesIO(data))


def _regular_only(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Files and folders only (a link in the state folder is not the owner's data), owned by nobody in particular."""
    if not (member.isfile() or member.isdir()):
        return None
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member
