//! Shared test helpers: package and advisory constructors, data paths.
#![allow(dead_code)]

use std::path::PathBuf;

use patchwatch_advisories::{Advisory, Affected, FixState, NameKind, Source};
use patchwatch_assess::Finding;
use patchwatch_reports::model::{OsRelease, Package, PackageType};

pub fn data(rel: &str) -> PathBuf {
    patchwatch_fleet::shared_data_dir().join(rel)
}

pub fn os(distro: &str, release: &str) -> OsRelease {
    OsRelease {
        distro: distro.into(),
        release: release.into(),
    }
}

/// A package from a full `[epoch:]version[-release]` string.
pub fn pkg(kind: PackageType, name: &str, evr: &str, arch: &str, source: &str) -> Package {
    let (epoch, version, release) = Package::split_evr(kind, evr);
    Package {
        name: name.into(),
        epoch,
        version,
        release,
        arch: arch.into(),
        kind,
        source_name: source.into(),
        source_version: String::new(),
    }
}

pub fn deb(name: &str, evr: &str, source: &str) -> Package {
    pkg(PackageType::Deb, name, evr, "amd64", source)
}

pub fn rpm(name: &str, evr: &str) -> Package {
    pkg(PackageType::Rpm, name, evr, "x86_64", "")
}

/// A Debian tracker statement: one CVE, one source package, bookworm.
pub fn tracker(cve: &str, source: &str, state: FixState) -> Advisory {
    debian_row(cve, Source::DebianTracker, source, "12", state)
}

pub fn debian_row(
    id: &str,
    feed: Source,
    source: &str,
    release: &str,
    state: FixState,
) -> Advisory {
    let mut a = Advisory::new(id, feed);
    a.add_id(id);
    let mut row = Affected::new(
        "debian",
        release,
        source,
        NameKind::Source,
        PackageType::Deb,
        state,
    );
    row.codename = Some("bookworm".into());
    a.affected.push(row);
    a
}

pub fn fixed(v: &str) -> FixState {
    FixState::Fixed { version: v.into() }
}

/// An rpm erratum naming binary packages in `almalinux 9`.
pub fn erratum(id: &str, cves: &[&str], rows: &[(&str, &str)]) -> Advisory {
    let mut a = Advisory::new(id, Source::Osv);
    for c in cves {
        a.add_id(c);
    }
    for (name, v) in rows {
        let mut row = Affected::new(
            "almalinux",
            "9",
            name,
            NameKind::Binary,
            PackageType::Rpm,
            fixed(v),
        );
        row.modular = v.contains(".module");
        a.affected.push(row);
    }
    a
}

pub fn find<'a>(findings: &'a [Finding], cve: &str, package: &str) -> Option<&'a Finding> {
    findings
        .iter()
        .find(|f| f.cve() == cve && f.package() == package)
}
