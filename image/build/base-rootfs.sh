#!/bin/bash
# What pi-gen's stages 0-2 give a stage, made without the Raspberry Pi archive: an arm64 Debian root from
# debootstrap (qemu-user binfmt runs its arm64 half), a kernel and initramfs that boot a Pi 4 (linux-image-arm64,
# raspi-firmware) and qemu's virt machine, networking, SSH, cloud-init reading the boot partition (as Raspberry Pi
# OS trixie does for Imager's customisation), and a root that grows to the card on first boot.
#
#   base-rootfs.sh CONFIG OUT.tar   (cached: nothing to do when OUT.tar exists)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
config=$(realpath "$1")
out=$(realpath -m "$2")
[ -f "$out" ] && exit 0
set -a
# shellcheck disable=SC1090
BASE_DIR=/nonexistent . "$config"
set +a
# Known partition ids: the disk id is fixed, so fstab and cmdline.txt name the partitions before they exist.
DISK_ID=${DISK_ID:-b111ba55}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# Under qemu-user, a Pi 4's own core: the default ("max") offers SVE, which glibc and onnxruntime then use and
# qemu emulates slowly (the stage does the same; see its 01-playbook).
[ "$(uname -m)" = aarch64 ] || export QEMU_CPU=cortex-a72

work=$(mktemp -d "$(dirname "$out")/base.XXXXXX")
ROOTFS_DIR="$work/rootfs"
export ROOTFS_DIR
# shellcheck source=image/build/pigen-shim.sh
. "$here/pigen-shim.sh"
trap 'unmount "$work"; rm -rf "$work"' EXIT

# The debootstrap is the slow half (about 20 minutes under emulation on 2 cores): cached on its own, so a
# failure in the second half does not cost it again.
bootstrapped="$(dirname "$out")/debootstrap-$RELEASE-arm64-$(sha256sum <"$here/base/packages" | cut -c1-8).tar"
if [ -f "$bootstrapped" ]; then
    mkdir -p "$ROOTFS_DIR"
    tar --numeric-owner --xattrs --acls -C "$ROOTFS_DIR" -xf "$bootstrapped"
else
    log "debootstrap $RELEASE arm64"
    debootstrap --arch=arm64 --variant=minbase --components=main,non-free-firmware \
        --include="$(paste -sd, "$here/base/packages")" "$RELEASE" "$ROOTFS_DIR" "$MIRROR"
    tar --numeric-owner --xattrs --acls -C "$ROOTFS_DIR" -cf "$bootstrapped.part" .
    mv "$bootstrapped.part" "$bootstrapped"
fi
# systemd-resolved made resolv.conf a link into /run, empty in a chroot: the build uses this machine's
# resolver (build-image.sh links it back for the card).
rm -f "$ROOTFS_DIR/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOTFS_DIR/etc/resolv.conf"

cp -r "$here/base/files/." "$ROOTFS_DIR/"
echo "$TARGET_HOSTNAME" >"$ROOTFS_DIR/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$TARGET_HOSTNAME" \
    >"$ROOTFS_DIR/etc/hosts"
printf 'proc /proc proc defaults 0 0\nPARTUUID=%s-01 /boot/firmware vfat defaults 0 2\nPARTUUID=%s-02 / ext4 defaults,noatime 0 1\n' \
    "$DISK_ID" "$DISK_ID" >"$ROOTFS_DIR/etc/fstab"
# raspi-firmware's kernel hook writes cmdline.txt from here (its supported place, not the file itself).
cat >"$ROOTFS_DIR/etc/default/raspi-firmware" <<CFG
ROOTPART=PARTUUID=$DISK_ID-02
CONSOLES="serial0,115200 tty1"
CFG
# Every storage driver in the initramfs: the Pi's SD card and qemu's virtio disk alike.
mkdir -p "$ROOTFS_DIR/etc/initramfs-tools/conf.d"
echo "MODULES=most" >"$ROOTFS_DIR/etc/initramfs-tools/conf.d/billy-modules"
echo "deb $MIRROR $RELEASE main non-free-firmware" >"$ROOTFS_DIR/etc/apt/sources.list"
mkdir -p "$ROOTFS_DIR/boot/firmware"

log "kernel, firmware and services"
on_chroot <<CHROOT
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q -o APT::Update::Error-Mode=any
# --force-confold: keep the /etc/default/raspi-firmware written above over the package's own.
apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    $(paste -sd' ' "$here/base/packages-kernel")
systemctl enable systemd-networkd systemd-resolved
if [ "${ENABLE_SSH:-0}" = 1 ]; then systemctl enable ssh; else systemctl disable ssh; fi
systemctl disable cloud-init-hotplugd.socket 2>/dev/null || true
echo "root:*" | chpasswd -e
apt-get clean
rm -rf /var/lib/apt/lists/*
CHROOT
# Every card gets its own SSH host keys at first boot (ssh.service.d/host-keys.conf), not the build's.
rm -f "$ROOTFS_DIR"/etc/ssh/ssh_host_*
echo uninitialized >"$ROOTFS_DIR/etc/machine-id"
unmount "$work"

log "packing $out"
tar --numeric-owner --xattrs --acls -C "$ROOTFS_DIR" -cf "$out.part" .
mv "$out.part" "$out"
