//! Candidates per host from the stored snapshots. The candidate index of a
//! repository set (apt's version table, dnf's, apk's) is built once per
//! distinct set and shared by every host using it; callers hand in each
//! distinct (package set, repository set) once, as the vulnerability
//! assessment does, so identical hosts share one result.

use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_reports::{ModuleStream, OsRelease, Package, Repository as ReportedRepository};
use patchwatch_repos::apk::select::{ApkIndex, ApkRepo};
use patchwatch_repos::apt::{AptConfig, AptIndex};
use patchwatch_repos::rpmmd::select::{DnfIndex, DnfOptions, DnfRepo};
use patchwatch_repos::{RepoSnapshot, Update};
use patchwatch_store::{Repository, RepositoryKind};
use patchwatch_versions::Scheme;
use serde::Serialize;

use crate::codec::{CodecError, decode};
use crate::hostrepos::{
    HostFacts, HostSources, RepositoryUse, host_sources, repositories_for_host,
};
use crate::kernel::{KernelStatus, kernel_status};

/// dnf's defaults, used where the stored repository says 0 (not given).
const DNF_DEFAULT_PRIORITY: i32 = 99;
const DNF_DEFAULT_COST: i32 = 1000;

/// One pending update of one host, as `hosts updates` and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostUpdate {
    pub name: String,
    pub arch: String,
    pub installed: String,
    pub candidate: String,
    /// The configured repository the candidate comes from.
    pub repository: String,
    pub security: bool,
    /// CVEs the update closes, sorted.
    pub cves: Vec<String>,
    /// Repository advisories shipping it (updateinfo ids).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<String>,
    /// An Ubuntu phased update not yet offered to every host.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub phased: bool,
    /// How the package manager orders versions.
    #[serde(skip)]
    pub scheme: Scheme,
    /// apt: the candidate's source version (Debian's feeds name fixed
    /// source versions); empty elsewhere.
    #[serde(skip)]
    pub candidate_source_version: String,
}

/// The current snapshots of every enabled repository, decoded once.
pub struct Catalogue {
    repositories: Vec<Repository>,
    /// Shared with the catalogue this one was reloaded from, where the
    /// snapshot is the same.
    snapshots: Vec<Arc<RepoSnapshot>>,
}

/// One computation: a host's packages against a set of repositories.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// Indexes into [`Catalogue::repositories`], in order.
    pub repositories: Vec<usize>,
    pub installed: &'a [Package],
    /// The host's architecture as it reported it (`x86_64`, `amd64`).
    pub arch: String,
}

impl Catalogue {
    /// From [`patchwatch_store::Database::current_repo_snapshots`].
    pub fn new(stored: Vec<(Repository, Vec<u8>)>) -> Result<Catalogue, CodecError> {
        Catalogue::empty().reload(stored)
    }

