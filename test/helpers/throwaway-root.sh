#!/usr/bin/env bash
# Run by throwaway-root.ts inside `unshare --mount --propagation private --fork`: builds a throw-away root
# (the host's / — or LOWER, a stock Debian root from debian-root.sh — bound non-recursively as the lower
# layer of an overlay whose upper layer is a tmpfs), with
# the host's /dev (loop devices), /sys, a new /proc, empty tmpfs /run and /tmp, and the test's scratch
# directory bound at its own path; pivots into it, prints the PID commands are entered through, and waits.
# Everything written in it (dpkg's database, /usr, /etc) vanishes with the namespace; the host's files are
# only read. No systemd runs in it (/run/systemd/system is absent).
set -euo pipefail
base=$1 scratch=$2 lower=${3:-/}
mkdir -p "$base/lower" "$base/layers" "$base/root" "$base/scratch"
# The scratch dir with its mounts, taken before this script mounts anything of its own under it (a
# recursive bind later would copy the overlay into itself); moved into the root below.
mount --rbind "$scratch" "$base/scratch"
mount --bind "$lower" "$base/lower"
mount -t tmpfs -o mode=0755 tmpfs "$base/layers"
mkdir "$base/layers/upper" "$base/layers/work"
mount -t overlay overlay -o "lowerdir=$base/lower,upperdir=$base/layers/upper,workdir=$base/layers/work" "$base/root"
root=$base/root
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mkdir -p "$root$scratch"
mount --move "$base/scratch" "$root$scratch"
# Pivot (not chroot) and drop the old root: the namespace then holds no copy of the host's other mounts.
# Kept, a copy of another test's crypt would hold its loop device (and the file system the image lives
# on) busy after that test unmounts it, for as long as this root lives.
mkdir -p "$root/.lychd-oldroot"
cd "$root"
pivot_root . .lychd-oldroot
umount -l /.lychd-oldroot
rmdir /.lychd-oldroot
exec /bin/sh -c 'echo "$$"; exec sleep infinity'
