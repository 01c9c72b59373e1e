"""`billy import DIR`: move an owner's original Billy B-Assistant (or local-models fork) install in.

From the install folder it takes `.env` (into `/etc/billy/local.env`, the local overrides every Billy unit
reads after its own file, so Ansible never overwrites them), `persona.ini`, `personas/<name>/`, the user
profiles with their memories (`profiles/<name>.ini`), songs (`custom_songs/<name>/` and
`sounds/songs/<name>/`), wake-up clips (`sounds/wake-up/*.wav` and `custom/<i>.wav`) and the owner's own
openWakeWord model (`hey_billy.onnx`) into Billy's state folder. Everything is checked first: a setting with the
app's own parser, a persona by reading it, a song and a clip by decoding their WAVs, a wake word model by
running it. It prints what it took, what it converted (an original name for something this Billy spells
differently) and what it left, with why.

Only what is missing is written, so a second run reports nothing to do. A file or setting Billy already has
with another value (a persona changed by voice, a setting changed in the web UI) is kept and reported, unless
`--force` says the install's copy wins. Settings the deployment owns (which local models and where they run)
are left to the inventory.
"""

from __future__ import annotations

import configparser
import grp
import os
import pwd
from dataclasses import dataclass, field
from pathlib import Path

from billy.audio.pcm import AudioFormatError, read_wav
from billy.hearing.own_wake_words import WakeWordUploadError, add_own_model
from billy.hearing.wake_models import OWN_MODELS_FOLDER
from billy.persona.people import PeopleError, profile_name
from billy.persona.persona import DEFAULT_PERSONA, Persona, PersonaError
from billy.settings import local as local_settings
from billy.settings import original as original_settings
from billy.settings.envfile import read_env_file
from billy.settings.schema import SECRET_NAMES

# Settings that describe the old machine's own services, not this one's.
DEPLOYMENT_OWNED = {
    "BILLY_STATE_DIR": "this Billy's state folder is set by its deployment",
    "BILLY_AUDIO_DIR": "this Billy's audio spool is set by its deployment",
    "USE_LOCAL_MODELS": "this Billy runs local models; BRAIN chooses the cloud's Realtime voice, "
    "STT/LLM/TTS_FALLBACK a cloud stage",
    **{
        f"LOCAL_{stage}_{part}": f"the deployment installs this Billy's own models and services (inventory: {var})"
        for stage, var in (("LLM", "billy_app_llm_*"), ("STT", "billy_app_stt_*"), ("TTS", "billy_app_tts_*"))
        for part in ("HOST", "PORT", "MODEL", "VOICE")
    },
}


@dataclass
class Report:
    took: list[str] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    unchanged: int = 0

    def lines(self) -> list[str]:
        out = [f"took: {item}" for item in self.took]
        out += [f"converted: {item}" for item in self.converted]
        out += [f"left: {item}" for item in self.left]
        if not self.took and not self.converted:
            out.append(f"nothing to do: {self.unchanged} item(s) already in place")
        return out


