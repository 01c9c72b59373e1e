#!/bin/sh
# A booted Debian machine for Molecule, without Docker: a root filesystem under systemd-nspawn -b, on the host's
# network (so it reaches PyPI and Debian) with its SSH server on 127.0.0.1:PORT only.
#   machine.sh up NAME SUITE SSH_PORT   boot a fresh machine from the cached rootfs tarball
#   machine.sh root NAME SUITE          unpack a root filesystem for a chroot (image mode), with /proc, /sys and a
#                                       minimal /dev mounted as an image builder does; nothing is booted
#   machine.sh down NAME                power it off (or unmount it) and delete it
# State lives in $BILLY_MACHINES (default .cache/machines): NAME/ (the root), NAME.pid (nspawn), NAME.log.
set -eu
cd "$(dirname "$0")/../.."
machines=${BILLY_MACHINES:-$PWD/.cache/machines}
key=$PWD/.cache/molecule-ssh/id_ed25519
wheelhouse=$PWD/.cache/wheelhouse
pip_cache=${PIP_CACHE_DIR:-$HOME/.cache/pip}

leader() {  # the machine's init: the child of nspawn
    pgrep -P "$(cat "$machines/$1.pid")" | head -n 1
}

mounts_under() {  # the mount points below a directory, deepest first
    awk -v root="$1/" 'index($2, root) == 1 { print $2 }' /proc/self/mounts | sort -r
}

down() {
    name=$1
    if [ -f "$machines/$name.pid" ]; then
        pid=$(cat "$machines/$name.pid")
        if kill -0 "$pid" 2>/dev/null; then
            init=$(leader "$name" || true)
            [ -n "$init" ] && kill -s RTMIN+4 "$init" 2>/dev/null  # systemd's "power off"
            for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" && sleep 1
        fi
        rm -f "$machines/$name.pid"
    fi
    root=$machines/$name
    if [ -d "$root" ]; then
        mounts_under "$root" | while read -r mount; do umount -l "$mount"; done
        # Never delete through a mount: that would reach the host's files (the pip cache is bound in).
        if [ -n "$(mounts_under "$root")" ]; then
            echo "$root still has mounts; not deleting it" >&2
            return 1
        fi
        rm -rf "${machines:?}/$name"
    fi
}

root() {
    name=$1 suite=$2
    down "$name"
    sh molecule/nspawn/rootfs.sh "$suite" "$PWD/.cache/rootfs/$suite.tar"
    root=$machines/$name
    mkdir -p "$root"
    tar -C "$root" -xf "$PWD/.cache/rootfs/$suite.tar"
    python3 molecule/nspawn/host-cas.py "$root" >/dev/null
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    # A private /dev with the few nodes package scripts and pip use, not a bind of the host's.
    mount -t tmpfs -o mode=0755,nosuid devtmp "$root/dev"
    for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
        IFS=: read -r file major minor <<NODE
$node
NODE
        mknod -m 0666 "$root/dev/$file" c "$major" "$minor"
    done
    mkdir -p "$root/dev/pts" "$root/dev/shm"
    mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    mkdir -p "$root/var/cache/billy-wheelhouse"
    mount --bind -o ro "$wheelhouse" "$root/var/cache/billy-wheelhouse"
    mkdir -p "$root/root/.cache/pip" "$pip_cache"
    mount --bind "$pip_cache" "$root/root/.cache/pip"
    echo "$name ($suite): root filesystem at $root, not booted"
}

up() {
    name=$1 suite=$2 port=$3
    down "$name"
    sh molecule/nspawn/rootfs.sh "$suite" "$PWD/.cache/rootfs/$suite.tar"
    mkdir -p "$machines/$name" "$(dirname "$key")" "$wheelhouse" "$pip_cache" /run/systemd/nspawn
    [ -f "$key" ] || ssh-keygen -q -t ed25519 -N "" -C molecule -f "$key"
    root=$machines/$name
    tar -C "$root" -xf "$PWD/.cache/rootfs/$suite.tar"
    echo "$name" >"$root/etc/hostname"
    python3 molecule/nspawn/host-cas.py "$root" >/dev/null
    install -d -m 0700 "$root/root/.ssh"
    install -m 0600 "$key.pub" "$root/root/.ssh/authorized_keys"
    cat >"$root/etc/ssh/sshd_config.d/molecule.conf" <<CONF
Port $port
ListenAddress 127.0.0.1
PermitRootLogin prohibit-password
UseDNS no
CONF
    # The pip cache and the wheelhouse are shared so a second run downloads and compiles nothing. The machine's
    # systemd cannot raise a hard limit it was given, as a Pi's can: no limit on locked memory, so the units'
    # LimitMEMLOCK=infinity holds as on a Pi (llama-cpp locks its brain). Where nspawn itself may not raise it
    # (a host without CAP_SYS_RESOURCE, such as CI's), the limit stays and the brain is served unlocked.
    setsid systemd-nspawn --quiet --directory="$root" --machine="$name" --register=no --keep-unit --boot \
        --rlimit=RLIMIT_MEMLOCK=infinity \
        --bind="$pip_cache:/root/.cache/pip" --bind-ro="$wheelhouse:/var/cache/billy-wheelhouse" \
        </dev/null >"$machines/$name.log" 2>&1 &
    echo $! >"$machines/$name.pid"
    for _ in $(seq 120); do
        init=$(leader "$name" || true)
        if [ -n "$init" ] && state=$(nsenter -t "$init" -a systemctl is-system-running 2>/dev/null); then
            break
        fi
        case "${state:-}" in running | degraded) break ;; esac
        sleep 1
    done
    state=$(nsenter -t "$init" -a systemctl is-system-running --wait 2>/dev/null || true)
    echo "$name ($suite) booted: $state; ssh root@127.0.0.1 -p $port -i $key"
    for _ in $(seq 30); do
        ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$key" -p "$port" \
            root@127.0.0.1 true && return 0
        sleep 1
    done
    echo "$name: SSH on port $port did not answer; boot log: $machines/$name.log" >&2
    nsenter -t "$init" -a systemctl --failed --no-pager >&2 || true
    return 1
}

"$@"
