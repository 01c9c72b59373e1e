#!/bin/bash
# pi-gen's export-image, without loop devices or mounts: the root filesystem ROOTFS becomes IMG, a 512 MiB
# FAT boot partition (label bootfs) from ROOTFS/boot/firmware and an ext4 root (label rootfs) of the rest,
# sized as pi-gen sizes it (used + 20 % + 200 MiB, aligned to 8 MiB). The disk id is DISK_ID, so the
# partitions are PARTUUID=DISK_ID-01 and -02, as fstab and cmdline.txt already say.
#   export-image.sh ROOTFS IMG DISK_ID
set -euo pipefail
rootfs=$(realpath "$1")
img=$(realpath -m "$2")
disk_id=$3
scratch=$(mktemp -d "$(dirname "$img")/export.XXXXXX")
bootfs="$rootfs/boot/firmware"
# The boot files go to the FAT partition only: out of the root while it is packed, back afterwards.
trap 'if [ -d "$scratch/bootfs" ]; then cp -a "$scratch/bootfs/." "$bootfs/"; fi; rm -rf "$scratch"' EXIT
mkdir "$scratch/bootfs"
if [ -n "$(ls -A "$bootfs")" ]; then
    mv "$bootfs"/* "$scratch/bootfs/"
fi

align=$((8 * 1024 * 1024))
boot_size=$((512 * 1024 * 1024))
root_used=$(du -x --apparent-size -s --block-size=1 "$rootfs" | cut -f1)
root_size=$(((root_used + root_used / 5 + 200 * 1024 * 1024 + align - 1) / align * align))
rm -f "$img"
truncate -s $((align + boot_size + root_size)) "$img"
sfdisk --quiet "$img" <<PARTS
label: dos
label-id: 0x$disk_id
start=$((align / 512)), size=$((boot_size / 512)), type=c
start=$(((align + boot_size) / 512)), size=$((root_size / 512)), type=83
PARTS
mkfs.vfat -C -n bootfs -F 32 -s 1 "$scratch/boot.vfat" $((boot_size / 1024)) >/dev/null
if [ -n "$(ls -A "$scratch/bootfs")" ]; then
    MTOOLS_SKIP_CHECK=1 mcopy -s -p -i "$scratch/boot.vfat" "$scratch/bootfs"/* ::/
fi
mke2fs -q -t ext4 -L rootfs -O ^huge_file -d "$rootfs" "$scratch/root.ext4" $((root_size / 1024))k
dd if="$scratch/boot.vfat" of="$img" bs=1M seek=$((align / 1048576)) conv=notrunc,sparse status=none
dd if="$scratch/root.ext4" of="$img" bs=1M seek=$(((align + boot_size) / 1048576)) conv=notrunc,sparse status=none
