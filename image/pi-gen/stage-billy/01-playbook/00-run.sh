#!/bin/bash -e
# Billy into the image: the same ansible/site.yml a live Pi gets, through the chroot connection, which switches
# the roles to image mode (installed and enabled, nothing started). Settings: the inventory's defaults
# (inventory/group_vars/all.yml) under the image's own (files/image.yml).
billy="$(realpath ../files/billy)"
playbook="${BILLY_ANSIBLE_PLAYBOOK:-${STAGE_WORK_DIR}/controller/bin/ansible-playbook}"
inventory="${STAGE_WORK_DIR}/inventory"

rm -rf "${inventory}"
mkdir -p "${inventory}/group_vars"
install -m 644 "${billy}/inventory/group_vars/all.yml" "${inventory}/group_vars/all.yml"
install -m 644 files/image.yml "${inventory}/group_vars/billy.yml"
printf 'billy:\n  hosts:\n    "%s":\n      ansible_connection: community.general.chroot\n' "${ROOTFS_DIR}" \
	>"${inventory}/hosts.yml"

# Package scripts must not start services in the chroot (the build host's systemd is not the image's).
policy="${ROOTFS_DIR}/usr/sbin/policy-rc.d"
if [ ! -e "${policy}" ]; then
	printf '#!/bin/sh\nexit 101\n' >"${policy}"
	chmod 755 "${policy}"
	trap 'rm -f "${policy}"' EXIT
fi
# pi-gen's mounts (proc, dev, sys, run, tmp) for what Ansible runs in the chroot.
on_chroot -c true  # bash -c: on_chroot hands its arguments to bash in the chroot
# Offline wheels, seen by pip inside the chroot on its /run (a tmpfs: nothing of them stays in the image).
if [ -n "${BILLY_WHEELS_DIR:-}" ]; then
	mkdir -p "${ROOTFS_DIR}/run/billy-wheels"
	mount --bind "${BILLY_WHEELS_DIR}" "${ROOTFS_DIR}/run/billy-wheels"
fi

# On an x86 build host the image's programs run under qemu-user and would read the host's /sys beside its
# /proc/cpuinfo: onnxruntime's CPU probe (piper, rendering the clips at provisioning) dies with SIGSEGV on that
# mix. Nothing the playbook does in the chroot needs /sys, so the build host's is not shown to it.
# qemu-user's default CPU ("max") offers SVE, which onnxruntime and glibc then use and qemu emulates slowly:
# as a Pi 4's own core (cortex-a72) a clip took 53 s instead of 592 s, and loading the voice 4 s instead of 32.
if [ "$(uname -m)" != aarch64 ]; then
	umount "${ROOTFS_DIR}/sys"
	export QEMU_CPU=cortex-a72
fi
ANSIBLE_CONFIG="${billy}/ansible/ansible.cfg" \
ANSIBLE_COLLECTIONS_PATH="${billy}/collections" \
ANSIBLE_ROLES_PATH="${billy}/roles" \
	"${playbook}" -i "${inventory}/hosts.yml" "${billy}/ansible/site.yml"
