#!/bin/sh
# Builds the client's packages from this repository:
#   OUTDIR/patchwatch-client_VERSION_all.deb    (dpkg-deb)
#   OUTDIR/patchwatch-client-VERSION-1.noarch.rpm (rpmbuild, when present)
# The version is the client's own (PW_VERSION in client/patchwatch-client).
# Usage: packaging/build-client-packages.sh OUTDIR [deb|rpm]...
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:?usage: $0 OUTDIR [deb|rpm]...}
shift
formats=${*:-deb rpm}
mkdir -p "$out"
out=$(cd "$out" && pwd)

client=$root/client/patchwatch-client
version=$(sed -n 's/^PW_VERSION=//p' "$client")
[ -n "$version" ] || { echo "no PW_VERSION in $client" >&2; exit 1; }
# Reproducible: timestamps from the client script's last commit when known.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct -- client 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

work=$(mktemp -d "${TMPDIR:-/tmp}/pw-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT

build_deb() {
    pkg=$work/deb
    doc=$pkg/usr/share/doc/patchwatch-client
    install -d -m 755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/etc/patchwatch" "$pkg/etc/cron.d" "$doc"
    install -m 755 "$client" "$pkg/usr/bin/patchwatch-client"
    install -m 644 "$here/client/client.conf" "$pkg/etc/patchwatch/client.conf"
    install -m 644 "$here/client/patchwatch-client.cron" "$pkg/etc/cron.d/patchwatch-client"
    install -m 644 "$root/client/README.md" "$doc/README.md"
    cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: patchwatch
Source: the Patchwatch repository, client/patchwatch-client

Files: *
Copyright: Patchwatch contributors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
    chmod 644 "$doc/copyright"
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" -R)
    printf 'patchwatch-client (%s) unstable; urgency=medium\n\n  * Built from the Patchwatch repository.\n\n -- Patchwatch maintainers <patchwatch@example.org>  %s\n' \
        "$version" "$date" | gzip -9n >"$doc/changelog.gz"
    chmod 644 "$doc/changelog.gz"
    size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
    cat >"$pkg/DEBIAN/control" <<CONTROL
Package: patchwatch-client
Version: $version
Architecture: all
Maintainer: Patchwatch maintainers <patchwatch@example.org>
Installed-Size: $size
Depends: curl | wget, cron | cron-daemon
Section: admin
Priority: optional
Description: reports this host's installed packages to a Patchwatch server
 patchwatch-client is a POSIX shell script that collects the installed
 packages, kernel and OS release of this host (dpkg, rpm, apk or pacman)
 and sends them to a Patchwatch server, which tells which hosts are not
 patched and which CVEs they are exposed to. It needs no root.
 .
 A daily cron job sends the report once "server" is set in
 /etc/patchwatch/client.conf.
CONTROL
    printf '/etc/cron.d/patchwatch-client\n/etc/patchwatch/client.conf\n' >"$pkg/DEBIAN/conffiles"
    (cd "$pkg" && find usr -type f -exec md5sum {} + | sort -k2) >"$pkg/DEBIAN/md5sums"
    chmod 644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"
    find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out/patchwatch-client_${version}_all.deb" >/dev/null
    echo "$out/patchwatch-client_${version}_all.deb"
}

build_rpm() {
    command -v rpmbuild >/dev/null 2>&1 || { echo "rpmbuild not found (Debian: apt-get install rpm)" >&2; return 1; }
    src=$work/rpm-sources
    mkdir -p "$src" "$work/rpm"
    cp "$client" "$here/client/client.conf" "$here/client/patchwatch-client.cron" "$root/client/README.md" "$src/"
    rpmbuild -bb --quiet \
        --define "_topdir $work/rpm" \
        --define "_sourcedir $src" \
        --define "_rpmdir $out" \
        --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
        --define "pw_version $version" \
        --define "use_source_date_epoch_as_buildtime 1" \
        --define "clamp_mtime_to_source_date_epoch 1" \
        "$here/client/patchwatch-client.spec" >/dev/null
    echo "$out/patchwatch-client-${version}-1.noarch.rpm"
}

for f in $formats; do
    case $f in
        deb) build_deb ;;
        rpm) build_rpm ;;
        *) echo "unknown package format: $f (deb or rpm)" >&2; exit 1 ;;
    esac
done
