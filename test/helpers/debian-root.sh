#!/usr/bin/env bash
# Makes (once) and prints the path of a stock Debian root: `debootstrap --variant=minbase SUITE` from the
# machine's own Debian mirror (the one /etc/apt/sources.list.d/debian.sources names), with that suite's
# main, -updates and -security archives in its apt sources and their lists fetched. The PACKAGEs given are
# only downloaded into its apt cache (/var/cache/apt/archives), not installed: a test that installs a .deb
# in it resolves the dependencies from the archive's own lists, as a stock host would, without the network.
#
#   debian-root.sh SUITE [PACKAGE...]      e.g. debian-root.sh bookworm btrfs-progs e2fsprogs
#
# The roots are kept outside any checkout, in $LYCHD_TEST_CACHE/roots/ (default /var/tmp/lychd-crypt-test-cache;
# never /var/cache/lychd-crypt and the like, which the tests' teardown watches), named SUITE-KEY-DATE, where
# KEY digests the suite, the mirrors, the packages and this script: a root younger than
# LYCHD_TEST_ROOT_MAX_AGE_DAYS (default 7) is used as it is, an older one is built anew (the archive moves
# on) and the old one removed. A root is built in a hidden directory and renamed into place whole, under a
# lock, so test files running at once share one build. A root is only ever read: tests use it as the lower
# layer of an overlay (throwaway-root.sh), so each starts from the same clean files.
set -euo pipefail
suite=${1:?usage: debian-root.sh SUITE [PACKAGE...]}
shift
packages=("$@")
cache=${LYCHD_TEST_CACHE:-/var/tmp/lychd-crypt-test-cache}
max_age=${LYCHD_TEST_ROOT_MAX_AGE_DAYS:-7}
roots=$cache/roots
[[ $suite =~ ^[a-z]+$ ]] || { echo "debian-root: not a suite name: $suite" >&2; exit 2; }
for p in "${packages[@]}"; do [[ $p =~ ^[a-z0-9][a-z0-9+.-]*$ ]] || { echo "debian-root: not a package name: $p" >&2; exit 2; }; done

# The machine's mirrors: the URIs of the deb822 stanzas in debian.sources (the -security one apart).
mirror=http://deb.debian.org/debian security=http://deb.debian.org/debian-security
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
  while read -r uri suites; do
    if [[ $suites == *-security* ]]; then security=$uri; else mirror=$uri; fi
  done < <(awk '/^URIs:/ { u = $2 } /^Suites:/ { $1 = ""; print u, $0 } /^$/ { u = "" }' /etc/apt/sources.list.d/debian.sources)
fi

mkdir -p "$roots"
chmod 0755 "$cache" "$roots"
key=$( { echo "$suite $mirror $security"; printf '%s\n' "${packages[@]}" | sort -u; sha256sum < "$0"; } | sha256sum | cut -c1-12)
exec 9>"$roots/.lock"
flock 9

today=$(date -u +%Y%m%d)
oldest_ok=$(date -u -d "-$max_age days" +%Y%m%d)
newest=$(find "$roots" -mindepth 1 -maxdepth 1 -type d -name "$suite-$key-*" -printf '%f\n' | sort | tail -n 1)
if [[ -n $newest && ${newest##*-} -ge $oldest_ok && -e $roots/$newest/etc/lychd-crypt-test-root ]]; then
  echo "$roots/$newest"
  exit 0
fi

target=$roots/$suite-$key-$today
tmp=$roots/.$suite-$key-$today.$$
rm -rf "$tmp"
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
started=$(date +%s)
# The .debs debootstrap fetched are kept per suite, so a rebuild only fetches what changed.
mkdir -p "$cache/debs/$suite"
debootstrap --variant=minbase --components=main --cache-dir="$cache/debs/$suite" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1 \
  || { tail -n 20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log" "$tmp/etc/apt/sources.list"
cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
in_root() { chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -qq
in_root apt-get clean # debootstrap's own .debs: the root keeps only what a test may install
if ((${#packages[@]})); then
  in_root apt-get install -y -qq --download-only --no-install-recommends "${packages[@]}" >/dev/null
fi
{
  echo "suite=$suite key=$key built=$(date -u +%FT%TZ) mirror=$mirror security=$security"
  echo "downloaded=${packages[*]}"
  echo "seconds=$(($(date +%s) - started))"
} >"$tmp/etc/lychd-crypt-test-root"
rm -rf "$target" # a same-day build without its marker: never finished
mv "$tmp" "$target"
trap - EXIT
# Older builds of the same key go, and roots of other keys (another checkout's packages, an older script)
# once they are past the age limit too;
# never one that a throw-away root still has as its lower layer (a bind mount some namespace shows).
in_use() { grep -qsF " $1 " /proc/[0-9]*/mountinfo; }
for old in $(find "$roots" -mindepth 1 -maxdepth 1 -type d \( -name "$suite-$key-*" ! -name "$suite-$key-$today" -o -name "$suite-*" -mtime "+$max_age" \)); do
  in_use "$old" || rm -rf "$old"
done
echo "$target"
