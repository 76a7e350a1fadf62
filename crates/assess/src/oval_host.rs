//! OVAL documents evaluated against a package set.
//!
//! [`OvalHost`] implements [`patchwatch_oval::Host`] over a set's packages,
//! its OS and running kernel; [`oval_findings`] turns the true vulnerability
//! and patch definitions into [`Finding`]s whose rule is the evaluator's own
//! explanation (`firefox 91.8.0-1.el9_0 < 0:91.9.1-1.el9_0 (rpm ordering)`).
//!
//! What a package set cannot tell and how it is answered:
//! * `/etc/redhat-release`'s owner (Red Hat's "RHEL is installed" tests):
//!   the installed OS release package (`redhat-release`, `almalinux-release`,
//!   `rocky-release`, `centos-release`...).
//! * `/etc/os-release` and `/etc/debian_version`: written from the OS.
//! * Signature key ids are not in package sets: [`OvalOptions::trust_unsigned`]
//!   decides whether "signed with the vendor key" tests are true (the
//!   packages come from the vendor's repositories) or unknown (OVAL's
//!   answer, which makes the definition unknown, not a finding).
//!
//! State: a definition decided by a `<` comparison is
//! [`FindingState::FixAvailable`] with the state's EVR as the fixed version;
//! a true definition with no comparison (Red Hat's unpatched "will not fix"
//! or "affected" definitions) is [`FindingState::Affected`] on the packages
//! its package tests name.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_advisories::{Severity, SeverityLevel};
use patchwatch_oval::{
    Class, Document, Evaluator, FieldName, FieldValue, Host, InstalledPackage, Operation, Options,
    Orderings, OsFacts, PackageFormat, TestKind, Uname, Verdict,
};
use patchwatch_reports::model::{OsRelease, Package, PackageType};
use patchwatch_versions::{Scheme, compare};

use crate::assess::sort_findings;
use crate::finding::{
    Feed, Finding, FindingState, InstalledRef, KernelStatus, NameUsed, Rule, Statement,
};
use crate::kernel;

/// Packages that own `/etc/redhat-release` on RHEL and its rebuilds.
const RELEASE_PACKAGES: &[&str] = &[
    "redhat-release",
    "redhat-release-server",
    "redhat-release-workstation",
    "almalinux-release",
    "rocky-release",
    "centos-release",
    "centos-stream-release",
    "oraclelinux-release",
    "cloudlinux-release",
    "eurolinux-release",
    "sl-release",
];

fn rpm_order(a: &str, b: &str) -> std::cmp::Ordering {
    compare(Scheme::Rpm, a, b)
}

fn deb_order(a: &str, b: &str) -> std::cmp::Ordering {
    compare(Scheme::Deb, a, b)
}

/// The evaluator's version orderings, from `patchwatch_versions`.
pub fn orderings() -> Orderings<'static> {
    Orderings {
        rpm: &rpm_order,
        deb: &deb_order,
    }
}

/// `/etc/debian_version` for a Debian release. os-release only gives the
/// major release (`12`) while the file holds the point release (`12.11`);
/// Debian's OVAL reads the major with the pattern `(\d+)\.\d`, so a bare
/// major stands for its `.0` rather than failing every release test.
fn debian_version(release: &str) -> String {
    if !release.is_empty() && release.bytes().all(|b| b.is_ascii_digit()) {
        format!("{release}.0")
    } else {
        release.to_owned()
    }
}

/// A package set seen through the OVAL evaluator's [`Host`] trait.
#[derive(Debug, Clone)]
pub struct OvalHost {
    format: PackageFormat,
    packages: Vec<InstalledPackage>,
    kernel: Vec<Option<KernelStatus>>,
    by_name: HashMap<String, Vec<usize>>,
    release_owners: Vec<usize>,
    os_release: String,
    debian_version: Option<String>,
    manifest: String,
    facts: OsFacts,
    cpes: Option<Vec<String>>,
}