class Importer:
    def __init__(self, source: Path, etc_dir: Path, state_dir: Path, owner: str = "", force: bool = False) -> None:
        if not source.is_dir():
            raise FileNotFoundError(f"{source} is not a folder: give the original install's folder")
        self.source, self.etc_dir, self.state_dir, self.owner = source, etc_dir, state_dir, owner
        self.force = force
        self.report = Report()
        self._derived: dict[str, str] = {}  # a setting the original implied, not named: how it came

    def run(self) -> Report:
        self._settings()
        self._persona(self.source / "persona.ini", self.state_dir / "persona.ini", "persona.ini")
        personas = self.source / "personas"
        for folder in sorted(personas.iterdir()) if personas.is_dir() else []:
            if folder.is_dir():
                self._persona_folder(folder)
        for origin, target in (("custom_songs", "custom_songs"), ("sounds/songs", "songs")):
            songs = self.source / origin
            for folder in sorted(songs.iterdir()) if songs.is_dir() else []:
                if folder.is_dir():
                    self._song(folder, self.state_dir / target / folder.name, f"{origin}/{folder.name}")
        profiles = self.source / "profiles"
        for profile in sorted(profiles.glob("*.ini")) if profiles.is_dir() else []:
            self._profile(profile)
        wake = self.source / "sounds" / "wake-up"
        for sub in ("", "custom"):
            for clip in sorted((wake / sub).glob("*.wav")) if (wake / sub).is_dir() else []:
                self._clip(clip, self.state_dir / "sounds" / "wake-up" / sub / clip.name)
        return self.report

    # -- .env ------------------------------------------------------------------------------------------

    def _settings(self) -> None:
        env_file = self.source / ".env"
        if not env_file.is_file():
            return
        found, self._derived, hint = cloud_voice(self._own_wake_word(read_env_file(env_file)))
        if hint:
            self.report.left.append(hint)
        conversions = original_settings.conversions(found)
        unused = original_settings.unused(found)
        wanted: dict[str, str] = {}
        current = local_settings.read_overrides(self.etc_dir)
        for name, value in found.items():
            if not value:
                continue  # an empty line in .env: the deployment's value stays
            if name in unused:
                self.report.left.append(f"{name} (.env): {unused[name]}")
            elif name in DEPLOYMENT_OWNED:
                mapped = f" ({value} would be {conversions[name][1]})" if name in conversions else ""
                self.report.left.append(f"{name} (.env): {DEPLOYMENT_OWNED[name]}{mapped}")
            elif problem := local_settings.check_value(name, value, context=current):
                self.report.left.append(f"{name} (.env): {problem}")
            else:
                wanted[name] = conversions[name][1] if name in conversions else value
        target = self.etc_dir / local_settings.LOCAL_ENV
        for name in sorted(wanted):
            if name in current and current[name] != wanted[name] and not self.force:
                shown = "***" if name in SECRET_NAMES else repr(current[name])
                self.report.left.append(f"{name} (.env): kept this Billy's {shown} (--force to replace)")
                del wanted[name]
        merged = {**current, **wanted}
        changed = sorted(name for name in wanted if current.get(name) != wanted[name])
        self.report.unchanged += len(wanted) - len(changed)
        if not changed:
            return
        self.report.converted += [
            f"{name}={conversions[name][0]} -> {wanted[name]}" for name in changed if name in conversions
        ]
        self.report.converted += [self._derived[name] for name in changed if name in self._derived]
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        local_settings.write_overrides(merged, self.etc_dir)
        self.report.took.append(f".env: {', '.join(changed)} -> {target}")

    def _own_wake_word(self, found: dict[str, str]) -> dict[str, str]:
        """The original's own openWakeWord model (WAKE_WORD_OPENWAKEWORD_MODEL_PATH, "hey_billy.onnx" in the
        install folder), kept as Billy's own wake word once it loads and runs, and the original's settings for
        it in this Billy's names. The settings without it as they were found."""
        found = dict(found)
        named = found.pop("WAKE_WORD_OPENWAKEWORD_MODEL_PATH", "") or "hey_billy.onnx"
        threshold = found.pop("WAKE_WORD_OPENWAKEWORD_THRESHOLD", "")
        model = (self.source / named).resolve()
        wanted = found.get("WAKE_WORD_BACKEND", "").lower() == "openwakeword"
        if not model.is_file() or not model.is_relative_to(self.source.resolve()):
            if wanted:
                self.report.left.append(f"WAKE_WORD_OPENWAKEWORD_MODEL_PATH (.env): no {named} in {self.source}")
            return found
        data = model.read_bytes()
        kept = self.state_dir / OWN_MODELS_FOLDER / model.stem / model.name
        if kept.is_file() and kept.read_bytes() == data:
            self.report.unchanged += 1
        else:
            try:
                kept = add_own_model(self.state_dir, {model.name: data})
            except WakeWordUploadError as error:
                self.report.left.append(f"{named}: {error}")
                return found
            for path in [kept.parent, *kept.parent.iterdir()]:
                self._own(path, self.owner, self.owner)
            self.report.took.append(f"{named} -> {kept} (it loads and runs)")
        if wanted:
            found["WAKE_WORD_MODEL"] = str(kept)
            if threshold:
                found["WAKE_WORD_THRESHOLD"] = threshold
        return found

    # -- personas, songs, clips ---------------------------------------------------------------------

    def _persona(self, source: Path, target: Path, label: str) -> bool:
        if not source.is_file():
            return False
        try:
            Persona(source)
        except PersonaError as error:
            self.report.left.append(f"{label}: {error}")
            return False
        self._copy(source, target, label)
        return True

    def _persona_folder(self, folder: Path) -> None:
        label = f"personas/{folder.name}"
        if not self._persona(folder / "persona.ini", self.state_dir / "personas" / folder.name / "persona.ini", label):
            if not (folder / "persona.ini").is_file():
                self.report.left.append(f"{label}: no persona.ini in it")
            return
        wakeup = folder / "wakeup"
        for clip in sorted(wakeup.glob("*.wav")) if wakeup.is_dir() else []:
            self._clip(clip, self.state_dir / "personas" / folder.name / "wakeup" / clip.name)

    def _profile(self, path: Path) -> None:
        """A user profile with its memories (persona/people.py reads the original's format as it is)."""
        label = f"profiles/{path.name}"
        try:
            profile_name(path.stem)
            configparser.ConfigParser(interpolation=None).read_string(path.read_text(encoding="utf-8"))
        except (PeopleError, configparser.Error, UnicodeDecodeError) as error:
            self.report.left.append(f"{label}: {error}")
            return
        self._copy(path, self.state_dir / "profiles" / path.name.lower(), label)

    def _song(self, folder: Path, target: Path, label: str) -> None:
        if not (folder / "full.wav").is_file():
            self.report.left.append(f"{label}: no full.wav, so nothing to play")
            return
        for stem in ("full", "vocals", "drums"):
            path = folder / f"{stem}.wav"
            if path.is_file() and (problem := _wav_problem(path)):
                self.report.left.append(f"{label}: {stem}.wav {problem}")
                return
        for name in ("full.wav", "vocals.wav", "drums.wav", "metadata.ini", "metadata.txt"):
            if (folder / name).is_file():
                self._copy(folder / name, target / name, f"{label}/{name}")

    def _clip(self, source: Path, target: Path) -> None:
        label = str(source.relative_to(self.source))
        if problem := _wav_problem(source):
            self.report.left.append(f"{label}: {problem}")
            return
        self._copy(source, target, label)

    # -- writing ----------------------------------------------------------------------------------------

    def _copy(self, source: Path, target: Path, label: str) -> None:
        data = source.read_bytes()
        if target.is_file() and target.read_bytes() == data:
            self.report.unchanged += 1
            return
        if target.is_file() and not self.force and not _is_shipped_default(target):
            self.report.left.append(f"{label}: {target} differs and is kept (--force to replace)")
            return
        self._write(target, data, mode=0o640, group=self.owner)
        self.report.took.append(f"{label} -> {target}")

    def _write(self, target: Path, data: bytes, mode: int, group: str) -> None:
        """Atomically, owned by Billy's user (or root with Billy's group for settings) when run as root."""
        for folder in reversed([target.parent, *target.parent.parents]):
            if not folder.exists():
                folder.mkdir(mode=0o750)
                self._own(folder, self.owner, self.owner)
        partial = target.with_name(f".{target.name}.part")
        partial.write_bytes(data)
        partial.chmod(mode)
        self._own(partial, self.owner if group == self.owner else "", group)
        partial.replace(target)

    @staticmethod
    def _own(path: Path, user: str, group: str) -> None:
        if os.geteuid() != 0 or not group:
            return
        try:
            uid = pwd.getpwnam(user).pw_uid if user else 0
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            return  # no such user here (a test machine): root keeps it
        os.chown(path, uid, gid)


