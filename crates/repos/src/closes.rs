//! Which CVEs an update closes, whatever the package format: every CVE
//! whose fixed version is above the installed version and at or below the
//! candidate. The fixed versions come from the vulnerability feeds through
//! [`FixedVersions`], so this module knows nothing about where they live.
//!
//! Compare like with like: Debian's tracker, DSAs and DLAs give fixed
//! *source* versions, so for them pass the installed package's
//! `source_version` and the candidate's (`AptUpdate::candidate_source_version`)
//! to [`cves_closed`]; a binary rebuilt as `+b1`, or one versioned apart
//! from its source, would otherwise be misjudged. Feeds keyed by binary
//! package (OSV ecosystems, updateinfo) use the binary versions, as
//! [`annotate`] does.

use std::cmp::Ordering;

use patchwatch_reports::Package;
use patchwatch_versions::Scheme;

use crate::model::Update;

/// One advisory statement: `cve` is fixed in `fixed` (a version of the
/// package or of its source, in the package manager's own syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix<'a> {
    pub cve: &'a str,
    pub fixed: &'a str,
}

/// Where the fixed versions of an installed package come from (the
/// vulnerability feeds, matched on binary or source name as the feed
/// requires).
pub trait FixedVersions {
    /// Calls `visit` with every fix known for `package`.
    fn for_each_fix(&self, package: &Package, visit: &mut dyn FnMut(Fix<'_>));
}

/// A fixed list, for callers that already hold the fixes of one package.
impl FixedVersions for [Fix<'_>] {
    fn for_each_fix(&self, _package: &Package, visit: &mut dyn FnMut(Fix<'_>)) {
        for f in self {
            visit(*f);
        }
    }
}

/// The CVEs closed by going from `installed` to `candidate`: the union over
/// every fix with `installed < fixed <= candidate` under `scheme`, sorted,
/// without duplicates.
pub fn cves_closed<'a>(
    scheme: Scheme,
    installed: &str,
    candidate: &str,
    fixes: impl IntoIterator<Item = Fix<'a>>,
) -> Vec<String> {
    let mut cves: Vec<String> = Vec::new();
    for f in fixes {
        if closes(scheme, installed, candidate, f.fixed) {
            cves.push(f.cve.to_owned());
        }
    }
    cves.sort_unstable();
    cves.dedup();
    cves
}

fn closes(scheme: Scheme, installed: &str, candidate: &str, fixed: &str) -> bool {
    patchwatch_versions::compare(scheme, fixed, installed) == Ordering::Greater
        && patchwatch_versions::compare(scheme, fixed, candidate) != Ordering::Greater
}

/// Adds to `update.cves` of each update the CVEs it closes according to
/// `fixes`; `installed` finds the installed package an update belongs to
/// (by name and architecture). For apt updates pass
/// `updates.iter_mut().map(|u| &mut u.update)`.
pub fn annotate<'p, 'u, F: FixedVersions + ?Sized>(
    scheme: Scheme,
    updates: impl IntoIterator<Item = &'u mut Update>,
    installed: impl Fn(&str, &str) -> Option<&'p Package>,
    fixes: &F,
) {
    for u in updates {
        let Some(package) = installed(&u.name, &u.arch) else {
            continue;
        };
        let mut cves = Vec::new();
        fixes.for_each_fix(package, &mut |f| {
            if closes(scheme, &u.installed, &u.candidate, f.fixed) {
                cves.push(f.cve.to_owned());
            }
        });
        cves.append(&mut u.cves);
        cves.sort_unstable();
        cves.dedup();
        u.cves = cves;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXES: [Fix<'static>; 5] = [
        Fix {
            cve: "CVE-2024-0001",
            fixed: "1.0-2",
        },
        Fix {
            cve: "CVE-2024-0002",
            fixed: "1.0-3",
        },
        Fix {
            cve: "CVE-2024-0003",
            fixed: "1.0-4",
        },
        Fix {
            cve: "CVE-2024-0004",
            fixed: "1.0-1",
        },
        Fix {
            cve: "CVE-2024-0002",
            fixed: "1.0-2",
        },
    ];

    #[test]
    fn union_of_fixes_above_installed_up_to_candidate() {
        let cves = cves_closed(Scheme::Deb, "1.0-1", "1.0-3", FIXES);
        assert_eq!(cves, ["CVE-2024-0001", "CVE-2024-0002"]);
    }

    #[test]
    fn dpkg_ordering_decides_the_bounds() {
        // `~` sorts before the end: 1.0-3~deb12u1 < 1.0-3.
        let fixes = [Fix {
            cve: "CVE-1",
            fixed: "1.0-3~deb12u1",
        }];
        assert_eq!(cves_closed(Scheme::Deb, "1.0-2", "1.0-3", fixes), ["CVE-1"]);
        assert!(cves_closed(Scheme::Deb, "1.0-3", "1.0-4", fixes).is_empty());
        assert!(cves_closed(Scheme::Rpm, "1.0-3", "1.0-3", fixes).is_empty());
    }

    #[test]
    fn annotate_fills_each_update() {
        let p = Package {
            name: "a".into(),
            epoch: String::new(),
            version: "1.0".into(),
            release: "1".into(),
            arch: "amd64".into(),
            kind: patchwatch_reports::PackageType::Deb,
            source_name: "a".into(),
            source_version: "1.0-1".into(),
        };
        let mut updates = vec![Update {
            name: "a".into(),
            arch: "amd64".into(),
            installed: "1.0-1".into(),
            candidate: "1.0-4".into(),
            repository: 0,
            security: true,
            cves: Vec::new(),
            advisories: Vec::new(),
            phased: false,
        }];
        annotate(
            Scheme::Deb,
            &mut updates,
            |n, a| (n == p.name && a == p.arch).then_some(&p),
            &FIXES[..],
        );
        assert_eq!(
            updates[0].cves,
            ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"]
        );
    }
}
