#!/bin/sh
# Install the Debian packages that `make setup` needs, only those missing.
# As root (CI, a fresh Debian box) they are installed; otherwise the command to run is printed.
set -eu
# chromium: the web page's browser tests; systemd-journal-remote: they write a real journal for its log page;
# espeak-ng: voices other than piper's for the wake-word and language tests; libspeexdsp1: the wake word's echo
# canceller; rsync, libcap2-bin (capsh), mtools,
# dosfstools, fdisk: the image build's fast checks (the pi-gen shim, the boot partition); qemu-system-x86 and
# e2fsprogs: the Debian machine with simulated radios that the Wi-Fi setup is tried on (tests/wifi_vm.py).
PACKAGES="python3-venv libportaudio2 mosquitto mosquitto-clients debootstrap systemd-container openssh-client ca-certificates chromium chromium-driver systemd-journal-remote espeak-ng libspeexdsp1 rsync libcap2-bin mtools dosfstools fdisk qemu-system-x86 e2fsprogs"
# `install-system-packages.sh image` (make image, make image-test) adds what builds and boots the arm64 image:
# qemu-user with binfmt runs the root's arm64 programs, qemu-system boots it, xz compresses it; ipxe-qemu holds
# the network ROM that qemu's virtio-net-pci loads (only recommended by qemu-system-arm, so left out here).
if [ "${1:-}" = image ]; then
    PACKAGES="$PACKAGES qemu-user-static binfmt-support qemu-system-arm ipxe-qemu e2fsprogs xz-utils"
fi
missing=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "Billy's tests need these Debian packages:$missing" >&2
    echo "Install them with: sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# The packaged broker starts itself; the tests run their own on free ports, so keep it quiet.
if [ -d /run/systemd/system ]; then systemctl disable --now mosquitto.service >/dev/null 2>&1 || true; fi
