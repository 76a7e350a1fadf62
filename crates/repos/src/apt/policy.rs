//! apt's candidate selection and security rule, as apt 2.6 (Debian 12)
//! implements them, over the snapshots of the repositories a host uses.
//!
//! * Priorities (`pkgPolicy::InitDefaults`): 500 for a repository, 100 if
//!   its Release says `NotAutomatic: yes` and `ButAutomaticUpgrades: yes`,
//!   1 for `NotAutomatic: yes` alone, 100 for the installed version (the
//!   dpkg status file); `Package: *` pins replace a repository's priority
//!   (first matching pin wins), package pins set the priority of the
//!   versions they match.
//! * Candidate (`pkgPolicy::GetCandidateVer`): over the versions from
//!   highest to lowest, the first with the highest priority, skipping
//!   priority 0 and, below priority 1000, versions lower than the installed
//!   one (no downgrade).
//! * Architectures: `Architecture: all` versions belong to the native
//!   architecture's package, so `all` and native versions compete; a
//!   foreign-architecture (`Multi-Arch: same`) package only sees versions of
//!   its own architecture.
//! * Security (`VerIterator::IsSecurityUpdate`, apt 2.7+): the candidate,
//!   or any version between the installed one and the candidate, comes
//!   from a repository whose archive (Release `Suite`) ends in `-security`.
//! * Upgradable (`apt list --upgradable`): the candidate is higher than
//!   the installed version.
//! * Phased updates (`Phased-Update-Percentage` below 100) are flagged,
//!   never for a security update; apt 2.6 holds them back per machine id.

use patchwatch_reports::{Package, PackageType};
use patchwatch_versions::deb;

use super::fleet::{FastMap, FleetUpdates};
use crate::model::{RepoMeta, RepoSnapshot, Update};

/// apt's priority of the installed version (the dpkg status file).
const STATUS_PRIORITY: i32 = 100;
/// From this priority on apt installs a version even if it is a downgrade.
const DOWNGRADE_PRIORITY: i32 = 1000;

/// How apt is configured on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptConfig {
    /// `APT::Architecture` (`amd64`).
    pub native_arch: String,
    /// `/etc/apt/preferences`, in file order.
    pub pins: Vec<Pin>,
}

impl AptConfig {
    pub fn new(native_arch: impl Into<String>) -> AptConfig {
        AptConfig {
            native_arch: native_arch.into(),
            pins: Vec::new(),
        }
    }
}

/// One `/etc/apt/preferences` record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pin {
    /// `Package:` names or globs (`*` matches any run of characters);
    /// empty for `Package: *`, a pin of whole repositories.
    pub packages: Vec<String>,
    pub target: PinTarget,
    /// `Pin-Priority`.
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PinTarget {
    /// `Pin: release a=...,n=...,o=...,l=...,v=...,c=...`.
    Release(ReleaseMatch),
    /// `Pin: version 1.2*` (package pins only, as in apt).
    Version(String),
}

/// The fields of `Pin: release`; every given one must match (globs allowed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReleaseMatch {
    /// `a=`: the Release `Suite`.
    pub archive: Option<String>,
    /// `n=`: the Release `Codename`.
    pub codename: Option<String>,
    /// `o=`: `Origin`.
    pub origin: Option<String>,
    /// `l=`: `Label`.
    pub label: Option<String>,
    /// `v=`: `Version`.
    pub version: Option<String>,
    /// `c=`: a component the snapshot was read from.
    pub component: Option<String>,
    /// `Pin: release bookworm` (no `key=`): the archive or the codename.
    pub archive_or_codename: Option<String>,
}

impl ReleaseMatch {
    fn matches(&self, meta: &RepoMeta) -> bool {
        let field = |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| glob(w, have));
        field(&self.archive, &meta.suite)
            && field(&self.codename, &meta.codename)
            && field(&self.origin, &meta.origin)
            && field(&self.label, &meta.label)
            && field(&self.version, &meta.version)
            && self
                .archive_or_codename
                .as_ref()
                .is_none_or(|w| glob(w, &meta.suite) || glob(w, &meta.codename))
            && self
                .component
                .as_ref()
                .is_none_or(|c| meta.components.iter().any(|have| glob(c, have)))
    }
}

