"""Songs in the original format: `songs/<name>/full.wav` is played, `vocals.wav` drives the mouth,
`drums.wav` the tail, and `metadata.txt` (`key = value` lines) gives the title, gain and head moves.

metadata.txt keys read here: `title`, `keywords` (comma-separated, also matched when asked by name), `gain`
(a multiplier, default 1.0), `head_moves` (comma-separated `start-end` second ranges with the head out),
`tail_threshold` (drum loudness, 0..1 of full scale, that counts as a hit; default 0.1). Others are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .audio.pcm import AudioFormatError, Pcm, read_wav


class SongError(LookupError):
    """No such song, or its files are unusable; the message says which."""


@dataclass
class Song:
    name: str
    title: str
    full: Pcm
    vocals: Pcm | None
    drums: Pcm | None
    gain: float = 1.0
    head_moves: list[tuple[float, float]] = field(default_factory=list)
    tail_threshold: float = 0.1
    keywords: list[str] = field(default_factory=list)


def read_metadata(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    pairs = {}
    for line in path.read_text(errors="replace").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            pairs[key.strip().lower()] = value.strip()
    return pairs


def _ranges(text: str) -> list[tuple[float, float]]:
    ranges = []
    for start, end in re.findall(r"(\d+(?:\.\d+)?)\s*[-:]\s*(\d+(?:\.\d+)?)", text):
        ranges.append((float(start), float(end)))
    return ranges


def _number(meta: dict[str, str], key: str, default: float) -> float:
    try:
        return float(meta.get(key, default))
    except ValueError:
        return default


def _wav(path: Path, required: bool) -> Pcm | None:
    if not path.is_file():
        if required:
            raise SongError(f"{path} is missing")
        return None
    try:
        return read_wav(path.read_bytes())
    except AudioFormatError as error:
        raise SongError(f"{path}: {error}") from None


def list_songs(songs_dir: Path) -> dict[str, dict[str, str]]:
    if not songs_dir.is_dir():
        return {}
    return {
        folder.name: read_metadata(folder / "metadata.txt")
        for folder in sorted(songs_dir.iterdir())
        if (folder / "full.wav").is_file()
    }


def find_song(songs_dir: Path, wanted: str) -> Song:
    songs = list_songs(songs_dir)
    key = wanted.strip().lower()
    for name, meta in songs.items():
        names = [name.lower(), meta.get("title", "").lower()]
        names += [k.strip().lower() for k in meta.get("keywords", "").split(",") if k.strip()]
        if key and (key in names or any(key in n or n in key for n in names if n)):
            return load_song(songs_dir / name)
    known = ", ".join(songs) or "none yet"
    raise SongError(f"no song called {wanted!r}; the songs are: {known}")


def load_song(folder: Path) -> Song:
    meta = read_metadata(folder / "metadata.txt")
    return Song(
        name=folder.name,
        title=meta.get("title", folder.name),
        full=_wav(folder / "full.wav", required=True),
        vocals=_wav(folder / "vocals.wav", required=False),
        drums=_wav(folder / "drums.wav", required=False),
        gain=_number(meta, "gain", 1.0),
        head_moves=_ranges(meta.get("head_moves", "")),
        tail_threshold=_number(meta, "tail_threshold", 0.1),
        keywords=[k.strip() for k in meta.get("keywords", "").split(",") if k.strip()],
    )
