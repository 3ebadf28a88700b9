#!/bin/sh
# A stand-in for `lychd-crypt receive` (issue 27) as an ssh forced command, for the remote host's smoke
# test until the real receiver exists. sshd runs it instead of whatever the client asked; the client's
# request arrives in SSH_ORIGINAL_COMMAND and is judged as words, never run through a shell:
#   receive NAME   one `btrfs send` stream on stdin becomes DIR/NAME
#   list           one line per copy held in DIR: NAME RECEIVED-UUID
# Anything else is refused with exit 3.
set -eu
dir=$1
request=${SSH_ORIGINAL_COMMAND-}

refuse() {
  printf 'receive: refused: %s\n' "$1" >&2
  exit 3
}

case $request in
  *[!A-Za-z0-9._\ -]*) refuse 'only the words receive NAME or list are accepted' ;;
esac
set -f
# shellcheck disable=SC2086 # splitting into words is the point; globbing is off
set -- $request

case ${1-} in
  receive)
    [ $# -eq 2 ] || refuse 'receive takes one NAME'
    case $2 in .* | *..*) refuse "not a snapshot name: $2" ;; esac
    btrfs receive -e "$dir" >&2
    # The stream names the subvolume it makes: it must be the one announced.
    [ -d "$dir/$2" ] || { printf 'receive: the stream did not hold %s\n' "$2" >&2; exit 1; }
    ;;
  list)
    [ $# -eq 1 ] || refuse 'list takes no arguments'
    set +f
    for s in "$dir"/*; do
      [ -d "$s" ] || continue
      printf '%s %s\n' "${s##*/}" "$(btrfs subvolume show "$s" | sed -n 's/^[[:space:]]*Received UUID:[[:space:]]*//p')"
    done
    ;;
  *) refuse "not a receiver request: ${1-(none)}" ;;
esac
