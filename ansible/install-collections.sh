#!/bin/sh
# Install the collections of requirements.yml into DEST (default .cache/collections), once.
# Galaxy first; where Galaxy cannot be reached (as on our CI), the same pinned versions are taken from the
# PyPI release of `ansible` that bundles them (ANSIBLE_DIST_VERSION), since PyPI is reachable everywhere we run.
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
DEST=${1:-.cache/collections}
ANSIBLE_DIST_VERSION=12.3.0  # bundles community.general 11.4.2
requirements=requirements.yml

installed() {  # name version: true when DEST holds exactly that version
    manifest="$DEST/ansible_collections/$(echo "$1" | tr . /)/MANIFEST.json"
    [ -f "$manifest" ] && "$VENV/bin/python" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["collection_info"]["version"] != sys.argv[2])' "$manifest" "$2"
}

pins=$("$VENV/bin/python" -c 'import sys,yaml; [print(c["name"], c["version"]) for c in yaml.safe_load(open(sys.argv[1]))["collections"]]' "$requirements")
missing=$(echo "$pins" | while read -r name version; do installed "$name" "$version" || echo "$name $version"; done)
[ -z "$missing" ] && exit 0

if "$VENV/bin/ansible-galaxy" collection install -r "$requirements" -p "$DEST" --timeout 15 >/dev/null 2>&1; then
    exit 0
fi
echo "Galaxy unreachable: taking the collections from the PyPI package ansible==$ANSIBLE_DIST_VERSION"
wheels=.cache/ansible-dist
"$VENV/bin/python" -m pip download --quiet --no-deps "ansible==$ANSIBLE_DIST_VERSION" -d "$wheels"
echo "$missing" | while read -r name version; do
    "$VENV/bin/python" - "$wheels/ansible-$ANSIBLE_DIST_VERSION-py3-none-any.whl" "$DEST" "$name" "$version" <<'PY'
import json, sys, zipfile
wheel, dest, name, version = sys.argv[1:]
prefix = "ansible_collections/" + name.replace(".", "/") + "/"
with zipfile.ZipFile(wheel) as archive:
    bundled = json.loads(archive.read(prefix + "MANIFEST.json"))["collection_info"]["version"]
    if bundled != version:
        sys.exit(f"ansible {wheel} bundles {name} {bundled}, requirements.yml pins {version}: align the two")
    archive.extractall(dest, [member for member in archive.namelist() if member.startswith(prefix)])
print(f"{name} {version} installed in {dest}")
PY
done
