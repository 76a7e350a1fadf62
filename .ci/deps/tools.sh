#!/usr/bin/env bash
# Command-line tools the tests run, each failing its test under CI=true when
# missing (crates/reports/tests/common/mod.rs):
#   openssl          encrypts reports as `pakiti-client --encrypt` does
#                    (crates/reports/tests/envelope.rs)
#   curl, wget       the shell client's two transports, and the TLS tests'
#                    certificates (crates/reports/tests/shell_client.rs)
#   gzip             the shell client compresses what it sends
#   dpkg             dpkg-query, the real-host client test and the CLI's
#                    end-to-end test (always present on Debian)
#   ca-certificates  for curl and wget against HTTPS
# Idempotent.
set -euo pipefail
pkgs="openssl curl wget gzip dpkg ca-certificates"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -z "$missing" ]; then
  echo "tools: present ($pkgs)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing
echo "tools: installed$missing"
