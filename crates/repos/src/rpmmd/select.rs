//! Which version dnf would install for each installed package, and whether
//! that update is a security update.
//!
//! The rules, per installed (name, arch):
//!
//! * Only enabled repositories count. Among those that offer the name, only
//!   the best (lowest) `priority` is considered; within it the highest EVR
//!   wins, ties going to the lowest `cost`, then to the earlier repository.
//! * The candidate has the installed arch or is `noarch`; an installed
//!   `noarch` package may become the host's own arch (dnf allows both
//!   changes on upgrade).
//! * Modular filtering as libdnf does it: a package listed by a module
//!   stream is visible only while that stream is active, and a non-modular
//!   package is hidden when an active stream ships a package of that name.
//!   Active streams are the host's enabled streams plus, for every module
//!   the host names no stream of, the repositories' default stream.
//! * Installed versions are compared with the newest installed one of the
//!   same (name, arch): installonly packages (kernels) stay installed side by
//!   side and only a version newer than all of them is an update.
//! * Security: the candidate, or any version between the installed one and
//!   the candidate, is shipped by an updateinfo advisory of type security or
//!   naming a CVE. The update lists the CVEs and advisory ids of every
//!   advisory shipping a version in (installed, candidate].

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use patchwatch_reports::Package;
use patchwatch_versions::rpm::vercmp;

use crate::{RepoAdvisory, RepoSnapshot, Update, UpdateKind};

/// dnf's default `priority` and `cost` of a repository.
pub const DEFAULT_PRIORITY: i32 = 99;
pub const DEFAULT_COST: i32 = 1000;

/// The package names dnf keeps several versions of (its default
/// `installonlypkgs`: `kernel`, `kernel-PAE`, and the packages providing
/// `installonlypkg(kernel)`, spelled out as names since the index keeps no
/// provides).
pub fn default_installonly() -> Vec<String> {
    let flavours = [
        "kernel",
        "kernel-debug",
        "kernel-rt",
        "kernel-rt-debug",
        "kernel-64k",
        "kernel-64k-debug",
        "kernel-uek",
        "kernel-uek-debug",
        "kernel-zfcpdump",
    ];
    let parts = [
        "",
        "-core",
        "-modules",
        "-modules-core",
        "-modules-extra",
        "-modules-internal",
        "-devel",
        "-devel-matched",
    ];
    let mut names: Vec<String> = flavours
        .iter()
        .flat_map(|f| parts.iter().map(move |p| format!("{f}{p}")))
        .collect();
    names.push("kernel-PAE".into());
    names.push("kernel-PAE-devel".into());
    names
}

/// One of the host's repositories, as dnf is configured to use it.
#[derive(Debug, Clone, Copy)]
pub struct DnfRepo<'a> {
    pub snapshot: &'a RepoSnapshot,
    pub enabled: bool,
    pub priority: i32,
    pub cost: i32,
}

impl<'a> DnfRepo<'a> {
    /// An enabled repository with dnf's default priority and cost.
    pub fn new(snapshot: &'a RepoSnapshot) -> DnfRepo<'a> {
        DnfRepo {
            snapshot,
            enabled: true,
            priority: DEFAULT_PRIORITY,
            cost: DEFAULT_COST,
        }
    }
}

/// Host-side dnf configuration that changes the candidates.
#[derive(Debug, Clone, Default)]
pub struct DnfOptions {
    /// Module streams the host enabled (`name:stream`).
    pub enabled_streams: Vec<String>,
    /// installonlypkgs; `None` means [`default_installonly`].
    pub installonly: Option<Vec<String>>,
}

struct Candidate<'a> {
    package: &'a Package,
    repo: usize,
    cost: i32,
}

impl Candidate<'_> {
    /// dnf's preference: higher EVR, then lower cost, then earlier repo.
    fn beats(&self, other: &Candidate<'_>) -> bool {
        match evr_cmp(self.package, other.package) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => (self.cost, self.repo) < (other.cost, other.repo),
        }
    }
}

struct Shipped<'a> {
    package: &'a Package,
    advisory: &'a RepoAdvisory,
}

/// The candidates of one repository set under one module configuration:
/// for each name, the best package of each arch. Built once and shared by
/// every host using that set, so a host costs a lookup per package.
pub struct DnfIndex<'a> {
    by_name: HashMap<&'a str, Vec<Candidate<'a>>>,
    shipped: HashMap<&'a str, Vec<Shipped<'a>>>,
    installonly: HashSet<String>,
    active_streams: Vec<String>,
}

