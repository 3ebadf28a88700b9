#!/bin/bash
# Runs as PID 1 of fresh namespaces (see systemd.ts): builds a root for a throw-away systemd and execs it.
# The root is an overlay: the host's / (bound non-recursively, so other processes' mounts are not dragged
# in) under an upper layer the caller keeps (a "reboot" reuses it), with the test's scratch directory
# bound at the same path. Facts: ../../../shared/notes/systemd-in-a-namespace.md.
set -euo pipefail
upper=$1 scratch=$2 loops=$3

# A private staging area for the layers; nothing mounted here is visible outside this namespace.
mount -t tmpfs -o mode=700 lychd-stage /mnt
mkdir -p /mnt/lower /mnt/root
mount --bind / /mnt/lower
mount -t overlay -o "lowerdir=/mnt/lower,upperdir=$upper/upper,workdir=$upper/work" lychd-root /mnt/root
r=/mnt/root

mount -t proc proc "$r/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$r/sys"
# Inside the cgroup namespace, this cgroup2's root is the container's own cgroup.
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$r/sys/fs/cgroup"

# A minimal /dev: the basic nodes, a private devpts, and loop nodes (a tmpfs /dev has none, and a .mount
# of an image fails with EPERM without them; the numbers are the host's, shared).
mount -t tmpfs -o mode=755,nosuid lychd-dev "$r/dev"
d=$r/dev
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name ma mi <<<"$n"
  mknod -m 666 "$d/$name" c "$ma" "$mi"
done
mknod -m 600 "$d/loop-control" c 10 237
# The tun device users open for rootless Podman's slirp4netns (published ports of a container unit).
mkdir -p "$d/net"
mknod -m 666 "$d/net/tun" c 10 200
for ((i = 0; i < loops; i++)); do mknod -m 660 "$d/loop$i" b 7 "$i"; done
mkdir -p "$d/pts" "$d/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$d/pts"
ln -s pts/ptmx "$d/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$d/shm"
ln -s /proc/self/fd "$d/fd"
ln -s /proc/self/fd/0 "$d/stdin"
ln -s /proc/self/fd/1 "$d/stdout"
ln -s /proc/self/fd/2 "$d/stderr"

mount -t tmpfs -o mode=755,nosuid,nodev lychd-run "$r/run"
mount -t tmpfs -o mode=1777,nosuid,nodev lychd-tmp "$r/tmp"
mkdir -p "$r$scratch"
mount --rbind "$scratch" "$r$scratch"

cd "$r"
mkdir -p .lychd-oldroot
pivot_root . .lychd-oldroot
umount -l /.lychd-oldroot
rmdir /.lychd-oldroot
# container= tells systemd it is not the host's init: without it, its shutdown detaches every loop device
# of the host, other tests' included.
exec env -i container=lychd-test /lib/systemd/systemd --log-target=console --show-status=no
