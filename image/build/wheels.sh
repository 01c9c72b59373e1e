#!/bin/sh
# aarch64 wheels of everything the image's venvs install (the app's dependencies, xllamacpp, the app's build
# backend), downloaded once on this machine for the release's Python and kept under .cache/: the build then
# installs from them under emulation without asking PyPI again.
#   wheels.sh RELEASE DEST
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
release=$1
dest=$2
case $release in
    bookworm) python=3.11 ;;
    trixie) python=3.13 ;;
    *) echo "wheels: no Python version known for $release" >&2; exit 1 ;;
esac
xllamacpp=$(sed -n 's/^llama_cpp_xllamacpp_version: *//p' "$repo/roles/llama_cpp/defaults/main.yml")
requirements=$(mktemp)
python3 - "$repo/app/pyproject.toml" >"$requirements" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))
print("\n".join(project["project"]["dependencies"] + project["build-system"]["requires"]))
PY
echo "xllamacpp==$xllamacpp" >>"$requirements"
# lgpio has no wheel for Python 3.13 (trixie): its source, and what builds it, are fetched instead (the role
# installs gcc and swig in the image for that build).
sources=lgpio
binaries=$(mktemp)
trap 'rm -f "$requirements" "$binaries"' EXIT
grep -v -E "^($(echo "$sources" | tr ' ' '|'))([<>=!~; ]|$)" "$requirements" >"$binaries"
mkdir -p "$dest"
# Every manylinux tag the release's glibc runs (2.36 on bookworm, 2.41 on trixie), newest first.
platforms=""
for glibc in 39 38 36 35 34 31 28 27 26 24 17; do platforms="$platforms --platform manylinux_2_${glibc}_aarch64"; done
# shellcheck disable=SC2086
"${PIP:-pip3}" download --quiet --only-binary=:all: $platforms --platform manylinux2014_aarch64 \
    --python-version "$python" --implementation cp -d "$dest" -r "$binaries"
grep -E "^($(echo "$sources" | tr ' ' '|'))([<>=!~; ]|$)" "$requirements" | cut -d';' -f1 |
    xargs "${PIP:-pip3}" download --quiet --no-deps --no-binary=:all: -d "$dest"
"${PIP:-pip3}" download --quiet --only-binary=:all: -d "$dest" setuptools wheel
