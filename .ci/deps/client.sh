#!/usr/bin/env bash
# The shell client's lint test (crates/reports/tests/shell_client.rs) needs
# the shellcheck tool and fails under CI=true without it. Idempotent; safe to
# source (no exit, no set -e leaking into the caller).
if command -v shellcheck >/dev/null 2>&1; then
  echo "shellcheck: $(shellcheck --version | sed -n 's/^version: //p')"
else
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be missing on a fresh image; update only then.
  if ! apt-get install -y --no-install-recommends shellcheck; then
    apt-get update && apt-get install -y --no-install-recommends shellcheck
  fi
  command -v shellcheck >/dev/null 2>&1 || echo "shellcheck: not installed; the client lint test will fail under CI" >&2
fi
