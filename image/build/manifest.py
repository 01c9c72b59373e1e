"""Write the image's manifest (what is in it, checked) and an OS list that offers it in Raspberry Pi Imager.

The manifest names the release, the app version, the stage that built it (its digest, compared with what
`make image-pigen` installs), and every model in the image with its files' SHA-256, each checked against the
app's catalogue: a model that does not match fails the build here rather than on someone's Pi.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def models_in(rootfs: Path, catalogue: dict) -> dict:
    """Each catalogue model found in the image, its files' hashes, and whether they match the catalogue."""
    found = {}
    places = [rootfs / "var/lib/billy/models", rootfs / "var/lib/llama-cpp/models"]
    for name, entry in catalogue.items():
        for place in places:
            files = {file: place / name / file for file in entry["files"]}
            if not all(path.is_file() for path in files.values()):
                files = {file: place / file for file in entry["files"]}
            if all(path.is_file() for path in files.values()):
                hashes = {file: sha256(path) for file, path in files.items()}
                found[name] = {"kind": entry["kind"], "files": hashes, "matches_catalogue": hashes == entry["files"]}
                break
    return found


def _version(app: Path) -> str:
    """The app's version, from the one place it is written (billy/__init__.py; pyproject reads it there)."""
    found = re.search(r'^__version__ = "([^"]+)"$', (app / "billy" / "__init__.py").read_text(), re.MULTILINE)
    if found is None:
        raise SystemExit(f"manifest: no __version__ in {app / 'billy' / '__init__.py'}")
    return found.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    for option in ("out", "name", "release", "disk-id", "rootfs", "catalogue", "pyproject", "stage-digest"):
        parser.add_argument(f"--{option}", required=True)
    parser.add_argument("--llm-engine", required=True)
    parser.add_argument("--seconds-stage", type=int, required=True)
    parser.add_argument("--seconds-total", type=int, required=True)
    args = parser.parse_args()
    out, rootfs = Path(args.out), Path(args.rootfs)
    image, compressed = out / f"{args.name}.img", out / f"{args.name}.img.xz"
    catalogue = json.loads(Path(args.catalogue).read_text())
    models = models_in(rootfs, catalogue)
    wrong = [name for name, model in models.items() if not model["matches_catalogue"]]
    if wrong:
        print(f"manifest: models in the image differ from the catalogue: {', '.join(wrong)}", file=sys.stderr)
        return 1
    project = tomllib.loads(Path(args.pyproject).read_text())["project"]
    kernels = sorted(path.name.removeprefix("vmlinuz-") for path in (rootfs / "boot").glob("vmlinuz-*"))
    image_sha, compressed_sha = sha256(image), sha256(compressed)
    manifest = {
        "name": args.name,
        "release": args.release,
        "arch": "arm64",
        "app": {"name": project["name"], "version": _version(Path(args.pyproject).parent)},
        "kernel": kernels,
        "llm_engine": args.llm_engine,
        "models": models,
        "stage_digest": args.stage_digest,
        "partitions": {"boot": f"PARTUUID={args.disk_id}-01", "root": f"PARTUUID={args.disk_id}-02"},
        "image": {"file": image.name, "bytes": image.stat().st_size, "sha256": image_sha},
        "compressed": {"file": compressed.name, "bytes": compressed.stat().st_size, "sha256": compressed_sha},
        "build_seconds": {"until_stage_done": args.seconds_stage, "total": args.seconds_total},
    }
    (out / f"{args.name}.manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # Imager offers its customisation (user, Wi-Fi, SSH key) only to images listed in an OS list; cloud-init on
    # the boot partition takes it, as on Raspberry Pi OS trixie (bookworm used a firstrun.sh).
    os_list = {
        "os_list": [
            {
                "name": f"Billy ({args.release}, 64-bit)",
                "description": "Billy Bass, a fully local voice assistant. Put billy.env on the boot partition.",
                "url": compressed.name,
                "extract_size": image.stat().st_size,
                "extract_sha256": image_sha,
                "image_download_size": compressed.stat().st_size,
                "image_download_sha256": compressed_sha,
                "init_format": "systemd" if args.release == "bookworm" else "cloudinit-rpi",
                "devices": ["pi4-64bit", "pi5-64bit"],
            }
        ]
    }
    (out / f"{args.name}.os-list.json").write_text(json.dumps(os_list, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
