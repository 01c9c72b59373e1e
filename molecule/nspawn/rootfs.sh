#!/bin/sh
# Build (once) a minimal Debian root filesystem as a tarball: the base every Molecule machine starts from.
# Usage: rootfs.sh SUITE TARBALL. The tarball is a cache: delete it to rebuild.
set -eu
suite=$1
tarball=$2
[ -s "$tarball" ] && exit 0
mkdir -p "$(dirname "$tarball")"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/billy-rootfs-$suite.XXXXXX")
trap 'rm -rf "$work"' EXIT
# minbase + what a booted, Ansible-managed machine needs: systemd as init, D-Bus, Python, an SSH server.
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,python3,openssh-server \
    "$suite" "$work/root" http://deb.debian.org/debian >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
tar -C "$work/root" --numeric-owner -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
