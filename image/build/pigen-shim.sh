#!/bin/bash
# pi-gen's stage contract, small enough to read: run one pi-gen stage folder unchanged on a root filesystem that
# was made without pi-gen (pi-gen itself needs the Raspberry Pi archive, which this build cannot reach).
#
#   pigen-shim.sh STAGE_DIR WORK_DIR PREV_ROOTFS_DIR [CONFIG]
#
# As pi-gen's build.sh does: CONFIG is sourced (its variables exported), ROOTFS_DIR is WORK_DIR/<stage>/rootfs,
# prerun.sh runs first, then each NN-name/ sub-stage (unless it holds SKIP) in name order, and in each, for
# i = 00..99: i-debconf, i-packages-nr, i-packages, i-patches (quilt), i-run.sh (on the host, from the sub-stage
# folder), i-run-chroot.sh (into on_chroot). The helpers log, copy_previous, on_chroot and unmount are exported
# with pi-gen's meaning. Sourced with no arguments, it only defines the helpers.
# shellcheck disable=SC2119,SC2120  # on_chroot reads its script from stdin, as in pi-gen
set -euo pipefail

log() {
    date +"[%T] $*" | tee -a "${LOG_FILE:-/dev/null}"
}

copy_previous() {
    if [ ! -d "${PREV_ROOTFS_DIR}" ]; then
        echo "Previous stage rootfs not found: ${PREV_ROOTFS_DIR}"
        false
    fi
    mkdir -p "${ROOTFS_DIR}"
    rsync -aHAXx --exclude var/cache/apt/archives "${PREV_ROOTFS_DIR}/" "${ROOTFS_DIR}/"
}

# Mounts under DIR, deepest first (pi-gen's unmount).
unmount() {
    local dir=${1:-$PWD}
    awk -v dir="$(realpath "$dir")" '$2 == dir || index($2, dir "/") == 1 {print $2}' /proc/mounts | sort -r |
        xargs -r umount
}

on_chroot() {
    local root
    root=$(realpath "${ROOTFS_DIR}")
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"
    mountpoint -q "$root/sys" || mount --bind /sys "$root/sys"
    mountpoint -q "$root/run" || mount -t tmpfs tmpfs "$root/run"
    mountpoint -q "$root/tmp" || mount -t tmpfs tmpfs "$root/tmp"
    # shellcheck disable=SC2086
    capsh ${CAPSH_ARG:-} "--chroot=$root/" -- -e "$@"
}

export -f log copy_previous unmount on_chroot

packages_of() {  # pi-gen's remove-comments.sed: drop comments and blank lines
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1" | tr '\n' ' '
}

run_sub_stage() {
    log "Begin ${SUB_STAGE_DIR}"
    pushd "${SUB_STAGE_DIR}" >/dev/null
    local i packages
    for i in $(seq -w 0 99); do
        if [ -f "${i}-debconf" ]; then
            printf 'debconf-set-selections <<SELEOF\n%s\nSELEOF\n' "$(cat "${i}-debconf")" | on_chroot
        fi
        if [ -f "${i}-packages-nr" ]; then
            packages=$(packages_of "${i}-packages-nr")
            [ -z "$packages" ] || echo "apt-get -o Acquire::Retries=3 install --no-install-recommends -y $packages" | on_chroot
        fi
        if [ -f "${i}-packages" ]; then
            packages=$(packages_of "${i}-packages")
            [ -z "$packages" ] || echo "apt-get -o Acquire::Retries=3 install -y $packages" | on_chroot
        fi
        if [ -d "${i}-patches" ]; then
            (cd "${STAGE_WORK_DIR}" && QUILT_PATCHES="${SUB_STAGE_DIR}/${i}-patches" quilt push -a) || [ $? -eq 2 ]
        fi
        if [ -x "${i}-run.sh" ]; then
            log "Begin ${SUB_STAGE_DIR}/${i}-run.sh"
            "./${i}-run.sh"
            log "End ${SUB_STAGE_DIR}/${i}-run.sh"
        elif [ -f "${i}-run.sh" ]; then
            log "Skip ${SUB_STAGE_DIR}/${i}-run.sh (not executable)"
        fi
        if [ -f "${i}-run-chroot.sh" ]; then
            log "Begin ${SUB_STAGE_DIR}/${i}-run-chroot.sh"
            on_chroot <"${i}-run-chroot.sh"
            log "End ${SUB_STAGE_DIR}/${i}-run-chroot.sh"
        fi
    done
    popd >/dev/null
    log "End ${SUB_STAGE_DIR}"
}

run_stage() {
    STAGE_DIR=$(realpath "$1")
    STAGE=$(basename "${STAGE_DIR}")
    STAGE_WORK_DIR="${WORK_DIR}/${STAGE}"
    ROOTFS_DIR="${STAGE_WORK_DIR}/rootfs"
    export STAGE STAGE_DIR STAGE_WORK_DIR ROOTFS_DIR PREV_ROOTFS_DIR
    mkdir -p "${STAGE_WORK_DIR}"
    log "Begin ${STAGE_DIR}"
    trap 'unmount "${STAGE_WORK_DIR}"' EXIT
    pushd "${STAGE_DIR}" >/dev/null
    if [ -f SKIP ]; then
        log "Skip ${STAGE_DIR}"
    else
        if [ -x prerun.sh ]; then
            ./prerun.sh
        fi
        for SUB_STAGE_DIR in "${STAGE_DIR}"/*; do
            if [ -d "${SUB_STAGE_DIR}" ] && [ ! -f "${SUB_STAGE_DIR}/SKIP" ]; then
                run_sub_stage
            fi
        done
    fi
    popd >/dev/null
    unmount "${STAGE_WORK_DIR}"
    trap - EXIT
    log "End ${STAGE_DIR}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    if [ $# -lt 3 ]; then
        echo "usage: $0 STAGE_DIR WORK_DIR PREV_ROOTFS_DIR [CONFIG]" >&2
        exit 2
    fi
    WORK_DIR=$(realpath "$2")
    PREV_ROOTFS_DIR=$(realpath "$3")
    # pi-gen's build.sh sets BASE_DIR (its own folder) before it reads the config, which may use it.
    BASE_DIR=${BASE_DIR:-$(dirname "$(realpath "$1")")}
    export WORK_DIR PREV_ROOTFS_DIR BASE_DIR
    if [ -n "${4:-}" ]; then
        set -a
        # shellcheck disable=SC1090
        . "$4"
        set +a
    fi
    export LOG_FILE="${WORK_DIR}/build.log"
    run_stage "$1"
fi
