#!/bin/sh
# The complete Billy stage in DEST: image/pi-gen/stage-billy as it is, plus files/billy/, what its steps run
# (the playbook, the roles, the app, the inventory's defaults, the pinned Ansible collections). `make image`
# and `make image-pigen` both make the stage with this script, so pi-gen runs exactly what the local build ran.
#   bundle-stage.sh DEST
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$1
collections=${BILLY_COLLECTIONS_DIR:-$repo/.cache/collections}
[ -d "$collections/ansible_collections/community/general" ] || {
    echo "bundle-stage: no Ansible collections in $collections: run make setup-ansible" >&2
    exit 1
}
rm -rf "$dest"
mkdir -p "$dest"
cp -R "$repo/image/pi-gen/stage-billy/." "$dest/"
payload="$dest/files/billy"
mkdir -p "$payload/ansible" "$payload/inventory/group_vars" "$payload/collections/ansible_collections/community"
cp "$repo/ansible/site.yml" "$repo/ansible/ansible.cfg" "$payload/ansible/"
cp "$repo/inventory/group_vars/all.yml" "$payload/inventory/group_vars/"
cp "$repo/requirements.yml" "$repo/requirements-dev.txt" "$payload/"
cp -R "$repo/roles" "$payload/roles"
cp -R "$collections/ansible_collections/community/general" "$payload/collections/ansible_collections/community/"
# The app as Ansible packs it (install.yml): sources only, no caches or build leftovers.
tar -C "$repo" --exclude=__pycache__ --exclude='*.egg-info' --exclude='*.pyc' --exclude=build -cf - app |
    tar -C "$payload" -xf -
