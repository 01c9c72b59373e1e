#!/bin/bash
# Before `make image` spends an hour: everything the build needs is here, or one line names what is missing.
# On a freshly booted machine the one thing usually missing is binfmt_misc: where systemd is not PID 1 (a
# container, a CI runner) nothing mounts it, so installing binfmt-support registers nothing and debootstrap's
# second stage fails at `chroot ... /bin/true`. It is mounted and qemu-aarch64 registered here, and said so.
#   preflight.sh CACHE_DIR   (as root)
set -euo pipefail
cache=${1:?the build cache folder}
NEEDED_GIB=12 # the cached base root, the stage's root, the raw image and its xz copy, with room to spare
BINFMT=/proc/sys/fs/binfmt_misc
ENTRY=qemu-aarch64

fail() {
    echo "make image: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root: debootstrap, chroot and the build's mounts need it (sudo make image)"
for tool in debootstrap chroot capsh rsync mke2fs mkfs.vfat sfdisk mcopy truncate xz sha256sum; do
    command -v "$tool" >/dev/null || fail "$tool is missing: sh scripts/install-system-packages.sh image installs it"
done
mkdir -p "$cache"
free=$(df --output=avail -BG "$cache" | tail -1 | tr -dc 0-9)
[ "$free" -ge "$NEEDED_GIB" ] || fail "$cache has ${free} GiB free, the build needs about $NEEDED_GIB GiB"

# An arm64 machine runs the root's programs itself.
[ "$(uname -m)" = aarch64 ] && exit 0
interpreter=$(sed -n 's/^interpreter //p' "/usr/share/binfmts/$ENTRY" 2>/dev/null || true)
[ -x "${interpreter:-/nonexistent}" ] || fail "no $ENTRY interpreter: install qemu-user-static"
if [ ! -e "$BINFMT/register" ]; then
    echo "make image: binfmt_misc is not mounted (nothing mounts it where systemd is not PID 1): mounting it"
    mount -t binfmt_misc binfmt_misc "$BINFMT" ||
        fail "cannot mount binfmt_misc at $BINFMT (in a container, mount it on the host): arm64 programs cannot run"
fi
if [ ! -e "$BINFMT/$ENTRY" ]; then
    echo "make image: registering $ENTRY with binfmt_misc (qemu-user-static's definition)"
    update-binfmts --import "$ENTRY" >/dev/null 2>&1 || true
    [ -e "$BINFMT/$ENTRY" ] || fail "$ENTRY could not be registered: update-binfmts --import $ENTRY says why"
fi
if ! grep -qx enabled "$BINFMT/$ENTRY"; then
    echo "make image: $ENTRY was registered but disabled: enabling it"
    echo 1 >"$BINFMT/$ENTRY"
fi
grep -qx enabled "$BINFMT/$ENTRY" || fail "$ENTRY stays disabled in $BINFMT: arm64 programs cannot run"
# F: the kernel opens qemu when the entry is registered, so a chroot without qemu inside it finds it.
grep -q '^flags: .*F' "$BINFMT/$ENTRY" ||
    fail "$ENTRY is registered without the F flag, so a chroot cannot find qemu: update-binfmts --disable $ENTRY, echo -1 >$BINFMT/$ENTRY, and run make image again"
grep -q "^interpreter $interpreter\$" "$BINFMT/$ENTRY" ||
    fail "$ENTRY runs $(sed -n 's/^interpreter //p' "$BINFMT/$ENTRY"), not qemu-user-static's $interpreter: echo -1 >$BINFMT/$ENTRY and run make image again"
echo "make image: preflight done (binfmt_misc: $ENTRY enabled, $free GiB free in $cache)"
