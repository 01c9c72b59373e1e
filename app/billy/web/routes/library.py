"""Songs, notes, sounds and models: what Billy has to play, to know and to think with, and how to add to it."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billy.hearing.own_wake_words import MAX_BYTES as MAX_WAKE_BYTES
from billy.hearing.own_wake_words import (
    WakeWordUploadError,
    add_own_model,
    backend_of,
    own_wake_models,
    remove_own_model,
)
from billy.knowledge import MAX_FILE_BYTES, Knowledge, KnowledgeError
from billy.media.songs import SongLibrary
from billy.media.sounds import CLIPS, render_clips
from billy.models.catalogue import load_catalogue
from billy.settings.kinds import ConfigError
from billy.web import uploads
from billy.web.auth import Session
from billy.web.core import Web, action, ask, back, page, render


async def songs_page(web: Web, request: Request, session: Session) -> Response:
    songs = SongLibrary(web.state_dir).songs()
    return render(web, request, "songs.html", session, songs=songs, max_mb=web.settings.billy_web_max_upload_mb)


async def songs_upload(web: Web, request: Request, session: Session, form) -> Response:
    files: dict[str, bytes] = {}
    name = form.get("name", "").strip()
    try:
        for upload in form.getlist("files"):
            if not getattr(upload, "filename", ""):
                continue
            data = await upload.read()
            if upload.filename.lower().endswith(".zip"):
                folder, files = uploads.files_from_zip(data, web.max_upload * 4)
                name = name or folder or upload.filename[:-4]
            else:
                files[Path(upload.filename).name] = data
        if not files:
            raise uploads.UploadError("choose a zip or the song's files")
        target = await anyio.to_thread.run_sync(uploads.save_song, web.state_dir / "songs", name, files)
    except uploads.UploadError as error:
        return back(session, "/songs", f"Not uploaded: {error}")
    return back(session, "/songs", f"Song {target.name} uploaded.")


async def songs_play(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    return await ask(web, session, "/songs", f"Billy sings {name}.", "song", name=name)


async def songs_delete(web: Web, request: Request, session: Session, form) -> Response:
    try:
        uploads.delete_song(web.state_dir / "songs", form.get("name", ""))
    except uploads.UploadError as error:
        return back(session, "/songs", f"Not deleted: {error}")
    return back(session, "/songs", f"Song {form.get('name')} deleted.")


async def notes_page(web: Web, request: Request, session: Session) -> Response:
    documents = await anyio.to_thread.run_sync(Knowledge(web.state_dir).documents)
    return render(web, request, "notes.html", session, documents=documents, max_mb=MAX_FILE_BYTES // 2**20)


async def notes_upload(web: Web, request: Request, session: Session, form) -> Response:
    knowledge, added = Knowledge(web.state_dir), []
    try:
        for upload in form.getlist("files"):
            if getattr(upload, "filename", ""):
                data = await upload.read()
                count = await anyio.to_thread.run_sync(knowledge.add, upload.filename, data)
                added.append(f"{Path(upload.filename).name} ({count} passage{'' if count == 1 else 's'})")
    except KnowledgeError as error:
        return back(session, "/notes", f"Not added: {error}")
    return back(session, "/notes", f"Added {', '.join(added)}." if added else "Choose a file first.")


async def notes_delete(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    try:
        await anyio.to_thread.run_sync(Knowledge(web.state_dir).remove, name)
    except KnowledgeError as error:
        return back(session, "/notes", f"Not removed: {error}")
    return back(session, "/notes", f"Removed {name}.")


async def sounds_page(web: Web, request: Request, session: Session) -> Response:
    folder = web.state_dir / "sounds"
    clips = [(name, text, (folder / f"{name}.wav").is_file()) for name, text in CLIPS.items()]
    wake_words = [(path, backend_of(path)) for path in own_wake_models(web.state_dir)]
    return render(web, request, "sounds.html", session, clips=clips, wake_words=wake_words)


async def wake_word_upload(web: Web, request: Request, session: Session, form) -> Response:
    """An owner's own wake word model: kept only once it loads and runs (hearing/own_wake_words.py)."""
    files = {}
    for upload in form.getlist("files"):
        if getattr(upload, "filename", ""):
            files[upload.filename] = await upload.read()
    try:
        model = await anyio.to_thread.run_sync(add_own_model, web.state_dir, files)
    except WakeWordUploadError as error:
        return back(session, "/sounds", f"Not added: {error}")
    return back(session, "/sounds", f"Wake word {model.parent.name} loads and runs: choose it below to use it.")


