#!/usr/bin/env bash
# The repos crate compares its apt update list with apt's own
# (crates/repos/tests/apt_reference.rs: `apt list --upgradable`,
# `apt-cache policy`/`madison` on the shared bookworm lists); with CI=true
# a missing apt fails that test. Debian always has apt; this only checks.
set -euo pipefail
if command -v apt-get >/dev/null 2>&1 && command -v apt-cache >/dev/null 2>&1; then
  echo "apt: $(apt-get --version | head -n1)"
  exit 0
fi
echo "apt: not installed; the repos crate's apt reference test will fail under CI" >&2
