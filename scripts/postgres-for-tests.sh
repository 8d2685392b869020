# Sourced by scripts/test.sh: makes sure a PostgreSQL server is there for the PostgreSQL
# store's tests and exports TOCSIN_TEST_PG, the URL the tests create their databases on.
#
# - TOCSIN_TEST_PG already set: used as it is.
# - Otherwise, a server answering on 127.0.0.1:${TOCSIN_TEST_PG_PORT:-5432} (this machine
#   kind runs one, trust auth for postgres): used.
# - Otherwise (or with TOCSIN_TEST_PG_PRIVATE=1, to try this branch on a machine that has a
#   server): Debian's postgresql is installed if missing, and a private cluster is made with
#   initdb in a temporary folder (trust auth, a free port on 127.0.0.1), started with pg_ctl,
#   and stopped and removed when the sourcing shell exits.

pg_port="${TOCSIN_TEST_PG_PORT:-5432}"
if [ -n "${TOCSIN_TEST_PG:-}" ]; then
  echo "PostgreSQL for tests: $TOCSIN_TEST_PG (TOCSIN_TEST_PG)"
elif [ "${TOCSIN_TEST_PG_PRIVATE:-0}" != 1 ] \
  && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p "$pg_port"; then
  export TOCSIN_TEST_PG="postgresql://postgres@127.0.0.1:$pg_port/postgres"
  echo "PostgreSQL for tests: the server on 127.0.0.1:$pg_port"
else
  pg_sudo=""
  [ "$(id -u)" = 0 ] || pg_sudo=sudo
  # Debian keeps initdb and pg_ctl out of PATH, under the version's own folder.
  pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
  if [ -z "$(pg_bin)" ]; then
    $pg_sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $pg_sudo apt-get install -y -qq --no-install-recommends postgresql
  fi
  pg_bin="$(pg_bin)"
  pg_dir="$(mktemp -d /tmp/tocsin-pg.XXXXXX)"
  pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user
  # (made by Debian's package).
  pg_as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$pg_dir"
    pg_as=(runuser -u postgres --)
  fi
  pg_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  }
  trap pg_stop EXIT
  "${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$pg_dir/initdb.log"
  "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$pg_dir" \
    start >/dev/null
  export TOCSIN_TEST_PG="postgresql://postgres@127.0.0.1:$pg_port/postgres"
  echo "PostgreSQL for tests: a private cluster on 127.0.0.1:$pg_port in $pg_dir"
fi
