#!/usr/bin/env bash
# cargo-deny checks advisories, licences, banned crates and sources
# (deny.toml) after clippy in .ci/run. Installed from crates.io once; a CI
# cache of ~/.cargo/bin keeps it, and an installed copy is not rebuilt.
set -euo pipefail
if command -v cargo-deny >/dev/null 2>&1; then
  echo "cargo-deny: $(cargo deny --version)"
  exit 0
fi
cargo install --locked cargo-deny
echo "cargo-deny: installed $(cargo deny --version)"
