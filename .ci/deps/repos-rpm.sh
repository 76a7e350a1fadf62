#!/usr/bin/env bash
# The rpm-md candidate test (crates/repos/tests/dnf_reference.rs) checks dnf's
# choice against an independent reference using rpm's own labelCompare: it
# needs Debian's /usr/bin/python3 with the rpm and yaml modules, and fails
# under CI=true without them. Idempotent.
set -euo pipefail
if /usr/bin/python3 -c 'import rpm, yaml' >/dev/null 2>&1; then
  echo "python3-rpm: $(/usr/bin/python3 -c 'import rpm; print(rpm.__version__)')"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends python3-rpm python3-yaml; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-rpm python3-yaml
fi
echo "python3-rpm: installed $(/usr/bin/python3 -c 'import rpm; print(rpm.__version__)')"
