#!/usr/bin/env bash
# The PostgreSQL tests (crates/store-postgres, the store conformance suite)
# need a server at 127.0.0.1:5432 with user postgres, trust authentication
# and a database `test`; under CI=true an unreachable server fails them.
# On a clean Debian 12 machine this installs PostgreSQL 15, starts the
# cluster, trusts local TCP connections when they are not trusted yet (a
# throw-away CI database, never a real deployment) and creates `test`.
# Idempotent: on a machine where all that holds, it changes nothing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql postgresql-client
fi
version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" | sort -V | tail -n1)"
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! ready; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi
if ! ready; then
  echo "postgresql: not reachable at 127.0.0.1:5432; the PostgreSQL tests will fail" >&2
  exit 1
fi
as_postgres() { psql -w -h 127.0.0.1 -U postgres -d postgres -tAc "$1"; }
if ! as_postgres 'SELECT 1' >/dev/null 2>&1; then
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  # First match wins in pg_hba.conf: put the trust lines on top.
  { printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; cat "$hba"; } >"$hba.new"
  mv "$hba.new" "$hba"
  chown postgres:postgres "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
fi
if [ "$(as_postgres "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
  as_postgres 'CREATE DATABASE test' >/dev/null
fi
echo "postgresql $version: running at 127.0.0.1:5432, trust auth, database test ready"
