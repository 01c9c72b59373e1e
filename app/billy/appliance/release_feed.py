"""Where new releases come from: a feed (`latest.json`) naming one release bundle and its SHA-256.

    {"version": "0.2.0", "bundle": "billy-0.2.0.tar", "sha256": "<64 hex digits>",
     "notes": "What changed, in a few lines", "notes_url": "https://..."}

`bundle` is relative to the feed's own address (or absolute). The feed is read from an http(s) URL
(`BILLY_UPDATE_URL`) or, for an update carried on a stick, from a local file; nothing in it is trusted: the
version must be a plain version, the digest 64 hex digits, the notes printable and short, and the bundle is
only used once its bytes hash to the digest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx

from billy.appliance.releases import ReleaseError, checked_version

MAX_FEED_BYTES = 64 * 1024
MAX_BUNDLE_BYTES = 256 * 2**20
MAX_NOTES = 2000
_DIGEST = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Release:
    version: str
    bundle: str  # an http(s) URL or a local path
    sha256: str
    notes: str = ""
    notes_url: str = ""


def read_feed(where: str, timeout: float = 30) -> Release:
    """The release a feed offers; ReleaseError with the reason when it cannot be read or is not valid."""
    if _is_url(where):
        try:
            with httpx.stream("GET", where, timeout=timeout, follow_redirects=True) as reply:
                reply.raise_for_status()
                raw = b"".join(_capped(reply.iter_bytes(), MAX_FEED_BYTES, "the feed"))
        except httpx.HTTPError as error:
            raise ReleaseError(f"cannot read the release feed {where}: {error}") from None
    else:
        try:
            raw = Path(where).read_bytes()[: MAX_FEED_BYTES + 1]
        except OSError as error:
            raise ReleaseError(f"cannot read the release feed {where}: {error.strerror}") from None
        if len(raw) > MAX_FEED_BYTES:
            raise ReleaseError(f"the feed is larger than {MAX_FEED_BYTES} bytes")
    return parse_feed(raw, where)


def parse_feed(raw: bytes, where: str) -> Release:
    try:
        feed = json.loads(raw)
    except ValueError as error:
        raise ReleaseError(f"the release feed is not JSON ({error})") from None
    if not isinstance(feed, dict):
        raise ReleaseError('the release feed must be an object like {"version": ..., "bundle": ..., "sha256": ...}')
    version = checked_version(feed.get("version"))
    bundle, digest = feed.get("bundle"), feed.get("sha256")
    if not isinstance(bundle, str) or not bundle or _CONTROL.search(bundle) or " " in bundle:
        raise ReleaseError(f"the feed's bundle {bundle!r:.80} is not a file name or URL")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise ReleaseError(f"the feed's sha256 {digest!r:.80} is not 64 lowercase hex digits")
    notes, notes_url = feed.get("notes", ""), feed.get("notes_url", "")
    if not isinstance(notes, str) or len(notes) > MAX_NOTES or _CONTROL.search(notes):
        raise ReleaseError(f"the feed's notes must be text of at most {MAX_NOTES} characters")
    if not isinstance(notes_url, str) or (notes_url and not notes_url.startswith(("http://", "https://"))):
        raise ReleaseError(f"the feed's notes_url {notes_url!r:.80} is not an http(s) URL")
    return Release(version, _beside(where, bundle), digest, notes.strip(), notes_url)


def fetch_bundle(release: Release, into: Path, progress: Callable[[int], None] = lambda percent: None) -> Path:
    """The bundle's bytes in `into`, checked against the feed's digest (a mismatch leaves no file)."""
    into.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with open(into, "wb") as out:
            for chunk in _bundle_chunks(release, progress):
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        into.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != release.sha256:
        into.unlink()
        raise ReleaseError(
            f"the bundle of {release.version} is not the one the feed names "
            f"(SHA-256 {digest.hexdigest()[:12]}…, expected {release.sha256[:12]}…): not installed"
        )
    return into


def _bundle_chunks(release: Release, progress: Callable[[int], None]):
    if not _is_url(release.bundle):
        try:
            with open(release.bundle, "rb") as source:
                yield from _capped(iter(lambda: source.read(1 << 20), b""), MAX_BUNDLE_BYTES, "the bundle")
        except OSError as error:
            raise ReleaseError(f"cannot read the bundle {release.bundle}: {error.strerror}") from None
        return
    try:
        with httpx.stream("GET", release.bundle, timeout=60, follow_redirects=True) as reply:
            reply.raise_for_status()
            size = int(reply.headers.get("content-length") or 0)
            done = 0
            for chunk in _capped(reply.iter_bytes(), MAX_BUNDLE_BYTES, "the bundle"):
                done += len(chunk)
                if size:
                    progress(min(100, done * 100 // size))
                yield chunk
    except httpx.HTTPError as error:
        raise ReleaseError(f"cannot download {release.bundle}: {error}") from None


def _capped(chunks, limit: int, what: str):
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise ReleaseError(f"{what} is larger than {limit} bytes")
        yield chunk


def _is_url(where: str) -> bool:
    return urlparse(where).scheme in ("http", "https")


def _beside(feed: str, bundle: str) -> str:
    if _is_url(bundle):
        return bundle
    if _is_url(feed):
        return urljoin(feed, bundle)
    if urlparse(bundle).scheme:
        raise ReleaseError(f"the feed's bundle {bundle!r:.80} is neither an http(s) URL nor a file")
    return str(Path(feed).parent / bundle)