/// `*` matches any run of characters, everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let Some((head, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut text) = text.strip_prefix(head) else {
        return false;
    };
    let mut parts: Vec<&str> = rest.split('*').collect();
    let last = parts.pop().unwrap_or("");
    for part in parts {
        match text.find(part) {
            Some(i) => text = &text[i + part.len()..],
            None => return false,
        }
    }
    text.len() >= last.len() && text.ends_with(last)
}

/// One pending apt update, with what apt's own listing shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptUpdate {
    /// The update; `repository` is the first repository with the highest
    /// priority that offers the candidate.
    pub update: Update,
    /// Every repository offering the candidate version (indexes into the
    /// snapshot list of [`AptIndex::build`]), in list order: apt prints
    /// their archives (`oldstable,oldstable-security`).
    pub repositories: Vec<usize>,
    /// The candidate's `Architecture` (`all` or the package's own).
    pub candidate_arch: String,
    /// The candidate's source package and its version (Debian advisories
    /// name fixed *source* versions: compare those with the installed
    /// package's `source_version`, see [`crate::closes`]).
    pub candidate_source: String,
    pub candidate_source_version: String,
    /// The candidate's apt priority.
    pub priority: i32,
}

/// See [`AptIndex::installed_origin`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstalledOrigin {
    /// These repositories (indexes into the snapshot list) offer the
    /// installed version.
    Repositories(Vec<usize>),
    /// Other versions are offered, not this one; `newer` when it is above
    /// all of them (a local build, or a repository since removed).
    NotOffered { newer: bool },
    /// No repository offers the package at all.
    Unknown,
}

struct RepoInfo {
    priority: i32,
    security: bool,
}

/// One version of one (name, architecture) apt package, merged over every
/// repository offering it.
struct Offer {
    version: Box<str>,
    arch: Box<str>,
    repos: Vec<u32>,
    /// The highest priority of its repositories.
    priority: i32,
    /// A package pin matching this version replaces `priority`.
    pinned: Option<i32>,
    security: bool,
    phased: Option<u8>,
    source: Box<str>,
    source_version: Box<str>,
}

impl Offer {
    fn priority(&self) -> i32 {
        self.pinned.unwrap_or(self.priority)
    }
}

struct ArchOffers {
    arch: Box<str>,
    /// Highest version first.
    offers: Vec<Offer>,
}

/// The candidates of one repository set, built once and shared by every
/// host using that set: per package name, the versions on offer sorted as
/// apt sorts them, with their priorities.
pub struct AptIndex {
    native_arch: Box<str>,
    repos: Vec<RepoInfo>,
    by_name: FastMap<Box<str>, Vec<ArchOffers>>,
    /// Package pins, for the installed version (which only the host knows).
    package_pins: Vec<Pin>,
}

impl AptIndex {
    /// Indexes `snapshots` (a host's repositories, in sources.list order)
    /// under `config`.
    pub fn build(snapshots: &[&RepoSnapshot], config: &AptConfig) -> AptIndex {
        let repos: Vec<RepoInfo> = snapshots
            .iter()
            .map(|s| RepoInfo {
                priority: repository_priority(&s.meta, &config.pins),
                security: s.meta.suite.ends_with("-security"),
            })
            .collect();
        let package_pins: Vec<Pin> = config
            .pins
            .iter()
            .filter(|p| !p.packages.is_empty())
            .cloned()
            .collect();
        let native = config.native_arch.as_str();
        let mut by_name: FastMap<Box<str>, Vec<ArchOffers>> = FastMap::default();
        for (r, snapshot) in snapshots.iter().enumerate() {
            for available in &snapshot.packages {
                let p = &available.package;
                let key_arch = if p.arch == "all" { native } else { &p.arch };
                let arches = by_name.entry(p.name.as_str().into()).or_default();
                let at = match arches.iter().position(|a| &*a.arch == key_arch) {
                    Some(i) => i,
                    None => {
                        arches.push(ArchOffers {
                            arch: key_arch.into(),
                            offers: Vec::new(),
                        });
                        arches.len() - 1
                    }
                };
                let offers = &mut arches[at].offers;
                let version = p.evr();
                let repo = &repos[r];
                match offers
                    .iter_mut()
                    .find(|o| deb::compare(&o.version, &version).is_eq())
                {
                    Some(o) => {
                        if !o.repos.contains(&(r as u32)) {
                            o.repos.push(r as u32);
                        }
                        o.priority = o.priority.max(repo.priority);
                        o.security |= repo.security;
                    }
                    None => offers.push(Offer {
                        version: version.into(),
                        arch: p.arch.as_str().into(),
                        repos: vec![r as u32],
                        priority: repo.priority,
                        pinned: None,
                        security: repo.security,
                        phased: available.phased_percentage,
                        source: p.source_name.as_str().into(),
                        source_version: p.source_version.as_str().into(),
                    }),
                }
            }
        }
        for (name, arches) in by_name.iter_mut() {
            for a in arches.iter_mut() {
                a.offers
                    .sort_by(|x, y| deb::compare(&y.version, &x.version));
                if !package_pins.is_empty() {
                    for o in &mut a.offers {
                        o.pinned = package_pin(&package_pins, name, &o.version, |m| {
                            o.repos
                                .iter()
                                .any(|&r| m.matches(&snapshots[r as usize].meta))
                        });
                    }
                }
            }
        }
        AptIndex {
            native_arch: native.into(),
            repos,
            by_name,
            package_pins,
        }
    }

