"""Songs in the original project's two formats, and the motion plan Billy performs while singing one.

A song is a folder: `full.wav` is played, `vocals.wav` drives the mouth, `drums.wav` the tail (16-bit, mono
or stereo, 24 or 48 kHz). Its settings come from `metadata.ini` (section `[SONG]`, v2) or else `metadata.txt`
(`key=value` lines, v1), with the original's meaning and scale:

- `bpm` (default 120): the beat; the tail flaps at most once per beat, `half_tempo_tail_flap` once per two.
- `gain` (default 1.0): multiplies full, vocals and drums before any threshold is applied.
- `tail_threshold` (default 1500): the drums' RMS on the int16 scale (0..32767) that makes a beat a hit.
- `compensate_tail` (default 0): a fraction of a beat the flap is moved earlier, for the motor's lag.
- `head_moves`: `start:duration, start:duration` in seconds: the head is out in each window.
- `mouth_threshold` (default 1500): the vocals' RMS (int16 scale) under which the mouth stays shut.
- v2 adds `title`, `keywords` (comma separated; both found when asked by name), `tail_moves` (`start:duration`
  windows in which the tail flaps on every beat, drums or not), `mouth_mutes` (`start:duration` windows with
  the mouth shut), `mouth_articulation` (0-10, how wide the mouth opens; 5 is normal), `enabled` (false hides
  the song) and `led_color` ("#rrggbb": the status LED pulses it while the song plays).

Songs live in `custom_songs/` and `songs/` under Billy's state folder; a name in `custom_songs/` wins, as in
the original.
"""

from __future__ import annotations

import configparser
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from billy.audio.pcm import AudioFormatError, Pcm, read_wav
from billy.settings.kinds import TRUE_WORDS

LOG = logging.getLogger(__name__)
BLOCK_SECONDS = 0.04  # the loudness window, as the player's block
SONG_DIRS = ("custom_songs", "songs")  # under the state folder, first wins


class SongError(LookupError):
    """No such song, or its files are unusable; the message says which."""


@dataclass(frozen=True)
class SongInfo:
    """What a song folder says about itself, without reading its audio."""

    name: str
    folder: Path
    title: str
    keywords: tuple[str, ...] = ()
    bpm: float = 120.0
    gain: float = 1.0
    tail_threshold: float = 1500.0
    compensate_tail: float = 0.0
    head_moves: tuple[tuple[float, float], ...] = ()
    tail_moves: tuple[tuple[float, float], ...] = ()
    mouth_mutes: tuple[tuple[float, float], ...] = ()
    half_tempo_tail_flap: bool = False
    mouth_threshold: float = 1500.0
    mouth_articulation: int = 5
    led_color: str = ""  # "#rrggbb", for the status LED (body/status_led.py parses it)
    enabled: bool = True
    format: str = "none"  # "ini", "txt" or "none" (no metadata: every default)

    @property
    def names(self) -> list[str]:
        return [self.name, self.title, *self.keywords]


@dataclass
class Song:
    info: SongInfo
    full: Pcm
    vocals: Pcm | None
    drums: Pcm | None

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def title(self) -> str:
        return self.info.title


@dataclass
class MotionPlan:
    """When the head is out and when the tail flaps (seconds from the song's start), and what the mouth follows."""

    head_windows: list[tuple[float, float]] = field(default_factory=list)  # (start, end)
    tail_flaps: list[float] = field(default_factory=list)
    mouth: np.ndarray | None = None  # the vocals after gain, threshold and mutes; None: follow full
    mouth_rate: int = 0
    beat_seconds: float = 0.5


# -- reading metadata -----------------------------------------------------------------------------------------


def _windows(name: str, text: str, folder: Path) -> tuple[tuple[float, float], ...]:
    """`start:duration` pairs, comma separated; a malformed pair is logged and skipped."""
    windows = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)", part)
        if match is None:
            LOG.warning("%s: %s entry %r is not start:duration in seconds; skipped", folder, name, part)
            continue
        windows.append((float(match[1]), float(match[2])))
    return tuple(windows)