impl OvalHost {
    pub fn new(os: &OsRelease, running_kernel: &str, packages: &[Package]) -> OvalHost {
        let debs = packages
            .iter()
            .filter(|p| p.kind == PackageType::Deb)
            .count();
        let format = if debs * 2 > packages.len() {
            PackageFormat::Dpkg
        } else {
            PackageFormat::Rpm
        };
        let mut installed = Vec::with_capacity(packages.len());
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut manifest = String::new();
        for (i, p) in packages.iter().enumerate() {
            let evr = p.evr();
            if format == PackageFormat::Dpkg {
                manifest.push_str(&format!("{}\t{evr}\n", p.name));
            }
            installed.push(InstalledPackage::from_evr(&p.name, &evr, &p.arch));
            by_name.entry(p.name.clone()).or_default().push(i);
        }
        let release_owners = packages
            .iter()
            .enumerate()
            .filter(|(_, p)| RELEASE_PACKAGES.contains(&p.name.as_str()))
            .map(|(i, _)| i)
            .collect();
        let uname = (!running_kernel.is_empty()).then(|| Uname {
            os_name: "Linux".into(),
            os_release: running_kernel.to_owned(),
            ..Uname::default()
        });
        OvalHost {
            format,
            kernel: packages
                .iter()
                .map(|p| kernel::kernel_status(p, running_kernel))
                .collect(),
            packages: installed,
            by_name,
            release_owners,
            os_release: format!("ID={}\nVERSION_ID=\"{}\"\n", os.distro, os.release),
            debian_version: (os.distro == "debian").then(|| debian_version(&os.release)),
            manifest,
            facts: OsFacts {
                family: "unix".into(),
                uname,
            },
            cpes: None,
        }
    }

    /// The CPEs of the host's enabled repositories (Red Hat v2 definitions
    /// carry an `affected_cpe_list`).
    pub fn with_repository_cpes(mut self, cpes: Vec<String>) -> OvalHost {
        self.cpes = Some(cpes);
        self
    }
}

impl Host for OvalHost {
    fn package_format(&self) -> PackageFormat {
        self.format
    }

    fn for_each_package_named<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a InstalledPackage)) {
        for &i in self.by_name.get(name).map_or(&[][..], Vec::as_slice) {
            f(&self.packages[i]);
        }
    }

    fn for_each_package<'a>(&'a self, f: &mut dyn FnMut(&'a InstalledPackage)) {
        self.packages.iter().for_each(f);
    }

    fn for_each_file_owner<'a>(&'a self, path: &str, f: &mut dyn FnMut(&'a InstalledPackage)) {
        if path == "/etc/redhat-release" || path == "/etc/system-release" {
            for &i in &self.release_owners {
                f(&self.packages[i]);
            }
        }
    }

    fn file_content(&self, path: &str) -> Option<Cow<'_, str>> {
        match path.strip_prefix("./").unwrap_or(path) {
            "/etc/os-release" | "/usr/lib/os-release" => Some(Cow::Borrowed(&self.os_release)),
            "/etc/debian_version" => self.debian_version.as_deref().map(Cow::Borrowed),
            "manifest" if self.format == PackageFormat::Dpkg => Some(Cow::Borrowed(&self.manifest)),
            _ => None,
        }
    }

    fn os(&self) -> &OsFacts {
        &self.facts
    }

    fn repository_cpes(&self) -> Option<&[String]> {
        self.cpes.as_deref()
    }
}

/// How to evaluate OVAL against a package set.
#[derive(Debug, Clone, Copy)]
pub struct OvalOptions {
    /// Package sets carry no signature key ids; `true` takes every package
    /// as signed by the vendor key the definition asks for.
    pub trust_unsigned: bool,
    /// Skip definitions whose CPEs name none of the host's repositories
    /// (when the host has them, see [`OvalHost::with_repository_cpes`]).
    pub filter_by_cpe: bool,
}

impl Default for OvalOptions {
    fn default() -> Self {
        OvalOptions {
            trust_unsigned: true,
            filter_by_cpe: true,
        }
    }
}

fn severity_of(word: Option<&str>) -> (SeverityLevel, Option<Arc<str>>) {
    match word {
        Some(w) => {
            let s = Severity::from_redhat(w).unwrap_or_else(|| Severity::from_debian(w));
            (s.level, s.raw.as_deref().map(Arc::from))
        }
        None => (SeverityLevel::Unknown, None),
    }
}

