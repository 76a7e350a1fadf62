//! The built-in catalogue of official vendor feed URLs.
//!
//! An entry is only a suggestion: nothing is downloaded until an operator
//! enables it (`patchwatch feeds enable ID`), which adds a feed with the
//! entry's kind and URL. Only URLs the vendors (or OSV.dev, which
//! publishes the distributions' own advisories) document are listed.

use patchwatch_store::FeedKind;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CatalogueEntry {
    /// Stable identifier, also the default feed name.
    pub id: &'static str,
    pub kind: FeedKind,
    pub url: &'static str,
    /// Which distribution releases the feed covers.
    pub releases: &'static str,
    pub description: &'static str,
}

/// OSV.dev's per-ecosystem export: `https://osv-vulnerabilities.storage
/// .googleapis.com/<ECOSYSTEM>/all.zip`, ecosystem spelled as OSV does.
macro_rules! osv {
    ($eco:literal) => {
        concat!(
            "https://osv-vulnerabilities.storage.googleapis.com/",
            $eco,
            "/all.zip"
        )
    };
}

/// The security tracker team's repository on Salsa, raw files.
macro_rules! salsa {
    ($path:literal) => {
        concat!(
            "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/",
            $path
        )
    };
}

macro_rules! secdb {
    ($release:literal, $repo:literal) => {
        CatalogueEntry {
            id: concat!("alpine-secdb-", $release, "-", $repo),
            kind: FeedKind::AlpineSecdb,
            url: concat!(
                "https://secdb.alpinelinux.org/v",
                $release,
                "/",
                $repo,
                ".json"
            ),
            releases: concat!("Alpine ", $release),
            description: concat!("Alpine secdb, ", $release, " ", $repo, " repository"),
        }
    };
}

/// Canonical's CVE OVAL for one release: vulnerability definitions,
/// fixed and not yet fixed.
macro_rules! ubuntu_oval {
    ($codename:literal, $version:literal) => {
        CatalogueEntry {
            id: concat!("ubuntu-oval-", $codename),
            kind: FeedKind::Oval,
            url: concat!(
                "https://security-metadata.canonical.com/oval/com.ubuntu.",
                $codename,
                ".cve.oval.xml.bz2"
            ),
            releases: concat!("Ubuntu ", $version),
            description: concat!("Ubuntu CVE OVAL for ", $codename, ", from Canonical"),
        }
    };
}

/// Red Hat's OVAL v2 stream for a RHEL major release, including the CVEs
/// not fixed yet.
macro_rules! rhel_oval {
    ($major:literal) => {
        CatalogueEntry {
            id: concat!("rhel-", $major, "-oval"),
            kind: FeedKind::Oval,
            url: concat!(
                "https://security.access.redhat.com/data/oval/v2/RHEL",
                $major,
                "/rhel-",
                $major,
                "-including-unpatched.oval.xml.bz2"
            ),
            releases: concat!("RHEL ", $major),
            description: concat!(
                "Red Hat OVAL v2, RHEL ",
                $major,
                " including unpatched CVEs"
            ),
        }
    };
}

pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry {
        id: "almalinux-osv",
        kind: FeedKind::Osv,
        url: osv!("AlmaLinux"),
        releases: "AlmaLinux 8, 9, 10",
        description: "AlmaLinux errata (ALSA) as OSV, from OSV.dev",
    },
    CatalogueEntry {
        id: "rocky-osv",
        kind: FeedKind::Osv,
        url: osv!("Rocky%20Linux"),
        releases: "Rocky Linux 8, 9",
        description: "Rocky Linux errata (RLSA) as OSV, from OSV.dev",
    },
    CatalogueEntry {
        id: "alpine-osv",
        kind: FeedKind::Osv,
        url: osv!("Alpine"),
        releases: "Alpine (all releases)",
        description: "Alpine secdb converted to OSV by OSV.dev",
    },
    CatalogueEntry {
        id: "debian-osv",
        kind: FeedKind::Osv,
        url: osv!("Debian"),
        releases: "Debian (all releases)",
        description: "Debian DSA/DLA and tracker data converted to OSV by OSV.dev",
    },
    CatalogueEntry {
        id: "ubuntu-osv",
        kind: FeedKind::Osv,
        url: osv!("Ubuntu"),
        releases: "Ubuntu (all releases)",
        description: "Ubuntu security notices and CVE data as OSV, from OSV.dev",
    },
    CatalogueEntry {
        id: "debian-tracker",
        kind: FeedKind::DebianTracker,
        url: "https://security-tracker.debian.org/tracker/data/json",
        releases: "Debian (supported releases)",
        description: "Debian security tracker: every CVE per source package and release",
    },
    CatalogueEntry {
        id: "debian-dsa",
        kind: FeedKind::DebianDsa,
        url: salsa!("data/DSA/list"),
        releases: "Debian stable and oldstable",
        description: "Debian Security Advisories (DSA list of the security tracker)",
    },
    CatalogueEntry {
        id: "debian-dla",
        kind: FeedKind::DebianDla,
        url: salsa!("data/DLA/list"),
        releases: "Debian LTS",
        description: "Debian LTS Advisories (DLA list of the security tracker)",
    },
    CatalogueEntry {
        id: "ubuntu-canonical-osv",
        kind: FeedKind::Osv,
        url: "https://security-metadata.canonical.com/osv/osv-all.tar.xz",
        releases: "Ubuntu (supported releases, with Pro/ESM)",
        description: "Canonical's own OSV export of Ubuntu CVEs and USNs",
    },
    ubuntu_oval!("jammy", "22.04"),
    ubuntu_oval!("noble", "24.04"),
    rhel_oval!("8"),
    rhel_oval!("9"),
    secdb!("3.21", "main"),
    secdb!("3.21", "community"),
    secdb!("3.22", "main"),
    secdb!("3.22", "community"),
    secdb!("3.23", "main"),
    secdb!("3.23", "community"),
];

/// The entry with this id.
pub fn entry(id: &str) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_valid_feed_names_and_urls_are_https() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOGUE.len(), "duplicate catalogue ids");
        for e in CATALOGUE {
            patchwatch_store::validate_feed_name(e.id).unwrap();
            assert!(e.url.starts_with("https://"), "{}", e.url);
            assert!(crate::sync::Source::parse(e.url).is_ok(), "{}", e.url);
        }
        assert_eq!(
            entry("rhel-9-oval").unwrap().url,
            "https://security.access.redhat.com/data/oval/v2/RHEL9/rhel-9-including-unpatched.oval.xml.bz2"
        );
        assert_eq!(entry("rhel-8-oval").unwrap().kind, FeedKind::Oval);
        assert_eq!(
            entry("ubuntu-oval-noble").unwrap().url,
            "https://security-metadata.canonical.com/oval/com.ubuntu.noble.cve.oval.xml.bz2"
        );
        assert_eq!(entry("ubuntu-oval-jammy").unwrap().kind, FeedKind::Oval);
        assert_eq!(entry("ubuntu-canonical-osv").unwrap().kind, FeedKind::Osv);
        assert_eq!(
            entry("alpine-secdb-3.22-main").unwrap().url,
            "https://secdb.alpinelinux.org/v3.22/main.json"
        );
        assert_eq!(
            entry("almalinux-osv").unwrap().url,
            "https://osv-vulnerabilities.storage.googleapis.com/AlmaLinux/all.zip"
        );
        assert!(entry("nope").is_none());
    }
}