def _float(raw: dict[str, str], key: str, default: float, folder: Path) -> float:
    text = raw.get(key, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        LOG.warning("%s: %s=%r is not a number; using %g", folder, key, text, default)
        return default


def _raw_metadata(folder: Path) -> tuple[dict[str, str], str]:
    ini, txt = folder / "metadata.ini", folder / "metadata.txt"
    if ini.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(ini.read_text(errors="replace"))
        except configparser.Error as error:
            LOG.warning("%s: unreadable (%s); using the defaults", ini, error)
            return {}, "ini"
        return (dict(parser["SONG"]) if parser.has_section("SONG") else {}), "ini"
    if txt.is_file():
        pairs = {}
        for line in txt.read_text(errors="replace").splitlines():
            if "=" in line and not line.lstrip().startswith(("#", ";")):
                key, value = line.split("=", 1)
                pairs[key.strip().lower()] = value.strip()
        return pairs, "txt"
    return {}, "none"


def read_info(folder: Path) -> SongInfo:
    raw, kind = _raw_metadata(folder)
    bpm = _float(raw, "bpm", 120.0, folder)
    if bpm <= 0:
        LOG.warning("%s: bpm=%g must be above 0; using 120", folder, bpm)
        bpm = 120.0
    articulation = int(_float(raw, "mouth_articulation", 5, folder))
    return SongInfo(
        name=folder.name,
        folder=folder,
        title=raw.get("title", "").strip() or folder.name.replace("_", " ").title(),
        keywords=tuple(k.strip() for k in raw.get("keywords", "").split(",") if k.strip()),
        bpm=bpm,
        gain=_float(raw, "gain", 1.0, folder),
        tail_threshold=_float(raw, "tail_threshold", 1500.0, folder),
        compensate_tail=_float(raw, "compensate_tail", 0.0, folder),
        head_moves=_windows("head_moves", raw.get("head_moves", ""), folder),
        tail_moves=_windows("tail_moves", raw.get("tail_moves", ""), folder),
        mouth_mutes=_windows("mouth_mutes", raw.get("mouth_mutes", ""), folder),
        half_tempo_tail_flap=raw.get("half_tempo_tail_flap", "false").strip().lower() in TRUE_WORDS,
        mouth_threshold=_float(raw, "mouth_threshold", 1500.0, folder),
        mouth_articulation=min(10, max(0, articulation)),
        led_color=raw.get("led_color", "").strip()[:16],
        enabled=raw.get("enabled", "true").strip().lower() in TRUE_WORDS,
        format=kind,
    )


# -- the library ---------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower()))


class SongLibrary:
    """Every song under the state folder: `custom_songs/<name>` over `songs/<name>`."""

    def __init__(self, state_dir: Path) -> None:
        self.dirs = [state_dir / name for name in SONG_DIRS]

    def songs(self) -> dict[str, SongInfo]:
        found: dict[str, SongInfo] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                continue
            for folder in sorted(directory.iterdir()):
                if folder.name in found or not (folder / "full.wav").is_file():
                    continue
                info = read_info(folder)
                if info.enabled:
                    found[folder.name] = info
        return found

    def find(self, wanted: str) -> SongInfo:
        """The song asked for: an exact name, title or keyword first, then the one whose words match most.

        Words, not letters: "tango" finds "Tuna Tango" but "a" does not find every song with an a in it, and
        two songs matching equally well are an error that names both rather than a guess.
        """
        songs = self.songs()
        asked = _words(wanted)
        if not asked:
            raise SongError("no song name given")
        scored: list[tuple[int, str]] = []
        for name, info in songs.items():
            best = 0
            for candidate in filter(None, map(_words, info.names)):
                if candidate == asked:
                    best = max(best, 1000)
                elif _contains(asked, candidate) or _contains(candidate, asked):
                    best = max(best, min(len(candidate), len(asked)))
            if best:
                scored.append((best, name))
        if not scored:
            known = ", ".join(info.title for info in songs.values()) or "none yet"
            raise SongError(f"no song called {wanted!r}; the songs are: {known}")
        scored.sort(reverse=True)
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            tied = [songs[name].title for score, name in scored if score == scored[0][0]]
            raise SongError(f"{wanted!r} could be {' or '.join(tied)}: say which")
        return songs[scored[0][1]]

    def load(self, wanted: str) -> Song:
        return load_song(self.find(wanted).folder)


def _contains(words: tuple[str, ...], part: tuple[str, ...]) -> bool:
    """`part` appears in `words` as consecutive whole words."""
    return any(words[i : i + len(part)] == part for i in range(len(words) - len(part) + 1))


def _wav(path: Path, required: bool) -> Pcm | None:
    if not path.is_file():
        if required:
            raise SongError(f"{path} is missing")
        return None
    try:
        return read_wav(path.read_bytes())
    except AudioFormatError as error:
        raise SongError(f"{path}: {error}") from None


def load_song(folder: Path) -> Song:
    return Song(
        info=read_info(folder),
        full=_wav(folder / "full.wav", required=True),
        vocals=_wav(folder / "vocals.wav", required=False),
        drums=_wav(folder / "drums.wav", required=False),
    )


# -- the motion plan -----------------------------------------------------------------------------------------


def block_rms(pcm: Pcm, gain: float) -> np.ndarray:
    """RMS on the int16 scale of each BLOCK_SECONDS block, after gain (as the original measures it)."""
    step = max(1, int(pcm.rate * BLOCK_SECONDS))
    samples = np.clip(pcm.samples.astype(np.float64) * gain, -32768, 32767)
    count = -(-len(samples) // step)
    padded = np.zeros(count * step)
    padded[: len(samples)] = samples
    return np.sqrt(np.mean(padded.reshape(count, step) ** 2, axis=1))


def _inside(t: float, windows: tuple[tuple[float, float], ...]) -> bool:
    return any(start <= t < start + duration for start, duration in windows)


def plan_motion(song: Song) -> MotionPlan:
    info = song.info
    beat = 60.0 / info.bpm * (2 if info.half_tempo_tail_flap else 1)
    plan = MotionPlan(
        head_windows=[(start, start + duration) for start, duration in info.head_moves], beat_seconds=beat
    )
    length = song.full.seconds
    drums = block_rms(song.drums, info.gain) if song.drums is not None else np.zeros(0)
    lead = info.compensate_tail * beat
    for index in range(int(np.ceil(length / beat))):
        start = index * beat
        first, last = int(start / BLOCK_SECONDS), int((start + beat) / BLOCK_SECONDS)
        peak = float(drums[first:last].max()) if last > first and first < len(drums) else 0.0
        if peak > info.tail_threshold or _inside(start, info.tail_moves):
            plan.tail_flaps.append(max(0.0, start - lead))
    if song.vocals is not None:
        plan.mouth, plan.mouth_rate = _mouth_driver(song.vocals, info)
    return plan


def _mouth_driver(vocals: Pcm, info: SongInfo) -> tuple[np.ndarray, int]:
    """The vocals as the mouth should see them: gain and articulation applied, quiet blocks and mutes silenced."""
    step = max(1, int(vocals.rate * BLOCK_SECONDS))
    scale = info.gain * max(info.mouth_articulation, 1) / 5
    driver = np.clip(vocals.samples.astype(np.float64) * scale, -32768, 32767).astype(np.int16)
    for index, level in enumerate(block_rms(vocals, info.gain)):
        if level < info.mouth_threshold or _inside(index * BLOCK_SECONDS, info.mouth_mutes):
            driver[index * step : (index + 1) * step] = 0
    return driver, vocals.rate
