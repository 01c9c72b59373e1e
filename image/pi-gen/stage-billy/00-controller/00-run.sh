#!/bin/bash -e
# Ansible on the build host, which runs Billy's playbook into the image through the chroot connection.
# BILLY_ANSIBLE_PLAYBOOK names one to use (`make image` passes its own); otherwise a venv of the ansible-core
# that the repository pins is made once in the stage's work folder. pi-gen's Docker container has no Python:
# there, and only there, python3-venv is installed first.
if [ -n "${BILLY_ANSIBLE_PLAYBOOK:-}" ]; then
	log "Ansible: ${BILLY_ANSIBLE_PLAYBOOK}"
	exit 0
fi
controller="${STAGE_WORK_DIR}/controller"
pin="$(grep -E '^ansible-core==' ../files/billy/requirements-dev.txt)"
if [ -x "${controller}/bin/ansible-playbook" ] && "${controller}/bin/pip" show ansible-core | grep -qx "Version: ${pin#*==}"; then
	exit 0
fi
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
	if [ -f /.dockerenv ] || [ "${BASE_DIR}" = /pi-gen ]; then
		apt-get update -q && apt-get install -y -q --no-install-recommends python3-venv
	else
		echo "Billy's stage needs Python 3 with venv on this build host: apt-get install python3-venv" >&2
		exit 1
	fi
fi
rm -rf "${controller}"
python3 -m venv "${controller}"
"${controller}/bin/pip" install --quiet "${pin}"
log "Ansible: ${pin} in ${controller}"
