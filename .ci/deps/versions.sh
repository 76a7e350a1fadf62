#!/usr/bin/env bash
# Reference tools for patchwatch-versions' differential tests
# (crates/versions/tests/differential_*.rs), which fail when CI=true and a
# tool is missing:
#   dpkg         -> `dpkg --compare-versions` (always present on Debian)
#   python3-rpm  -> rpm 4.18's rpm.labelCompare / rpm.ver through /usr/bin/python3
#   libalpm13    -> pacman's alpm_pkg_vercmp, called through python3 ctypes
#                   (Debian's pacman-package-manager ships no `vercmp` binary)
# apk-tools is not packaged in Debian 12, so apk is covered by its own
# upstream test vectors only.
#
# This file is sourced by CI's shell: no `exit`, no `set -e`, no leftovers.
_patchwatch_versions_deps() {
    local pkgs="dpkg python3 python3-rpm libalpm13"
    local missing="" p
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "versions: reference tools present ($pkgs)"
        return 0
    fi
    echo "versions: installing$missing"
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
        # Stale package lists are the usual cause; refresh once and retry.
        apt-get update -qq >/dev/null
        # shellcheck disable=SC2086
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
            echo "versions: could not install$missing; differential tests will fail" >&2
            return 1
        fi
    fi
    echo "versions: installed$missing"
}
# A failed install must not abort a `set -e` CI shell: the differential
# tests then fail with a message naming the missing tool.
_patchwatch_versions_deps || true
unset -f _patchwatch_versions_deps
