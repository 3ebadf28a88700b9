#!/bin/bash
# Runs as PID 1 of fresh mount, PID and UTS namespaces (see remote-host.ts): turns them into a second
# "host" — its own /etc (an overlay, so users and keys made here exist only here), its own /root, /home and
# /run, none of the host's other mounts, its own Btrfs loop image mounted where only it sees it — and then
# execs sshd, which stays PID 1: when it ends, the kernel kills everything in the namespace and the mounts
# (and the image's loop device, autoclear) go with it.
set -euo pipefail
state=$1 image=$2 mnt=$3 name=$4 user=$5 config=$6

hostname "$name"

# Leave behind every mount the host had when we unshared (other tests' crypts, the checkout's mounts): a
# copy held here would keep their filesystems busy after they unmount them. Deepest first; lazily, as some
# may be busy for a moment. Only the kernel's own (/, /proc, /sys, /dev and below) stay.
findmnt -rn -o TARGET | sed 's/\\x20/ /g' | sort -r | while IFS= read -r t; do
  case $t in
    / | /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) ;;
    *) umount -l "$t" 2>/dev/null || true ;;
  esac
done

# Private state of this "host" (the overlay's upper layer), on a tmpfs only this namespace sees.
mount -t tmpfs -o mode=0700,size=64m lychd-remote-state "$state"
mkdir "$state/etc-upper" "$state/etc-work"
mount -t overlay -o "lowerdir=/etc,upperdir=$state/etc-upper,workdir=$state/etc-work" lychd-remote-etc /etc
mount -t tmpfs -o mode=0700,size=16m lychd-remote-root /root
mount -t tmpfs -o mode=0755,size=16m lychd-remote-home /home
mount -t tmpfs -o mode=0755,size=16m lychd-remote-run /run
mkdir -m 0755 /run/sshd # sshd's privilege separation directory (compiled in)

mount -o loop "$image" "$mnt"

# The account the client logs in as: root (this host's own /root), or a user that exists on this host only.
if [[ $user != root ]]; then
  useradd --create-home --shell /bin/sh "$user"
  # "*": no password, but not "!" (locked), which sshd refuses outright when it does not use PAM.
  usermod -p '*' "$user"
fi

exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C /usr/sbin/sshd -D -e -f "$config"
