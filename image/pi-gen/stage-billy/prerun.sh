#!/bin/bash -e
# Billy goes on top of Raspberry Pi OS Lite (stage2): start from its root filesystem.
if [ ! -d "${ROOTFS_DIR}" ]; then
	copy_previous
fi