impl<'a> DnfIndex<'a> {
    pub fn new(repos: &[DnfRepo<'a>], options: &DnfOptions) -> DnfIndex<'a> {
        let enabled = || repos.iter().enumerate().filter(|(_, r)| r.enabled);
        let active = active_streams(repos, &options.enabled_streams);
        let mut modular_names: HashSet<&str> = HashSet::new();
        for (_, r) in enabled() {
            for m in &r.snapshot.modules {
                if active.contains(&format!("{}:{}", m.name, m.stream)) {
                    modular_names.extend(m.artifacts.iter().filter_map(|a| artifact_name(a)));
                }
            }
        }

        // name -> (best priority, candidates at that priority)
        let mut best: HashMap<&'a str, (i32, Vec<Candidate<'a>>)> = HashMap::new();
        for (i, r) in enabled() {
            for p in &r.snapshot.packages {
                let pkg = &p.package;
                if matches!(pkg.arch.as_str(), "src" | "nosrc") {
                    continue;
                }
                let visible = match &p.module {
                    Some(m) => active.contains(m),
                    None => !modular_names.contains(pkg.name.as_str()),
                };
                if !visible {
                    continue;
                }
                let candidate = Candidate {
                    package: pkg,
                    repo: i,
                    cost: r.cost,
                };
                let slot = best
                    .entry(pkg.name.as_str())
                    .or_insert_with(|| (r.priority, Vec::new()));
                match r.priority.cmp(&slot.0) {
                    Ordering::Less => *slot = (r.priority, vec![candidate]),
                    Ordering::Equal => {
                        // Keep only the best of each arch.
                        match slot.1.iter_mut().find(|c| c.package.arch == pkg.arch) {
                            Some(kept) if candidate.beats(kept) => *kept = candidate,
                            Some(_) => {}
                            None => slot.1.push(candidate),
                        }
                    }
                    Ordering::Greater => {}
                }
            }
        }

        let mut shipped: HashMap<&'a str, Vec<Shipped<'a>>> = HashMap::new();
        for (_, r) in enabled() {
            for adv in &r.snapshot.advisories {
                for pkg in &adv.packages {
                    if matches!(pkg.arch.as_str(), "src" | "nosrc") {
                        continue;
                    }
                    shipped.entry(pkg.name.as_str()).or_default().push(Shipped {
                        package: pkg,
                        advisory: adv,
                    });
                }
            }
        }

        let mut active_streams: Vec<String> = active.into_iter().collect();
        active_streams.sort();
        DnfIndex {
            by_name: best.into_iter().map(|(n, (_, c))| (n, c)).collect(),
            shipped,
            installonly: options
                .installonly
                .clone()
                .unwrap_or_else(default_installonly)
                .into_iter()
                .collect(),
            active_streams,
        }
    }

    /// The module streams this index treats as active (`name:stream`).
    pub fn active_streams(&self) -> &[String] {
        &self.active_streams
    }

    /// Whether dnf keeps several versions of `name` installed.
    pub fn is_installonly(&self, name: &str) -> bool {
        self.installonly.contains(name)
    }

    /// dnf's candidate for an installed (name, arch): the package and the
    /// index of the repository it comes from. `host_arch` is the arch an
    /// installed `noarch` package may move to.
    pub fn candidate(
        &self,
        name: &str,
        arch: &str,
        host_arch: &str,
    ) -> Option<(&'a Package, usize)> {
        self.best(name, arch, host_arch)
            .map(|c| (c.package, c.repo))
    }

    fn best(&self, name: &str, arch: &str, host_arch: &str) -> Option<&Candidate<'a>> {
        let compatible = |a: &str| {
            a == arch
                || a == "noarch"
                || (arch == "noarch" && !host_arch.is_empty() && a == host_arch)
        };
        let mut best: Option<&Candidate<'a>> = None;
        for c in self.by_name.get(name)?.iter() {
            if compatible(&c.package.arch) && best.is_none_or(|b| c.beats(b)) {
                best = Some(c);
            }
        }
        best
    }

