#!/usr/bin/env bash
# schemathesis (PyPI), the property-based API tester that
# crates/server/tests/openapi_schemathesis.rs runs against a real server
# and /api/v1/openapi.json (it fails under CI=true without it). Pinned, in
# a virtualenv of its own (PATCHWATCH_SCHEMATHESIS_VENV, default
# /opt/patchwatch-schemathesis); Debian's python3-venv when missing.
# Idempotent: an installed copy of the pinned version is kept.
set -euo pipefail
version=4.32.5
venv="${PATCHWATCH_SCHEMATHESIS_VENV:-/opt/patchwatch-schemathesis}"
if [ -x "$venv/bin/schemathesis" ] &&
  [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" = "$version" ]; then
  echo "schemathesis: $version in $venv"
  exit 0
fi
# Debian's own python3: a virtualenv needs its ensurepip (python3-venv).
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || ! command -v "$python" >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3 python3-venv
  python=/usr/bin/python3
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
echo "schemathesis: installed $version in $venv ($("$venv/bin/schemathesis" --version))"
