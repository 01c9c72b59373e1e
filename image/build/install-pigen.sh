#!/bin/sh
# Put Billy's stage and config into a pi-gen checkout (branch arm64), so that its build.sh and build-docker.sh
# both build the Billy image: stage-billy/ inside the pi-gen folder (build-docker.sh copies only that folder
# into its container), config next to build.sh (an existing one is kept as config.before-billy), and
# stage2/SKIP_IMAGES so that only the Billy image is exported (pi-gen's documented way).
#   install-pigen.sh PIGEN_DIR
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
pigen=${1:-}
if [ -z "$pigen" ] || [ ! -f "$pigen/build.sh" ] || [ ! -d "$pigen/stage2" ]; then
    echo "install-pigen: PIGEN=${pigen:-(unset)} is not a pi-gen checkout (no build.sh and stage2/ there);" \
        "clone it with: git clone -b arm64 https://github.com/RPi-Distro/pi-gen" >&2
    exit 1
fi
sh "$repo/image/build/bundle-stage.sh" "$pigen/stage-billy"
if [ -f "$pigen/config" ] && ! cmp -s "$pigen/config" "$repo/image/pi-gen/config"; then
    mv "$pigen/config" "$pigen/config.before-billy"
fi
cp "$repo/image/pi-gen/config" "$pigen/config"
touch "$pigen/stage2/SKIP_IMAGES"
echo "Billy's stage is in $pigen/stage-billy (digest $(sh "$repo/image/build/stage-digest.sh" "$pigen/stage-billy"))."
echo "Build: cd $pigen && sudo ./build.sh   (or ./build-docker.sh); the image lands in $pigen/deploy/."