/// Names the definition's package tests look for (`rpminfo`/`dpkginfo`
/// objects with a literal name), other than the OS release packages.
fn package_test_names(doc: &Document, def: &patchwatch_oval::Definition) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(c) = &def.criteria {
        c.for_each_test(&mut |tid| {
            let Some(test) = doc.test(tid) else { return };
            if !matches!(test.kind, TestKind::RpmInfo | TestKind::DpkgInfo) {
                return;
            }
            let Some(obj) = test.object.and_then(|o| doc.object(o)) else {
                return;
            };
            for field in &obj.fields {
                if field.name == FieldName::Name
                    && let FieldValue::Literal { text, .. } = &field.value
                    && !RELEASE_PACKAGES.contains(&text.as_str())
                    && !names.contains(text)
                {
                    names.push(text.clone());
                }
            }
        });
    }
    names
}

/// Evaluates `doc` against the host and returns a finding per CVE and
/// installed package of every true vulnerability or patch definition.
pub fn oval_findings(doc: &Document, host: &OvalHost, options: OvalOptions) -> Vec<Finding> {
    oval_findings_labelled(doc, host, options, "oval")
}

/// [`oval_findings`] with `data` as the findings' data scope: a feed
/// database names the OVAL feed there, so a finding says which of several
/// OVAL documents it came from.
pub fn oval_findings_labelled(
    doc: &Document,
    host: &OvalHost,
    options: OvalOptions,
    data: &str,
) -> Vec<Finding> {
    let data: Arc<str> = Arc::from(data);
    let evaluator = Evaluator::new(doc, orderings()).with_options(Options {
        missing_signature_keyid: if options.trust_unsigned {
            Verdict::True
        } else {
            Verdict::Unknown
        },
        filter_by_cpe: options.filter_by_cpe,
    });
    let results = evaluator.evaluate(host);
    let mut out = Vec::new();
    for r in results.iter().filter(|r| r.verdict.is_true()) {
        if !matches!(r.class, Class::Vulnerability | Class::Patch) {
            continue;
        }
        let Some(def) = doc.definition_by_id(r.id) else {
            continue;
        };
        let advisory: Arc<str> = Arc::from(
            r.advisories
                .first()
                .map_or(r.definition_id.as_str(), String::as_str),
        );
        let cves: Arc<[Arc<str>]> = if r.cves.is_empty() {
            Arc::from(vec![advisory.clone()])
        } else {
            r.cves.iter().map(|c| Arc::from(c.as_str())).collect()
        };
        let (severity, severity_raw) = severity_of(def.severity.as_deref());
        let rule = Rule::Oval {
            definition: Arc::from(r.definition_id.as_str()),
            comparisons: Arc::from(
                r.explanations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        };
        let statement = |fixed: Option<Arc<str>>| {
            Arc::new(Statement {
                advisory: advisory.clone(),
                feed: Feed::Oval,
                data: data.clone(),
                cves: cves.clone(),
                state: if fixed.is_some() {
                    FindingState::FixAvailable
                } else {
                    FindingState::Affected
                },
                fixed,
                severity,
                severity_raw: severity_raw.clone(),
                rule: rule.clone(),
            })
        };
        // (package index, fixed version) pairs.
        let mut hits: Vec<(usize, Option<Arc<str>>)> = Vec::new();
        for e in &r.explanations {
            let fixed: Option<Arc<str>> = matches!(
                e.operation,
                Operation::LessThan | Operation::LessThanOrEqual
            )
            .then(|| Arc::from(e.expected.strip_prefix("0:").unwrap_or(&e.expected)));
            for &i in host.by_name.get(&e.package).map_or(&[][..], Vec::as_slice) {
                let p = &host.packages[i];
                if p.display_evr() == e.installed
                    && p.arch == e.arch
                    && !hits.iter().any(|(j, _)| *j == i)
                {
                    hits.push((i, fixed.clone()));
                }
            }
        }
        if r.explanations.is_empty() {
            for name in package_test_names(doc, def) {
                for &i in host.by_name.get(&name).map_or(&[][..], Vec::as_slice) {
                    hits.push((i, None));
                }
            }
        }
        for (i, fixed) in hits {
            let p = &host.packages[i];
            let package = Arc::new(InstalledRef {
                name: p.name.clone(),
                arch: p.arch.clone(),
                installed: p.display_evr(),
                source: None,
            });
            let st = statement(fixed);
            for pos in 0..st.cves.len() {
                out.push(Finding::new(
                    st.clone(),
                    pos as u32,
                    package.clone(),
                    NameUsed::Binary,
                    host.kernel[i],
                    false,
                ));
            }
        }
    }
    sort_findings(&mut out);
    out
}
