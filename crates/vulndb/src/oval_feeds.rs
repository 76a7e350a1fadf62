//! OVAL feeds: each feed's current document, parsed once when the index is
//! loaded and evaluated against package sets (not turned into advisories:
//! OVAL's answer comes from its criteria trees, which an advisory row
//! cannot express).
//!
//! Which document applies to which host. Every definition of a document is
//! evaluated against the host, and definitions whose platform or release
//! tests do not hold are simply false. Only documents that clearly cannot
//! apply are skipped, for speed:
//! * a document whose package tests are all `dpkginfo` is skipped for rpm
//!   hosts, and one whose package tests are all `rpminfo` for dpkg hosts
//!   (the host's format is the one most of its packages have);
//! * a document whose every definition names only Debian platforms
//!   (`Debian GNU/Linux 11`) is skipped for hosts whose distro is not
//!   `debian`, and likewise Ubuntu platforms for non-`ubuntu` hosts.
//!
//! Anything else (mixed documents, platforms naming other systems, no
//! package tests) is evaluated and its tests decide. Red Hat documents are
//! deliberately not restricted to `rhel`: their release tests look for the
//! OS release package, which is what tells a rebuild apart.

use std::io::{BufReader, Cursor};
use std::sync::Arc;

use patchwatch_advisories::compression;
use patchwatch_assess::{
    Finding, OvalHost, OvalOptions, PackageSet, SetInput, oval_findings_labelled,
};
use patchwatch_oval::{Class, Document, Host as _, PackageFormat, TestKind};
use patchwatch_reports::Package;
use patchwatch_store::HostSummary;

use crate::feed::{FeedError, LoadedIndex};

/// Parses a whole OVAL document (compressed or not); `name` labels errors.
pub fn parse_oval(name: &str, doc: &[u8]) -> Result<Document, FeedError> {
    let reader = compression::decompressed(Cursor::new(doc)).map_err(|e| FeedError::Document {
        name: name.to_owned(),
        message: e.to_string(),
    })?;
    patchwatch_oval::parse(BufReader::with_capacity(64 * 1024, reader)).map_err(|source| {
        FeedError::Oval {
            name: name.to_owned(),
            source,
        }
    })
}

/// The definitions an OVAL feed counts as advisories: the vulnerability and
/// patch ones (inventory definitions only say which OS is installed).
pub fn advisory_definitions(doc: &Document) -> usize {
    doc.definitions()
        .filter(|d| matches!(d.class, Class::Vulnerability | Class::Patch))
        .count()
}

/// Which hosts a document can apply to (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Scope {
    dpkg: bool,
    rpm: bool,
    /// `debian` or `ubuntu` when every definition names only that
    /// distribution's platforms.
    distro: Option<&'static str>,
}

impl Scope {
    fn of(doc: &Document) -> Scope {
        let mut scope = Scope::default();
        // None: not decided yet; Some(None): platforms of several or of
        // other systems.
        let mut distro: Option<Option<&'static str>> = None;
        for def in doc.definitions() {
            if let Some(c) = &def.criteria {
                c.for_each_test(&mut |t| match doc.test(t).map(|t| &t.kind) {
                    Some(TestKind::DpkgInfo) => scope.dpkg = true,
                    Some(TestKind::RpmInfo | TestKind::RpmVerifyFile) => scope.rpm = true,
                    _ => {}
                });
            }
            if !matches!(def.class, Class::Vulnerability | Class::Patch) {
                continue;
            }
            let this = platform_distro(&def.platforms);
            distro = match distro {
                None => Some(this),
                Some(d) if d == this => Some(d),
                Some(_) => Some(None),
            };
        }
        scope.distro = distro.flatten();
        scope
    }

    fn applies(self, format: PackageFormat, distro: &str) -> bool {
        let format_ok = match format {
            PackageFormat::Dpkg => self.dpkg || !self.rpm,
            PackageFormat::Rpm => self.rpm || !self.dpkg,
        };
        format_ok && self.distro.is_none_or(|d| d == distro)
    }
}

/// `debian` / `ubuntu` when every platform names that distribution.
fn platform_distro(platforms: &[String]) -> Option<&'static str> {
    let of = |p: &String| {
        if p.starts_with("Debian") {
            Some("debian")
        } else if p.starts_with("Ubuntu") {
            Some("ubuntu")
        } else {
            None
        }
    };
    let first = of(platforms.first()?)?;
    platforms
        .iter()
        .all(|p| of(p) == Some(first))
        .then_some(first)
}

/// One OVAL feed's current document.
#[derive(Debug, Clone)]
pub struct OvalFeed {
    pub name: String,
    pub document: Arc<Document>,
    /// Vulnerability and patch definitions.
    pub definitions: usize,
    scope: Scope,
}

impl OvalFeed {
    pub fn new(name: String, document: Document) -> OvalFeed {
        OvalFeed {
            name,
            definitions: advisory_definitions(&document),
            scope: Scope::of(&document),
            document: Arc::new(document),
        }
    }

