#!/usr/bin/env bash
# Installs what the demo and the tests need, then builds. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the Btrfs and XFS tools, PostgreSQL 15 (+ pgbench, amcheck), tmux for the
# pseudo-terminal tests, util-linux (losetup, setpriv, findmnt, wipefs; unshare and nsenter for the systemd
# test containers), e2fsprogs (chattr, mkfs.ext4), systemd (booted as PID 1 of a namespace by the tests);
# for the packaging tests: lintian, cloud-init (schema), zsh and fish (completion), man-db, dpkg-dev, debootstrap
# (the stock bookworm/trixie roots the package installs into, test/helpers/debian-root.sh); btrbk (small, a
# Perl script, no daemon) so `npm run bench` can show it beside lychd-crypt (snapper is not installed: its
# package pulls in boost and D-Bus, and enables timers; btrbk's own daily timer does nothing without
# /etc/btrbk/btrbk.conf).
need=()
for pair in mkfs.btrfs:btrfs-progs mkfs.xfs:xfsprogs tmux:tmux setpriv:util-linux chattr:e2fsprogs \
            mkfs.ext4:e2fsprogs losetup:mount systemd-analyze:systemd unshare:util-linux nsenter:util-linux \
            lintian:lintian cloud-init:cloud-init zsh:zsh fish:fish man:man-db dpkg-parsechangelog:dpkg-dev debootstrap:debootstrap btrbk:btrbk; do
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
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing packages: ${need[*]} (run as root to install them)" >&2
  else
    echo "setup: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# Node dependencies: only when the lock file changed since the last install.
if ! cmp -s package-lock.json node_modules/.package-lock.json.installed 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.installed
fi

npm run --silent build
