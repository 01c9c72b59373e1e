#!/bin/sh
# One SHA-256 for a stage folder: every file's path, mode and content (not times), so two copies compare
# byte for byte. `make image` records it in the manifest; `make image-pigen` prints it.
#   stage-digest.sh DIR
set -eu
cd "$1"
find . -type f -printf '%P %m\n' | LC_ALL=C sort | while read -r path mode; do
    echo "$mode $(sha256sum "$path")"
done | sha256sum | cut -d' ' -f1