    /// Whether the document is evaluated for a host of this package format
    /// and distro (`os.distro`).
    pub fn applies_to(&self, format: PackageFormat, distro: &str) -> bool {
        self.scope.applies(format, distro)
    }
}

/// How many OVAL feeds are evaluated for this set.
pub fn oval_feeds_for(loaded: &LoadedIndex, set: &PackageSet<'_>) -> usize {
    if loaded.oval.is_empty() {
        return 0;
    }
    let format = OvalHost::new(set.os, set.kernel, set.packages).package_format();
    loaded
        .oval
        .iter()
        .filter(|f| f.applies_to(format, &set.os.distro))
        .count()
}

/// Whether some imported feed has data for the host: an advisory scope of
/// its OS or an OVAL document that applies. When none does, "no findings"
/// means "unknown", not "not vulnerable".
pub fn covered(loaded: &LoadedIndex, host: &HostSummary, packages: &[Package]) -> bool {
    !loaded.index.scopes_for(&host.os).is_empty()
        || oval_feeds_for(
            loaded,
            &PackageSet {
                os: &host.os,
                kernel: &host.kernel,
                packages,
            },
        ) > 0
}

/// The findings of every OVAL feed that applies to the set, each labelled
/// with its feed's name as data scope (see [`LoadedIndex::finding_feed`]).
/// Unsorted.
pub fn oval_set_findings(loaded: &LoadedIndex, set: &PackageSet<'_>) -> Vec<Finding> {
    if loaded.oval.is_empty() {
        return Vec::new();
    }
    let host = OvalHost::new(set.os, set.kernel, set.packages);
    let format = host.package_format();
    let mut out = Vec::new();
    for feed in &loaded.oval {
        if feed.applies_to(format, &set.os.distro) {
            out.extend(oval_findings_labelled(
                &feed.document,
                &host,
                OvalOptions::default(),
                &feed.name,
            ));
        }
    }
    out
}

/// For the fleet: adds the OVAL findings to one distinct set's advisory
/// findings. The batch deduplicates on (set, advisory scopes, kernel), but
/// OVAL also reads the OS release (`/etc/os-release`), so members with a
/// different OS or kernel are split off with their own OVAL findings.
pub fn with_oval_findings<Id>(
    loaded: &LoadedIndex,
    inputs: &[SetInput<'_, Id>],
    members: &[usize],
    findings: Vec<Finding>,
) -> Vec<(Vec<usize>, Vec<Finding>)> {
    if loaded.oval.is_empty() || members.is_empty() {
        return vec![(members.to_vec(), findings)];
    }
    let mut groups: Vec<(Vec<usize>, Vec<Finding>)> = Vec::new();
    let mut keys: Vec<usize> = Vec::new();
    for &m in members {
        let same =
            |&k: &usize| inputs[k].os == inputs[m].os && inputs[k].kernel == inputs[m].kernel;
        match keys.iter().position(same) {
            Some(g) => groups[g].0.push(m),
            None => {
                keys.push(m);
                let input = &inputs[m];
                let mut all = findings.clone();
                all.extend(oval_set_findings(
                    loaded,
                    &PackageSet {
                        os: input.os,
                        kernel: input.kernel,
                        packages: input.packages,
                    },
                ));
                groups.push((vec![m], all));
            }
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(platform: &str, test: &str) -> Document {
        let xml = format!(
            r#"<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5">
<definitions><definition class="vulnerability" id="oval:t:def:1" version="1"><metadata><title>t</title>
<affected family="unix"><platform>{platform}</platform></affected><description>d</description></metadata>
<criteria><criterion test_ref="oval:t:tst:1"/></criteria></definition></definitions>
<tests><{test}_test xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:t:tst:1" version="1" check="all"><object object_ref="oval:t:obj:1"/></{test}_test></tests>
<objects><{test}_object xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" id="oval:t:obj:1" version="1"><name>x</name></{test}_object></objects>
</oval_definitions>"#
        );
        parse_oval("t.xml", xml.as_bytes()).unwrap()
    }

    #[test]
    fn scopes() {
        let debian = OvalFeed::new("d".into(), doc("Debian GNU/Linux 11", "dpkginfo"));
        assert_eq!(debian.definitions, 1);
        assert!(debian.applies_to(PackageFormat::Dpkg, "debian"));
        assert!(!debian.applies_to(PackageFormat::Dpkg, "ubuntu"));
        assert!(!debian.applies_to(PackageFormat::Rpm, "debian"));
        let rhel = OvalFeed::new("r".into(), doc("Red Hat Enterprise Linux 9", "rpminfo"));
        assert!(rhel.applies_to(PackageFormat::Rpm, "almalinux"));
        assert!(!rhel.applies_to(PackageFormat::Dpkg, "debian"));
    }

    #[test]
    fn broken_documents_name_the_file() {
        let err = parse_oval("cut.xml", b"<oval_definitions><definitions>")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cut.xml"), "{err}");
    }
}
