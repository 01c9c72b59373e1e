"""A folder of files put in place whole (an uploaded song, a wake word model): written beside its target,
checked there, then swapped in, so a refused or half-written upload never replaces what was there."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def put_folder(parent: Path, name: str, files: dict[str, bytes], check: Callable[[Path], None] | None = None) -> Path:
    """`files` as `parent/name/`, replacing what was there, once `check(staging folder)` has not raised."""
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".upload-", dir=parent))
    try:
        for file_name, data in files.items():
            (staging / file_name).write_bytes(data)
        if check is not None:
            check(staging)
        target = parent / name
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return parent / name
