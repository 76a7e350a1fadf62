#!/usr/bin/env bash
# A C toolchain for the crates that compile C: ring (rustls), zstd-sys,
# libsqlite3-sys (bundled SQLite) and mimalloc. A clean Debian 12 image with
# only rustup has no C compiler, and the first `cargo` build fails without
# one. Idempotent.
set -euo pipefail
# .ci/run checks formatting and lints: a minimal rustup profile lacks both.
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done
if command -v cc >/dev/null 2>&1 && [ -e /usr/include/stdio.h ]; then
  echo "build tools: $(cc --version | head -n1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# gcc + libc6-dev + make; pkg-config is not needed (no system libraries).
apt-get install -y -qq --no-install-recommends build-essential
echo "build tools: installed $(cc --version | head -n1)"