def cloud_voice(found: dict[str, str]) -> tuple[dict[str, str], dict[str, str], str]:
    """The original answered in its provider's Realtime voice. Its Realtime model comes in as REALTIME_MODEL
    (OPENAI_MODEL stays, as the chat model it maps to); an owner of the fork who chose the cloud
    (USE_LOCAL_MODELS=false) gets BRAIN=realtime, that voice back. An owner of the original gets a line saying
    how, not a cloud bill he did not ask this Billy for. Returns the settings with those added, how each added
    one came (by name), and the line for the owner ("" when none)."""
    found, derived = dict(found), {}
    provider = found.get("REALTIME_AI_PROVIDER", "").strip().lower() or "openai"
    model_setting = "XAI_MODEL" if provider == "xai" else "OPENAI_MODEL"
    model = found.get(model_setting, "").strip()
    if model and original_settings.is_realtime_model(model) and not found.get("REALTIME_MODEL"):
        found["REALTIME_MODEL"] = model
        derived["REALTIME_MODEL"] = f"{model_setting}={model} -> REALTIME_MODEL={model} (the Realtime voice)"
    if found.get("BRAIN"):
        return found, derived, ""
    if found.get("USE_LOCAL_MODELS", "").strip().lower() in ("false", "0", "no", "off"):
        found["BRAIN"] = "realtime"
        derived["BRAIN"] = "USE_LOCAL_MODELS=false -> BRAIN=realtime (the original's cloud voice)"
    elif "USE_LOCAL_MODELS" not in found and found.get(original_settings.KEY_SETTINGS.get(provider, "")):
        return (
            found,
            derived,
            (
                "BRAIN: this Billy answers locally; BRAIN=realtime brings back the original's Realtime voice "
                f"({provider}, its key imported)"
            ),
        )
    return found, derived, ""


def _is_shipped_default(path: Path) -> bool:
    """The persona Billy ships with is not the owner's: an import replaces it without --force."""
    return path.name == "persona.ini" and path.read_bytes() == DEFAULT_PERSONA.read_bytes()


def _wav_problem(path: Path) -> str:
    try:
        read_wav(path.read_bytes())
    except (AudioFormatError, OSError) as error:
        return f"cannot be used ({error})"
    return ""


def import_install(source: Path, etc_dir: Path, state_dir: Path, owner: str = "", force: bool = False) -> list[str]:
    return Importer(source, etc_dir, state_dir, owner, force).run().lines()