async def wake_word_delete(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    try:
        await anyio.to_thread.run_sync(remove_own_model, web.state_dir, name)
    except WakeWordUploadError as error:
        return back(session, "/sounds", f"Not removed: {error}")
    return back(session, "/sounds", f"Removed the wake word {name}.")


async def sounds_play(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    return await ask(web, session, "/sounds", f"Playing {name}.", "clip", name=name)


async def sounds_regenerate(web: Web, request: Request, session: Session, form) -> Response:
    """Every clip again in the voice in use; the clips there were stay until the new ones are all rendered."""
    try:
        runtime = web.runtime_settings()
        voice_dir, voice = runtime.tts_voice_dir, runtime.local_tts_voice
        rendered = await anyio.to_thread.run_sync(render_clips, voice_dir, voice, web.state_dir / "sounds", True)
    except (ConfigError, OSError, LookupError, ValueError, RuntimeError) as error:
        return back(session, "/sounds", f"Not rendered, the clips are as they were: {error}")
    return back(session, "/sounds", f"Rendered {len(rendered)} clips in {voice}'s voice.")


async def models_page(web: Web, request: Request, session: Session) -> Response:
    try:
        folder = web.runtime_settings().models_dir
    except ConfigError as error:
        return back(session, "/", f"Billy's settings cannot be read: {error}")
    installed = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    catalogue = list(load_catalogue().values())
    fetches = web.fetches.states(folder)
    return render(
        web, request, "models.html", session, installed=installed, catalogue=catalogue, folder=folder, fetches=fetches
    )


async def models_fetch(web: Web, request: Request, session: Session, form) -> Response:
    name = form.get("name", "")
    try:
        web.fetches.start(name, web.runtime_settings().models_dir)
    except (LookupError, ConfigError) as error:
        return back(session, "/models", f"Not fetched: {error}")
    return back(session, "/models", f"Fetching {name}.")


def routes(web: Web) -> list[Route]:
    upload = web.max_upload + 2**20
    return [
        Route("/songs", page(web, songs_page), methods=["GET"]),
        Route("/songs/upload", action(web, songs_upload, max_bytes=upload), methods=["POST"]),
        Route("/songs/play", action(web, songs_play), methods=["POST"]),
        Route("/songs/delete", action(web, songs_delete), methods=["POST"]),
        Route("/notes", page(web, notes_page), methods=["GET"]),
        Route("/notes/upload", action(web, notes_upload, max_bytes=MAX_FILE_BYTES * 4), methods=["POST"]),
        Route("/notes/delete", action(web, notes_delete), methods=["POST"]),
        Route("/sounds", page(web, sounds_page), methods=["GET"]),
        Route("/sounds/play", action(web, sounds_play), methods=["POST"]),
        Route("/sounds/wake-word", action(web, wake_word_upload, max_bytes=MAX_WAKE_BYTES + 2**20), methods=["POST"]),
        Route("/sounds/wake-word/delete", action(web, wake_word_delete), methods=["POST"]),
        Route("/sounds/regenerate", action(web, sounds_regenerate), methods=["POST"]),
        Route("/models", page(web, models_page), methods=["GET"]),
        Route("/models/fetch", action(web, models_fetch), methods=["POST"]),
    ]