    /// A catalogue without repositories.
    pub fn empty() -> Catalogue {
        Catalogue {
            repositories: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// The catalogue of `stored`, decoding only the snapshots this one
    /// does not hold already (a sync usually changes one repository).
    pub fn reload(&self, stored: Vec<(Repository, Vec<u8>)>) -> Result<Catalogue, CodecError> {
        let mut repositories = Vec::with_capacity(stored.len());
        let mut snapshots = Vec::with_capacity(stored.len());
        for (repo, document) in stored {
            let kept = snapshot_id(&repo).and_then(|id| {
                self.repositories
                    .iter()
                    .position(|r| r.id == repo.id && snapshot_id(r) == Some(id))
                    .map(|i| self.snapshots[i].clone())
            });
            snapshots.push(match kept {
                Some(snapshot) => snapshot,
                None => Arc::new(decode(&document)?),
            });
            repositories.push(repo);
        }
        Ok(Catalogue {
            repositories,
            snapshots,
        })
    }

    /// What results computed from a repository depend on: its snapshot
    /// and the configuration dnf reads (priority, cost).
    pub(crate) fn fingerprint(&self, i: usize) -> (i64, Option<i64>, i64, i64) {
        let r = &self.repositories[i];
        (r.id, snapshot_id(r), r.priority, r.cost)
    }

    pub fn repositories(&self) -> &[Repository] {
        &self.repositories
    }

    pub fn is_empty(&self) -> bool {
        self.repositories.is_empty()
    }

    /// The repositories a host uses (see [`repositories_for_host`]).
    pub fn for_host(
        &self,
        reported: &[ReportedRepository],
        os: &OsRelease,
        groups: &OsGroups,
    ) -> Vec<usize> {
        let configured: Vec<&Repository> = self.repositories.iter().collect();
        repositories_for_host(&configured, reported, os, groups)
    }

    /// The repositories a host uses and how its package manager uses them
    /// (see [`host_sources`]).
    pub fn sources_for_host(
        &self,
        reported: &[ReportedRepository],
        module_streams: &[ModuleStream],
        host: &HostFacts<'_>,
        groups: &OsGroups,
    ) -> HostSources {
        let configured: Vec<&Repository> = self.repositories.iter().collect();
        host_sources(&configured, reported, module_streams, host, groups)
    }

    /// The updates of one host as its report configures its package
    /// manager: module streams, its own dnf priorities and costs, apk tags.
    pub fn host_updates(
        &self,
        sources: &HostSources,
        installed: &[Package],
        arch: &str,
    ) -> Vec<HostUpdate> {
        SetIndexes::build(self, &sources.repositories, arch, Some(sources))
            .updates(self, installed, arch)
    }

    /// A host's kernels (running, newest installed, newest its
    /// repositories offer) and whether it must reboot: see
    /// [`crate::kernel::kernel_status`]. `reported` is the client's own
    /// reboot flag, when it sent one. What the web UI calls for a host.
    pub fn kernel_status(
        &self,
        repositories: &[usize],
        installed: &[Package],
        running: &str,
        arch: &str,
        reported: Option<bool>,
    ) -> KernelStatus {
        let available = repositories
            .iter()
            .flat_map(|&i| self.snapshots[i].packages.iter().map(|a| &a.package));
        kernel_status(installed, running, arch, available, reported)
    }

    /// The names of the repositories among `repositories` that offer
    /// exactly this installed package (name, architecture, version).
    pub fn offering(&self, repositories: &[usize], installed: &Package) -> Vec<String> {
        let evr = installed.evr();
        repositories
            .iter()
            .filter(|&&i| {
                self.snapshots[i].packages.iter().any(|a| {
                    let p = &a.package;
                    p.name == installed.name
                        && (p.arch == installed.arch || p.arch == "all" || p.arch == "noarch")
                        && p.evr() == evr
                })
            })
            .map(|&i| self.repositories[i].name.clone())
            .collect()
    }

    /// The updates of one host.
    pub fn updates(&self, job: &Job<'_>) -> Vec<HostUpdate> {
        self.compute(std::slice::from_ref(job))
            .pop()
            .unwrap_or_default()
    }

    /// The updates of each job, in job order; each distinct (repository
    /// set, architecture) builds its candidate index once.
    pub fn compute(&self, jobs: &[Job<'_>]) -> Vec<Vec<HostUpdate>> {
        let mut by_set: HashMap<(&[usize], &str), Vec<usize>> = HashMap::new();
        for (i, job) in jobs.iter().enumerate() {
            by_set
                .entry((job.repositories.as_slice(), job.arch.as_str()))
                .or_default()
                .push(i);
        }
        let mut out = vec![Vec::new(); jobs.len()];
        for ((set, arch), members) in by_set {
            let indexes = SetIndexes::build(self, set, arch, None);
            for i in members {
                out[i] = indexes.updates(self, jobs[i].installed, arch);
            }
        }
        out
    }
}

impl Catalogue {
    /// The updates of stored package sets against one host configuration
    /// (repositories and how they are used):
    /// `packages` as `Database::packages_by_id` returns them, `sets` as
    /// `Database::package_set_members` does; `result[i]` belongs to
    /// `sets[i]`. An apt-only repository set takes the library's stored-set
    /// path (each distinct package looked up once for all sets); others
    /// are computed set by set.
    pub fn compute_sets(
        &self,
        sources: &HostSources,
        arch: &str,
        packages: &[(i64, Package)],
        sets: &[(i64, Vec<i64>)],
    ) -> Vec<Vec<HostUpdate>> {
        let indexes = SetIndexes::build(self, &sources.repositories, arch, Some(sources));
        if let (Some((index, repos)), None, None) = (&indexes.apt, &indexes.dnf, &indexes.apk) {
            let fleet = index.updates_for_sets(packages, sets);
            return (0..sets.len())
                .map(|i| {
                    let mut out: Vec<HostUpdate> = fleet
                        .set(i)
                        .map(|u| {
                            self.host_update(
                                u.update.clone(),
                                u.candidate_source_version.clone(),
                                repos,
                                Scheme::Deb,
                            )
                        })
                        .collect();
                    out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
                    out
                })
                .collect();
        }
        let by_id: HashMap<i64, &Package> = packages.iter().map(|(id, p)| (*id, p)).collect();
        sets.iter()
            .map(|(_, members)| {
                let installed: Vec<Package> = members
                    .iter()
                    .filter_map(|id| by_id.get(id).map(|p| (*p).clone()))
                    .collect();
                indexes.updates(self, &installed, arch)
            })
            .collect()
    }

    fn host_update(
        &self,
        u: Update,
        candidate_source_version: String,
        repos: &[usize],
        scheme: Scheme,
    ) -> HostUpdate {
        let repository = repos
            .get(u.repository)
            .map(|&i| self.repositories[i].name.clone())
            .unwrap_or_default();
        HostUpdate {
            name: u.name,
            arch: u.arch,
            installed: u.installed,
            candidate: u.candidate,
            repository,
            security: u.security,
            cves: u.cves,
            advisories: u.advisories,
            phased: u.phased,
            scheme,
            candidate_source_version,
        }
    }
}

fn snapshot_id(repo: &Repository) -> Option<i64> {
    repo.current.as_ref().map(|s| s.id)
}

/// The candidate indexes of one repository set, one per package format
/// present in it (a host normally has one).
struct SetIndexes<'a> {
    apt: Option<(AptIndex, Vec<usize>)>,
    dnf: Option<(DnfIndex<'a>, Vec<usize>)>,
    apk: Option<(ApkIndex<'a>, Vec<usize>)>,
    /// The host's apk world pins (name -> tag); empty for a shared set.
    apk_pins: HashMap<String, String>,
}

/// dpkg's name for the architecture a host reports as `uname -m`.
fn dpkg_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i686" | "i586" | "i386" => "i386",
        "armv7l" => "armhf",
        "ppc64le" => "ppc64el",
        other => other,
    }
}

/// rpm's and apk's name for it.
fn uname_arch(arch: &str) -> &str {
    match arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

impl<'a> SetIndexes<'a> {
    /// `sources`, when given, is the host's configuration of `set` (its
    /// `repositories` are `set`).
    fn build(
        catalogue: &'a Catalogue,
        set: &[usize],
        arch: &str,
        sources: Option<&'a HostSources>,
    ) -> SetIndexes<'a> {
        let use_of = |position: usize| -> Option<&'a RepositoryUse> {
            sources.and_then(|s| s.use_of(position))
        };
        // (index into the catalogue, how the host uses it) per kind.
        let of_kind = |kind: RepositoryKind| -> Vec<(usize, Option<&'a RepositoryUse>)> {
            set.iter()
                .enumerate()
                .filter(|&(_, &i)| catalogue.repositories[i].kind == kind)
                .map(|(position, &i)| (i, use_of(position)))
                .collect()
        };
        let indexes = |repos: &[(usize, Option<&RepositoryUse>)]| -> Vec<usize> {
            repos.iter().map(|(i, _)| *i).collect()
        };
        let apt_repos = of_kind(RepositoryKind::Apt);
        let apt = (!apt_repos.is_empty()).then(|| {
            let snapshots: Vec<&RepoSnapshot> = apt_repos
                .iter()
                .map(|&(i, _)| &*catalogue.snapshots[i])
                .collect();
            let mut config = AptConfig::new(dpkg_arch(arch));
            config.pins = sources.map(|s| s.apt_pins.clone()).unwrap_or_default();
            let index = AptIndex::build(&snapshots, &config);
            (index, indexes(&apt_repos))
        });
        let dnf_repos = of_kind(RepositoryKind::RpmMd);
        let dnf = (!dnf_repos.is_empty()).then(|| {
            let repos: Vec<DnfRepo<'a>> = dnf_repos
                .iter()
                .map(|(i, host_use)| {
                    let r = &catalogue.repositories[*i];
                    let or_default = |v: i64, d: i32| {
                        if v == 0 {
                            d
                        } else {
                            i32::try_from(v).unwrap_or(d)
                        }
                    };
                    // The host's own `priority=` / `cost=` is what its dnf uses.
                    let priority = host_use.and_then(|u| u.priority).unwrap_or(r.priority);
                    let cost = host_use.and_then(|u| u.cost).unwrap_or(r.cost);
                    DnfRepo {
                        snapshot: &catalogue.snapshots[*i],
                        enabled: true,
                        priority: or_default(priority, DNF_DEFAULT_PRIORITY),
                        cost: or_default(cost, DNF_DEFAULT_COST),
                    }
                })
                .collect();
            let options = DnfOptions {
                enabled_streams: sources
                    .map(|s| s.module_streams.clone())
                    .unwrap_or_default(),
                ..DnfOptions::default()
            };
            (DnfIndex::new(&repos, &options), indexes(&dnf_repos))
        });
        let apk_repos = of_kind(RepositoryKind::Apk);
        let apk = (!apk_repos.is_empty()).then(|| {
            let repos: Vec<ApkRepo<'a>> = apk_repos
                .iter()
                .map(|&(i, host_use)| ApkRepo {
                    snapshot: &catalogue.snapshots[i],
                    tag: host_use.and_then(|u| u.tag.as_deref()),
                })
                .collect();
            (ApkIndex::new(&repos), indexes(&apk_repos))
        });
        let apk_pins = sources
            .map(|s| {
                s.apk_pins
                    .iter()
                    .map(|(n, t)| (n.clone(), t.clone()))
                    .collect()
            })
            .unwrap_or_default();
        SetIndexes {
            apt,
            dnf,
            apk,
            apk_pins,
        }
    }

    fn updates(&self, catalogue: &Catalogue, installed: &[Package], arch: &str) -> Vec<HostUpdate> {
        let mut out = Vec::new();
        let mut push = |updates: Vec<(Update, String)>, repos: &[usize], scheme: Scheme| {
            for (u, source_version) in updates {
                out.push(catalogue.host_update(u, source_version, repos, scheme));
            }
        };
        let plain =
            |updates: Vec<Update>| updates.into_iter().map(|u| (u, String::new())).collect();
        if let Some((index, repos)) = &self.apt {
            let updates = index
                .updates(installed)
                .into_iter()
                .map(|u| (u.update, u.candidate_source_version))
                .collect();
            push(updates, repos, Scheme::Deb);
        }
        if let Some((index, repos)) = &self.dnf {
            push(
                plain(index.updates(installed, uname_arch(arch))),
                repos,
                Scheme::Rpm,
            );
        }
        if let Some((index, repos)) = &self.apk {
            push(
                plain(index.updates(installed, &self.apk_pins)),
                repos,
                Scheme::Apk,
            );
        }
        out.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
        out
    }
}
