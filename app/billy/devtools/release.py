"""`make release VERSION=x`: a release bundle of app/ and the feed (latest.json) that offers it.

The bundle is packed byte for byte reproducibly (sorted names, zero times and owners), with the version written
into billy/__init__.py, the one place the package reads it from. Serve the folder over http(s) and set
BILLY_UPDATE_URL to its latest.json; or copy it to a stick and run `billy update install --feed .../latest.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

from billy.appliance.releases import checked_version

_VERSION_LINE = re.compile(r'^__version__ = "[^"]*"$', re.MULTILINE)
_LEFT_OUT = ("__pycache__", ".egg-info", "build")


def pack(source: Path, version: str, out: Path, notes: str = "", notes_url: str = "") -> Path:
    """Write billy-<version>.tar and latest.json into `out`; returns the feed's path."""
    checked_version(version)
    out.mkdir(parents=True, exist_ok=True)
    bundle = out / f"billy-{version}.tar"
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if any(part.endswith(_LEFT_OUT) for part in relative.parts) or path.suffix == ".pyc":
                continue
            data = path.read_bytes() if path.is_file() else None
            if relative.as_posix() == "billy/__init__.py":
                data, found = _VERSION_LINE.subn(f'__version__ = "{version}"', data.decode())
                if found != 1:
                    raise ValueError(f"{path} has no __version__ line to set")
                data = data.encode()
            _add(archive, relative.as_posix(), data)
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    feed = {"version": version, "bundle": bundle.name, "sha256": digest, "notes": notes, "notes_url": notes_url}
    (out / "latest.json").write_text(json.dumps(feed, indent=1) + "\n")
    return out / "latest.json"


def _add(archive: tarfile.TarFile, name: str, data: bytes | None) -> None:
    member = tarfile.TarInfo(name)
    member.mtime, member.uid, member.gid, member.uname, member.gname = 0, 0, 0, "", ""
    if data is None:
        member.type, member.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(member)
        return
    member.size, member.mode = len(data), 0o644
    archive.addfile(member, io.BytesIO(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m billy.devtools.release", description=__doc__)
    parser.add_argument("--version", required=True, help="the release's version, e.g. 0.2.0")
    parser.add_argument("--source", default="app", help="the app folder to pack (app)")
    parser.add_argument("--out", default="out/release", help="where the bundle and latest.json go")
    parser.add_argument("--notes", default="", help="release notes, a few lines")
    parser.add_argument("--notes-url", default="", help="where the full notes are")
    args = parser.parse_args(argv)
    feed = pack(Path(args.source), args.version, Path(args.out), args.notes, args.notes_url)
    print(f"release: {feed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
