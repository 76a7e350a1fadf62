#!/usr/bin/env bash
# The OVAL crate compares its evaluator with OpenSCAP's on this machine's dpkg
# database (crates/oval/tests/oscap_reference.rs); with CI=true a missing
# `oscap` fails that test, so install it here. Idempotent.
set -euo pipefail
if command -v oscap >/dev/null 2>&1; then
  echo "openscap-scanner: $(oscap --v 2>/dev/null | head -n1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends openscap-scanner
echo "openscap-scanner: installed $(oscap --v 2>/dev/null | head -n1)"
