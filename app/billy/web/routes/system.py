"""The System page: restart one or all of Billy's units, reboot, shut down, install an update (each asks to
confirm first); a backup of what is the owner's, downloaded or restored (billy/appliance/backup.py), and the
backups Home Assistant's button kept on the fish (billy/appliance/backup_shelf.py), each downloadable."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from billy.appliance.backup import MAX_TOTAL_BYTES, BackupError, back_up, restore
from billy.appliance.backup_shelf import BackupShelf
from billy.appliance.update import read_status
from billy.appliance.update_entity import entity_state
from billy.web import machine
from billy.web.auth import Session
from billy.web.core import Web, action, back, page, render


async def system_page(web: Web, request: Request, session: Session) -> Response:
    units = await anyio.to_thread.run_sync(web.services.states)
    confirm = request.query_params.get("confirm", "")
    unread = sorted(web.unread_by_web)
    update = entity_state(read_status(web.state_dir))
    kept = await anyio.to_thread.run_sync(BackupShelf.of(web.settings).kept)
    return render(
        web, request, "system.html", session, units=units, confirm=confirm, unread_by_web=unread, update=update,
        kept=kept,
    )  # fmt: skip


async def system_post(web: Web, request: Request, session: Session, form) -> Response:
    what = form.get("what", "")
    if form.get("confirmed") != "yes":
        return RedirectResponse(f"/system?confirm={what}", 303)
    try:
        if what == "update":
            await anyio.to_thread.run_sync(web.services.start_update)
            return back(session, "/system", "Update under way: Billy restarts on the new release, or comes back.")
        if what in machine.POWER_VERBS:
            await anyio.to_thread.run_sync(web.services.power, what)
            return back(session, "/system", f"{what.capitalize()} under way.")
        units = list(machine.UNITS) if what == "all" else [what]
        await anyio.to_thread.run_sync(web.services.restart, units)
    except machine.ServiceControlError as error:
        return back(session, "/system", f"Refused: {error}")
    return back(session, "/system", f"Restarting {', '.join(units)}.")


async def backup_download(web: Web, request: Request, session: Session, form) -> Response:
    """The archive, made now; the keys and passwords set on the fish only when the owner ticked it."""
    archive = _scratch_file(web, ".tar")
    try:
        await anyio.to_thread.run_sync(back_up, web.state_dir, web.config_dir, archive, form.get("secrets") == "yes")
        handle = archive.open("rb")
    finally:
        archive.unlink(missing_ok=True)  # the open handle keeps it readable; no copy is left on the card
    size = os.fstat(handle.fileno()).st_size
    return _tar_download(handle, size, f"billy-backup-{time.strftime('%Y%m%d-%H%M')}.tar")


async def kept_download(web: Web, request: Request, session: Session, form) -> Response:
    """One of the backups kept on the fish, by its name in the list (no other name is served)."""
    try:
        path = BackupShelf.of(web.settings).path_of(str(form.get("name", "")))
        handle = path.open("rb")
    except (LookupError, OSError):
        return back(session, "/system", "No such backup on the fish.")
    return _tar_download(handle, os.fstat(handle.fileno()).st_size, path.name)


def _tar_download(handle, size: int, name: str) -> StreamingResponse:
    def blocks() -> Iterator[bytes]:
        with handle:
            while block := handle.read(2**20):
                yield block

    headers = {"content-disposition": f'attachment; filename="{name}"', "content-length": str(size)}
    return StreamingResponse(blocks(), media_type="application/x-tar", headers=headers)


async def backup_restore(web: Web, request: Request, session: Session, form) -> Response:
    upload = form.get("archive")
    if not getattr(upload, "filename", ""):
        return back(session, "/system", "Not restored: choose a backup archive")
    archive = _scratch_file(web, ".tar")
    try:
        with archive.open("wb") as copy:
            await anyio.to_thread.run_sync(shutil.copyfileobj, upload.file, copy)
        restored = await anyio.to_thread.run_sync(restore, archive, web.state_dir, web.config_dir, "", True)
    except BackupError as error:
        return back(session, "/system", f"Not restored, nothing was changed: {error}")
    finally:
        archive.unlink(missing_ok=True)
    left = f" Left: {'; '.join(restored.problems)}." if restored.problems else ""
    parts = ", ".join(restored.parts) or "nothing"
    return back(session, "/system", f"Restored {parts}. Restart all to use them.{left}")


def _scratch_file(web: Web, suffix: str) -> Path:
    """A file of its own in the state folder (the web page may write there; /tmp may be small or private)."""
    folder = web.state_dir / "web"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix, "backup-", folder)
    os.close(handle)
    return Path(name)


def routes(web: Web) -> list[Route]:
    return [
        Route("/system", page(web, system_page), methods=["GET"]),
        Route("/system", action(web, system_post), methods=["POST"]),
        Route("/system/backup", action(web, backup_download), methods=["POST"]),
        Route("/system/backup/kept", action(web, kept_download), methods=["POST"]),
        Route("/system/restore", action(web, backup_restore, max_bytes=MAX_TOTAL_BYTES + 2**20), methods=["POST"]),
    ]
