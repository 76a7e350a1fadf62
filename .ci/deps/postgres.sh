#!/usr/bin/env bash
# The PostgreSQL tests need a server at 127.0.0.1:5432 (user postgres, trust
# auth, database test). Start the machine's cluster if it is down.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "postgresql: running"
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && { echo "postgresql: started"; exit 0; }
  sleep 1
done
echo "postgresql: not reachable at 127.0.0.1:5432; the PostgreSQL tests will fail" >&2
