"""Songs uploaded from the web page: a zip of one song folder, or its files, checked before anything is kept.

A song is the original's folder: `full.wav` (required), `vocals.wav`, `drums.wav`, `metadata.txt`. Nothing
else is accepted, no member may leave the folder (`../`, absolute paths, links), and the unpacked size is
bounded as well as the upload, so a zip bomb fills nothing.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath

from billy.audio.pcm import AudioFormatError, read_wav
from billy.folders import put_folder

SONG_FILES = ("full.wav", "vocals.wav", "drums.wav", "metadata.txt")
SONG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


class UploadError(ValueError):
    """The upload is refused; the message says what and why."""


def check_song_name(name: str) -> str:
    name = name.strip()
    if not SONG_NAME.match(name) or ".." in name:
        raise UploadError(f"song name {name!r}: use letters, digits, spaces, dots, dashes (at most 64)")
    return name


def files_from_zip(data: bytes, max_bytes: int) -> tuple[str, dict[str, bytes]]:
    """(folder name, {file: bytes}) of a zip holding one song folder, or its files at the top."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError("not a zip file") from None
    files: dict[str, bytes] = {}
    folders = set()
    total = 0
    for member in archive.infolist():
        path = PurePosixPath(member.filename)
        if member.filename.startswith(("/", "\\")) or ".." in path.parts or "\\" in member.filename:
            raise UploadError(f"refused: {member.filename!r} points outside the song folder")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise UploadError(f"refused: {member.filename!r} is a link")
        if member.is_dir():
            continue
        if len(path.parts) > 2 or path.name not in SONG_FILES:
            raise UploadError(f"refused: {member.filename!r}; a song holds only {', '.join(SONG_FILES)}")
        total += member.file_size
        if total > max_bytes:
            raise UploadError(f"refused: the song unpacks to more than {max_bytes // 2**20} MB")
        if len(path.parts) == 2:
            folders.add(path.parts[0])
        files[path.name] = archive.read(member)
    if len(folders) > 1:
        raise UploadError(f"one song per zip, found folders {', '.join(sorted(folders))}")
    return (folders.pop() if folders else ""), files


def save_song(songs_dir: Path, name: str, files: dict[str, bytes]) -> Path:
    """Check the files (full.wav present, every WAV readable), then put the folder in place in one step."""
    name = check_song_name(name)
    unknown = set(files) - set(SONG_FILES)
    if unknown:
        raise UploadError(f"refused: {', '.join(sorted(unknown))}; a song holds only {', '.join(SONG_FILES)}")
    if "full.wav" not in files:
        raise UploadError("a song needs full.wav")
    for file_name, data in files.items():
        if file_name.endswith(".wav"):
            try:
                read_wav(data)
            except AudioFormatError as error:
                raise UploadError(f"{file_name}: {error}") from None
    return put_folder(songs_dir, name, files)


def delete_song(songs_dir: Path, name: str) -> None:
    target = songs_dir / check_song_name(name)
    if not (target / "full.wav").is_file():
        raise UploadError(f"no song called {name!r}")
    shutil.rmtree(target)
