#!/usr/bin/env bash
# Tools for the operations tests, which fail under CI=true without them:
#   prometheus  -> `promtool check metrics` on GET /metrics
#                  (crates/server/tests/metrics.rs)
#   rpm         -> `rpmbuild` for the client's .rpm (packaging/, tested by
#                  crates/reports/tests/client_packages.rs); dpkg-deb is
#                  part of dpkg
#   lintian, rpmlint -> the packages' lint checks
# Only promtool is wanted from the prometheus package: its server is never
# started here (no init system in CI, and policy-rc.d says no just in case).
#
# Sourced by CI's shell: no `exit`, no `set -e`, no leftovers.
_patchwatch_ops_deps() {
    local pkgs="prometheus rpm lintian rpmlint"
    local missing="" p
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "ops: tools present ($pkgs)"
        return 0
    fi
    echo "ops: installing$missing"
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
            echo "ops: could not install$missing; the metrics and packaging tests will fail" >&2
    fi
    [ "$made_policy" = 0 ] || rm -f "$policy"
    command -v promtool >/dev/null && echo "ops: $(promtool --version 2>&1 | head -n1)"
    command -v rpmbuild >/dev/null && echo "ops: $(rpmbuild --version)"
    return 0
}
_patchwatch_ops_deps || true
unset -f _patchwatch_ops_deps