    /// The updates dnf would install on a host with these packages, sorted
    /// by name and arch. `host_arch` is the host's base arch (`x86_64`);
    /// when empty, the most common arch among its packages is used.
    pub fn updates(&self, installed: &[Package], host_arch: &str) -> Vec<Update> {
        let derived;
        let host_arch = if host_arch.is_empty() {
            derived = dominant_arch(installed);
            derived.as_str()
        } else {
            host_arch
        };
        // Newest installed version per (name, arch): several versions of one
        // package are installed only for installonly packages (or a broken
        // transaction), and the newest decides in both cases.
        // Package sets usually arrive sorted; sorting is then skipped.
        let by_name_arch = |a: &&Package, b: &&Package| (&a.name, &a.arch).cmp(&(&b.name, &b.arch));
        let mut sorted: Vec<&Package> = installed.iter().collect();
        if !sorted.is_sorted_by(|a, b| by_name_arch(a, b) != Ordering::Greater) {
            sorted.sort_unstable_by(by_name_arch);
        }
        let mut updates = Vec::new();
        let mut rest = sorted.as_slice();
        while let Some((&first, tail)) = rest.split_first() {
            let same = tail
                .iter()
                .take_while(|p| p.name == first.name && p.arch == first.arch)
                .count();
            let newest = tail[..same].iter().fold(first, |n, &p| {
                if evr_cmp(p, n) == Ordering::Greater {
                    p
                } else {
                    n
                }
            });
            rest = &tail[same..];
            if let Some(c) = self.best(&newest.name, &newest.arch, host_arch)
                && evr_cmp(c.package, newest) == Ordering::Greater
            {
                updates.push(self.update(newest, c));
            }
        }
        updates
    }

    fn update(&self, p: &Package, c: &Candidate<'a>) -> Update {
        let mut security = false;
        let mut cves = Vec::new();
        let mut advisories = Vec::new();
        for s in self.shipped.get(p.name.as_str()).into_iter().flatten() {
            let arch = s.package.arch.as_str();
            if arch != p.arch && arch != c.package.arch {
                continue;
            }
            if evr_cmp(s.package, p) == Ordering::Greater
                && evr_cmp(s.package, c.package) != Ordering::Greater
            {
                security |= s.advisory.kind == UpdateKind::Security || !s.advisory.cves.is_empty();
                cves.extend(s.advisory.cves.iter().cloned());
                advisories.push(s.advisory.id.clone());
            }
        }
        cves.sort();
        cves.dedup();
        advisories.sort();
        advisories.dedup();
        Update {
            name: p.name.clone(),
            arch: p.arch.clone(),
            installed: p.evr(),
            candidate: c.package.evr(),
            repository: c.repo,
            security,
            cves,
            advisories,
            phased: false,
        }
    }
}

fn epoch(p: &Package) -> &str {
    if p.epoch.is_empty() { "0" } else { &p.epoch }
}

/// rpm's `labelCompare` on the split fields (a missing epoch is 0, a
/// missing release sorts first), without joining them into strings.
pub fn evr_cmp(a: &Package, b: &Package) -> Ordering {
    vercmp(epoch(a), epoch(b))
        .then_with(|| vercmp(&a.version, &b.version))
        .then_with(|| match (a.release.is_empty(), b.release.is_empty()) {
            (false, false) => vercmp(&a.release, &b.release),
            (a_none, b_none) => b_none.cmp(&a_none),
        })
}

/// Convenience for one host: builds the index and computes its updates.
pub fn updates(
    installed: &[Package],
    repos: &[DnfRepo<'_>],
    options: &DnfOptions,
    host_arch: &str,
) -> Vec<Update> {
    DnfIndex::new(repos, options).updates(installed, host_arch)
}

/// The host's enabled streams, plus the default stream of every module the
/// host enabled no stream of.
fn active_streams(repos: &[DnfRepo<'_>], enabled: &[String]) -> HashSet<String> {
    let mut active: HashSet<String> = enabled.iter().cloned().collect();
    let host_modules: HashSet<&str> = enabled
        .iter()
        .map(|s| s.split_once(':').map_or(s.as_str(), |(m, _)| m))
        .collect();
    for r in repos.iter().filter(|r| r.enabled) {
        for m in &r.snapshot.modules {
            if m.is_default && !host_modules.contains(m.name.as_str()) {
                active.insert(format!("{}:{}", m.name, m.stream));
            }
        }
    }
    active
}

/// `galera-0:26.4.16-1.module_el9+853.x86_64` -> `galera`; `None` for
/// source rpms, which hide no binary package.
fn artifact_name(nevra: &str) -> Option<&str> {
    if nevra.ends_with(".src") || nevra.ends_with(".nosrc") {
        return None;
    }
    let (name_epoch, _) = nevra.split_once(':')?;
    name_epoch.rsplit_once('-').map(|(name, _)| name)
}

fn dominant_arch(installed: &[Package]) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in installed {
        if p.arch != "noarch" && !p.arch.is_empty() {
            *counts.entry(p.arch.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::artifact_name;

    #[test]
    fn artifact_names_drop_the_evr_and_arch() {
        assert_eq!(
            artifact_name("mariadb-backup-3:10.11.6-1.module_el9+853+7b957b9b.x86_64"),
            Some("mariadb-backup")
        );
        assert_eq!(artifact_name("nonsense"), None);
        assert_eq!(
            artifact_name("galera-0:26.4.16-1.module_el9+853+7b957b9b.src"),
            None
        );
    }
}
