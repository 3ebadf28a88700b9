#!/usr/bin/env bash
# The main job on a scratch loopback crypt: init (Method B) -> PostgreSQL 15 inside it -> snapshot ->
# a change -> rollback -> undo -> doctor. Everything lives under one scratch directory and is removed at
# the end, whatever happens; the host's fstab, units, /usr/local/bin and registry (/etc/lychd-crypt,
# /var/lib/lychd-crypt) are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) -eq 0 ]] || { echo "demo: run as root (it creates a loop device and mounts it)" >&2; exit 1; }

S=$(mktemp -d /tmp/lychd-demo-XXXXXX)
chmod 755 "$S"                              # the postgres user must reach its socket directory
CRYPT=$S/crypt PG=/usr/lib/postgresql/15/bin
export LYCHD_CRYPT_REGISTRY=$S/registry      # the runtime commands find the demo's crypt in its own registry
export LYCHD_CRYPT_COMPILE_CACHE=0            # and keep no code cache in root's /var/cache: the demo leaves nothing behind
cleanup() {
  set +e
  [[ -f $CRYPT/active/postgres/postmaster.pid ]] && setpriv --reuid=postgres --regid=postgres --clear-groups \
    "$PG/pg_ctl" -D "$CRYPT/active/postgres" -m immediate -w stop >/dev/null 2>&1
  mountpoint -q "$CRYPT" && umount "$CRYPT"
  for dev in $(losetup -j "$S/crypt.img" -O NAME -n 2>/dev/null); do losetup -d "$dev"; done
  rm -rf "$S"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
as_pg() { setpriv --reuid=postgres --regid=postgres --clear-groups "$@"; }
sql() { as_pg "$PG/psql" -h "$S/sock" -d postgres -Atqc "$1"; }

step "1. An answers file: a 1 GiB loopback image, fstab persistence, all host paths inside $S"
cat > "$S/answers.yaml" <<YAML
version: 1
crypt: { path: $CRYPT, user: root }
method: loopback
loopback: { image: $S/crypt.img, size: 1G }
persist: { via: fstab, fstab: $S/etc/fstab, unitDir: $S/etc/systemd/system }
install: { binDir: $S/bin }
registry: { dir: $S/registry, state: $S/state }
postgres:
  bin: $PG
  connection: { host: $S/sock, port: 5432, user: postgres, database: postgres }
  service: { kind: pg_ctl }
YAML
cat "$S/answers.yaml"

step "2. init: provision Btrfs on the image, mount it, persist it, build the layout, install the command"
run node dist/lychd-crypt.js init --answers "$S/answers.yaml" --yes
L=$S/bin/lychd-crypt                        # the installed runtime command from here on
run cat "$S/etc/fstab"
run findmnt "$CRYPT"
run lsattr -d "$CRYPT/active/postgres"

step "3. init again: nothing to do"
run node dist/lychd-crypt.js init --answers "$S/answers.yaml" --yes

step "4. A PostgreSQL 15 cluster in active/postgres, and some application code beside it"
mkdir -p "$S/sock" && chown postgres:postgres "$S/sock"
as_pg "$PG/initdb" -D "$CRYPT/active/postgres" -A trust -U postgres >/dev/null
printf "listen_addresses = ''\nunix_socket_directories = '%s'\n" "$S/sock" >> "$CRYPT/active/postgres/postgresql.conf"
as_pg "$PG/pg_ctl" -D "$CRYPT/active/postgres" -l "$S/sock/postgres.log" -w start >/dev/null
sql "CREATE TABLE marker(note text); INSERT INTO marker VALUES ('A: before the upgrade')"
mkdir -p "$CRYPT/active/app" && echo "v1" > "$CRYPT/active/app/VERSION"
echo "rows: $(sql "SELECT string_agg(note, ' + ' ORDER BY note) FROM marker")   app: $(cat "$CRYPT/active/app/VERSION")"

step "5. snapshot: the Ritual (CHECKPOINT, backup mode, read-only Btrfs snapshot, backup stop)"
run "$L" --crypt "$CRYPT" snapshot --label pre-upgrade
NAME=$("$L" --crypt "$CRYPT" --json list | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).data.snapshots[0].name)')

step "6. A bad upgrade: new rows, new code"
sql "INSERT INTO marker VALUES ('B: written by the bad upgrade')"
echo "v2-broken" > "$CRYPT/active/app/VERSION"
echo "rows: $(sql "SELECT string_agg(note, ' + ' ORDER BY note) FROM marker")   app: $(cat "$CRYPT/active/app/VERSION")"
run "$L" --crypt "$CRYPT" list

step "7. rollback: stop PostgreSQL, swap active/ atomically, keep the replaced state, start PostgreSQL"
run "$L" --crypt "$CRYPT" rollback "$NAME" --yes
echo "rows: $(sql "SELECT string_agg(note, ' + ' ORDER BY note) FROM marker")   app: $(cat "$CRYPT/active/app/VERSION")"

step "8. The rollback is itself undoable: roll back to the pre-rollback snapshot"
run "$L" --crypt "$CRYPT" list
UNDO=$("$L" --crypt "$CRYPT" --json list | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).data.snapshots.find((s) => s.name.endsWith("-pre-rollback")).name)')
run "$L" --crypt "$CRYPT" rollback "$UNDO" --yes
echo "rows: $(sql "SELECT string_agg(note, ' + ' ORDER BY note) FROM marker")   app: $(cat "$CRYPT/active/app/VERSION")"

step "9. doctor: is everything as configured?"
run "$L" --crypt "$CRYPT" doctor

step "Done; cleaning up $S"