    /// How many (name, architecture) packages the repositories offer.
    pub fn len(&self) -> usize {
        self.by_name.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The updates apt would offer for `installed` (a host's dpkg
    /// packages; other kinds are ignored), in input order.
    pub fn updates(&self, installed: &[Package]) -> Vec<AptUpdate> {
        let mut evr = String::new();
        let mut out = Vec::new();
        for p in installed {
            if p.kind != PackageType::Deb {
                continue;
            }
            evr.clear();
            push_evr(&mut evr, p);
            if let Some(u) = self.update(p, &evr) {
                out.push(u);
            }
        }
        out
    }

    /// The updates of many hosts: identical package sets are computed once
    /// (and share one result), and each installed version once across the
    /// whole fleet.
    pub fn updates_many(&self, hosts: &[&[Package]]) -> FleetUpdates {
        super::fleet::updates_many(self, hosts)
    }

    /// The updates of stored package sets: `packages` as
    /// `Database::packages_by_id` returns them (id, package), `sets` as
    /// `Database::package_set_members` does (set id, member ids). Each
    /// package is looked up once however many sets hold it; `sets[i]` of the
    /// result belongs to `sets[i]` of the input, and unknown member ids are
    /// skipped.
    pub fn updates_for_sets(
        &self,
        packages: &[(i64, Package)],
        sets: &[(i64, Vec<i64>)],
    ) -> FleetUpdates {
        super::fleet::updates_for_sets(self, packages, sets)
    }

    pub(super) fn update(&self, p: &Package, installed: &str) -> Option<AptUpdate> {
        let offers = self.offers(p)?;
        let installed_priority = self.installed_priority(p, installed);
        // `GetCandidateVer` over the versions, highest first, with the
        // installed version (status file) in its place.
        let mut best: Option<(usize, i32, std::cmp::Ordering)> = None;
        let mut best_priority = -1;
        let mut installed_seen = false;
        for (i, o) in offers.iter().enumerate() {
            let order = deb::compare(&o.version, installed);
            if order.is_lt() && !installed_seen {
                installed_seen = true;
                if installed_priority != 0 && installed_priority > best_priority {
                    best = None;
                    best_priority = installed_priority;
                }
            }
            let priority = if order.is_eq() {
                installed_seen = true;
                // Installed and offered: the status file's 100 counts too,
                // unless a package pin decides.
                o.pinned
                    .unwrap_or_else(|| o.priority.max(installed_priority))
            } else {
                o.priority()
            };
            if priority == 0 || priority <= best_priority {
                continue;
            }
            if priority < DOWNGRADE_PRIORITY && order.is_lt() {
                continue;
            }
            best = Some((i, priority, order)).filter(|_| !order.is_eq());
            best_priority = priority;
        }
        if !installed_seen && installed_priority != 0 && installed_priority > best_priority {
            // Every version on offer is newer, none with a priority above
            // the status file's.
            return None;
        }
        let (at, priority, order) = best?;
        let candidate = &offers[at];
        if order.is_lt() {
            // A pinned downgrade: apt's candidate, but not an upgrade.
            return None;
        }
        let security = offers[at..]
            .iter()
            .take_while(|o| deb::compare(&o.version, installed).is_gt())
            .any(|o| o.security);
        let repository = candidate
            .repos
            .iter()
            .copied()
            .max_by_key(|&r| (self.repos[r as usize].priority, std::cmp::Reverse(r)))
            .unwrap_or_default() as usize;
        let mut repositories: Vec<usize> = candidate.repos.iter().map(|&r| r as usize).collect();
        repositories.sort_unstable();
        Some(AptUpdate {
            update: Update {
                name: p.name.clone(),
                arch: p.arch.clone(),
                installed: installed.to_owned(),
                candidate: candidate.version.to_string(),
                repository,
                security,
                cves: Vec::new(),
                advisories: Vec::new(),
                phased: !security && candidate.phased.is_some_and(|p| p < 100),
            },
            repositories,
            candidate_arch: candidate.arch.to_string(),
            candidate_source: candidate.source.to_string(),
            candidate_source_version: candidate.source_version.to_string(),
            priority,
        })
    }

    /// Where an installed package's version comes from: the repositories
    /// offering that exact version, or why none does (the issue's
    /// "installed from no known repository", and local builds newer than
    /// anything on offer).
    pub fn installed_origin(&self, p: &Package) -> InstalledOrigin {
        let mut installed = String::new();
        push_evr(&mut installed, p);
        let Some(offers) = self.offers(p) else {
            return InstalledOrigin::Unknown;
        };
        match offers
            .iter()
            .find(|o| deb::compare(&o.version, &installed).is_eq())
        {
            Some(o) => InstalledOrigin::Repositories(o.repos.iter().map(|&r| r as usize).collect()),
            None => InstalledOrigin::NotOffered {
                newer: offers
                    .first()
                    .is_none_or(|o| deb::compare(&installed, &o.version).is_gt()),
            },
        }
    }

    fn offers(&self, p: &Package) -> Option<&[Offer]> {
        let key_arch = if p.arch == "all" || p.arch.is_empty() {
            &*self.native_arch
        } else {
            p.arch.as_str()
        };
        self.by_name
            .get(p.name.as_str())?
            .iter()
            .find(|a| &*a.arch == key_arch)
            .map(|a| a.offers.as_slice())
    }

    /// The status file's priority for the installed version, or the
    /// priority of a package pin matching it by version.
    fn installed_priority(&self, p: &Package, installed: &str) -> i32 {
        if self.package_pins.is_empty() {
            return STATUS_PRIORITY;
        }
        // The status file matches no release pin, only version pins.
        package_pin(&self.package_pins, &p.name, installed, |_| false).unwrap_or(STATUS_PRIORITY)
    }
}

/// `[epoch:]version[-release]` into `out` without a new allocation.
pub(super) fn push_evr(out: &mut String, p: &Package) {
    if !p.epoch.is_empty() {
        out.push_str(&p.epoch);
        out.push(':');
    }
    out.push_str(&p.version);
    if !p.release.is_empty() {
        out.push('-');
        out.push_str(&p.release);
    }
}

/// A repository's default priority, or that of the first `Package: *` pin
/// matching it.
fn repository_priority(meta: &RepoMeta, pins: &[Pin]) -> i32 {
    for pin in pins.iter().filter(|p| p.packages.is_empty()) {
        if let PinTarget::Release(m) = &pin.target
            && m.matches(meta)
        {
            return pin.priority;
        }
    }
    if meta.not_automatic && meta.but_automatic_upgrades {
        100
    } else if meta.not_automatic {
        1
    } else {
        500
    }
}

/// The priority of the first package pin naming `name` that matches this
/// version (by version glob, or by one of its repositories' Release).
fn package_pin(
    pins: &[Pin],
    name: &str,
    version: &str,
    release_matches: impl Fn(&ReleaseMatch) -> bool,
) -> Option<i32> {
    pins.iter()
        .filter(|p| p.packages.iter().any(|g| glob(g, name)))
        .find(|p| match &p.target {
            PinTarget::Version(v) => glob(v, version),
            PinTarget::Release(m) => release_matches(m),
        })
        .map(|p| p.priority)
}

#[cfg(test)]
mod tests;
