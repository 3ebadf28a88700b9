#!/usr/bin/env bash
# Installs what the demo and the tests need, then builds. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# What is slow (apt, npm ci: up to a minute on a first run) says what it does, and every 10 s that it is
# still at it, so `npm run demo` never sits silent: `progress LABEL CMD…` runs CMD, its output kept for an
# error only, and prints LABEL, a heartbeat, and the outcome with the time it took (on stderr).
progress() {
  local label=$1 log start pid status=0 waited=0
  shift
  log=$(mktemp)
  start=$SECONDS
  echo "setup: $label …" >&2
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if (( (SECONDS - start) / 10 > waited )); then
      waited=$(( (SECONDS - start) / 10 ))
      echo "setup:   … still $label ($((SECONDS - start)) s)" >&2
    fi
  done
  wait "$pid" || status=$?
  if ((status)); then
    echo "setup: $label FAILED (exit $status):" >&2
    tail -n 30 "$log" >&2
    rm -f "$log"
    return "$status"
  fi
  rm -f "$log"
  echo "setup: $label: done ($((SECONDS - start)) s)" >&2
}

# Debian packages: the Btrfs and XFS tools, PostgreSQL 15 (+ pgbench, amcheck), tmux for the
# pseudo-terminal tests, util-linux (losetup, setpriv, findmnt, wipefs; unshare and nsenter for the systemd
# test containers), e2fsprogs (chattr, mkfs.ext4), systemd (booted as PID 1 of a namespace by the tests);
# gdb (the owner-terminal test attaches it, as the crypt's owner, to the owner's own process to try TIOCSTI),
# python3 (trust tests' small attackers); binutils (strip: the single executable's Node binary, koffi's addon);
# zstd and the OpenSSH client (off-host copies, issue 27: file:// streams are zstd-compressed, ssh:// targets
# go through `ssh`; the server is installed below, never as a host service), strace (the remote host's smoke
# test watches which files the ssh client opens);
# for the packaging tests: lintian, cloud-init (schema), zsh and fish (completion), man-db, dpkg-dev, debootstrap
# (the stock bookworm/trixie roots the package installs into, test/helpers/debian-root.sh); btrbk (small, a
# Perl script, no daemon) so `npm run bench` can show it beside lychd-crypt (snapper is not installed: its
# package pulls in boost and D-Bus, and enables timers; btrbk's own daily timer does nothing without
# /etc/btrbk/btrbk.conf).
need=()
for pair in mkfs.btrfs:btrfs-progs mkfs.xfs:xfsprogs tmux:tmux setpriv:util-linux chattr:e2fsprogs \
            mkfs.ext4:e2fsprogs losetup:mount systemd-analyze:systemd unshare:util-linux nsenter:util-linux \
            lintian:lintian cloud-init:cloud-init zsh:zsh fish:fish man:man-db dpkg-parsechangelog:dpkg-dev debootstrap:debootstrap btrbk:btrbk \
            gdb:gdb python3:python3 strip:binutils zstd:zstd ssh:openssh-client ssh-keygen:openssh-client strace:strace; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[[ -x /usr/lib/postgresql/15/bin/postgres ]] || need+=(postgresql-15)
[[ -e /usr/lib/postgresql/15/lib/amcheck.so ]] || need+=(postgresql-contrib)
# The power-cut harness: logfs (test/powercut/logfs.c) is a FUSE filesystem compiled by the tests.
for pair in gcc:gcc pkg-config:pkg-config fusermount3:fuse3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[[ -e /usr/include/fuse3/fuse.h ]] || need+=(libfuse3-dev)
[[ -e /usr/include/stdio.h ]] || need+=(libc6-dev)
# Rootless Podman (LychD's own deployment: PostgreSQL in the owner's container; notes: rootless-podman.md):
# runc, not crun (crun refuses this host's hybrid cgroups), newuidmap/newgidmap (uidmap), slirp4netns for
# published ports, fuse-overlayfs as the storage fallback, catatonit for the pause process; and
# busybox-static, the shell of the tests' PostgreSQL image (test/fixtures/pg-image/build.sh; no registry here).
for pair in podman:podman runc:runc newuidmap:uidmap slirp4netns:slirp4netns fuse-overlayfs:fuse-overlayfs catatonit:catatonit; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [[ -x /usr/libexec/podman/${pair%%:*} ]] || need+=("${pair#*:}")
done
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
# A user's D-Bus: podman's systemd cgroup manager for a Quadlet-like user unit under the namespace systemd.
[[ -e /usr/lib/systemd/user/dbus.socket ]] || need+=(dbus-user-session)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${need[*]} (run as root to install them)" >&2
  else
    export DEBIAN_FRONTEND=noninteractive
    progress "updating the package lists (apt-get update)" apt-get update -qq
    progress "installing ${#need[@]} Debian packages: ${need[*]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
fi

# The tests' second "host" runs its own sshd (test/helpers/remote-host.ts: own config, throw-away keys, one
# loopback address), so the package's binary is needed, but never a host sshd: when this script installs
# openssh-server it first creates /etc/ssh/sshd_not_to_be_run (Debian's switch: ssh.service's
# ConditionPathExists and /etc/init.d/ssh both refuse to start while it exists), holds back the postinst's
# `invoke-rc.d ssh start` with a policy-rc.d that answers 101 (only if the machine has none), and then disables
# the unit the postinst enabled. A machine that already had openssh-server keeps its sshd as it was.
if [[ ! -x /usr/sbin/sshd ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing package: openssh-server (run as root to install it; it is not started as a service)" >&2
  else
    echo "setup: installing openssh-server (for the tests' own sshd; the host service stays off)" >&2
    export DEBIAN_FRONTEND=noninteractive
    mkdir -p /etc/ssh
    touch /etc/ssh/sshd_not_to_be_run
    own_policy=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\n# scripts/setup.sh of lychd-crypt: no service starts while it installs openssh-server\nexit 101\n' >/usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      own_policy=1
    fi
    ok=0
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server >/dev/null; } || ok=$?
    [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
    ((ok == 0)) || exit "$ok"
    # Offline (no systemd as PID 1 needed): remove the multi-user.target.wants link and the sysv start links.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --quiet ssh.service ssh.socket >/dev/null 2>&1 || true; fi
    if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ssh disable >/dev/null 2>&1 || true; fi
  fi
fi

# slirp4netns opens /dev/net/tun as the container's user: Debian's udev makes it 0666, but this kind of
# machine has no udev and leaves it 0600, so a rootless container could not publish a port.
if [[ -c /dev/net/tun && $(stat -c %a /dev/net/tun) != 666 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: /dev/net/tun is not usable by users (run as root to make it 0666, as udev does)" >&2
  else
    chmod 0666 /dev/net/tun
    echo "setup: made /dev/net/tun usable by users (0666, as udev does on Debian) for rootless Podman" >&2
  fi
fi

# Node dependencies: only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.package-lock.json.installed 2>/dev/null; then
  progress "installing the Node dependencies (npm ci; about 40 s the first time)" npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.installed
fi
# The Node.js the single executable embeds, and postject (packaging/sea-node/package.json says why apart).
if ! cmp -s packaging/sea-node/package-lock.json packaging/sea-node/node_modules/.package-lock.json.installed 2>/dev/null; then
  npm ci --prefix packaging/sea-node --no-audit --no-fund --loglevel=error
  cp packaging/sea-node/package-lock.json packaging/sea-node/node_modules/.package-lock.json.installed
fi

progress "building the runtime (dist/lychd-crypt/)" npm run --silent build
