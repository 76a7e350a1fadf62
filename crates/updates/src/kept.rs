//! The fleet's pending updates, kept between requests and brought up to
//! date incrementally (the server's `/api/v1/updates` and host endpoint;
//! the CLI uses it once).
//!
//! Results are kept per distinct (package set, repository set,
//! architecture), never per host. Repository sets are keyed by stored
//! repository ids, so they survive a catalogue reload. When a repository's
//! current snapshot changes, [`KeptUpdates::switch`] recomputes only the
//! groups whose repository set contains it; the package sets are kept too
//! (every distinct package once, each set as package ids), so that needs
//! nothing from the store. New package sets are read in bulk the first
//! time a host with one is asked for.

use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use patchwatch_assess::OsGroups;
use patchwatch_reports::Package;
use patchwatch_store::{Database, HostDetail, StoreError};
use serde::Serialize;

use crate::compute::{Catalogue, HostUpdate};
use patchwatch_repos::apt::Pin;

use crate::hostrepos::{HostFacts, HostSources, RepositoryUse};

/// Sets read from the store per query.
const SETS_PER_READ: usize = 1_000;
/// Packages read from the store per query.
const PACKAGES_PER_READ: usize = 10_000;

/// A repository set (stored repository ids, in the catalogue's order),
/// how the hosts use it (their dnf priorities and costs, apk tags, module
/// streams, apk pins) and an architecture: hosts with the same one share a
/// candidate index. Ids rather than catalogue positions, so a key
/// survives a catalogue reload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    repositories: Vec<i64>,
    uses: Vec<RepositoryUse>,
    module_streams: Vec<String>,
    apk_pins: BTreeMap<String, String>,
    apt_pins: Vec<Pin>,
    arch: String,
}

/// What [`KeptUpdates::switch`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SwitchStats {
    /// Repositories added, removed, or with another snapshot.
    pub changed_repositories: usize,
    /// (repository set, arch) groups computed again.
    pub groups_recomputed: usize,
    /// Groups kept as they were.
    pub groups_kept: usize,
    /// Package sets computed again (over all recomputed groups).
    pub sets_recomputed: usize,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// One host as the kept updates see it: which result it shares.
#[derive(Debug, Clone)]
pub struct FleetHost {
    pub set_id: i64,
    /// Indexes into the catalogue's repositories (see
    /// [`Catalogue::sources_for_host`]); empty when none applies.
    pub repositories: Vec<usize>,
    /// How the host uses them (`sources.repositories == repositories`).
    pub sources: HostSources,
    pub arch: String,
}

/// The kept results and the package sets they were computed from.
pub struct KeptUpdates {
    catalogue: Arc<Catalogue>,
    results: HashMap<GroupKey, HashMap<i64, Arc<Vec<HostUpdate>>>>,
    /// Each kept set's package ids.
    members: FxHashMap<i64, Vec<i64>>,
    /// Every package a kept set names, once.
    packages: Vec<(i64, Package)>,
    known_packages: HashSet<i64>,
    /// Package name -> positions in `packages` of the kept packages so
    /// named, so one package's view never scans every kept package.
    positions_by_name: HashMap<String, Vec<usize>>,
    /// Each host's place under the current catalogue, with the report it
    /// was worked out from: a host's repositories and their use come from
    /// its report, so they hold until it reports again or the catalogue
    /// changes.
    hosts: FxHashMap<i64, (i64, FleetHost, usize)>,
    /// Each distinct (sources, arch) of a kept host, numbered: hosts with
    /// the same number are placed alike (see [`KeptUpdates::placement`]),
    /// told apart without comparing their sources again.
    placements: FxHashMap<(HostSources, String), usize>,
}

impl KeptUpdates {
    pub fn new(catalogue: Arc<Catalogue>) -> KeptUpdates {
        KeptUpdates {
            catalogue,
            results: HashMap::new(),
            members: FxHashMap::default(),
            packages: Vec::new(),
            known_packages: HashSet::new(),
            positions_by_name: HashMap::new(),
            hosts: FxHashMap::default(),
            placements: FxHashMap::default(),
        }
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// Distinct (package set, repository set, arch) results kept.
    pub fn len(&self) -> usize {
        self.results.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A host's place in the kept results.
    pub fn fleet_host(&self, host: &HostDetail, groups: &OsGroups) -> FleetHost {
        let sources = self.catalogue.sources_for_host(
            &host.repositories,
            &host.module_streams,
            &HostFacts {
                os: &host.summary.os,
                arch: &host.summary.arch,
                apk_pins: &host.apk_pins,
                apt_preferences: &host.apt_preferences,
            },
            groups,
        );
        FleetHost {
            set_id: host.summary.package_set_id,
            repositories: sources.repositories.clone(),
            sources,
            arch: host.summary.arch.clone(),
        }
    }

    /// [`KeptUpdates::fleet_host`], kept for [`KeptUpdates::kept_host`].
    pub fn remember_host(&mut self, host: &HostDetail, groups: &OsGroups) -> FleetHost {
        let fleet_host = self.fleet_host(host, groups);
        let next = self.placements.len();
        let placement = *self
            .placements
            .entry((fleet_host.sources.clone(), fleet_host.arch.clone()))
            .or_insert(next);
        self.hosts.insert(
            host.summary.id,
            (host.summary.last_report_id, fleet_host.clone(), placement),
        );
        fleet_host
    }

    /// A host's place as [`KeptUpdates::remember_host`] kept it, if its
    /// latest report is still `last_report_id`.
    pub fn kept_host(&self, host_id: i64, last_report_id: i64) -> Option<&FleetHost> {
        self.hosts
            .get(&host_id)
            .filter(|(report, _, _)| *report == last_report_id)
            .map(|(_, h, _)| h)
    }

    /// A host's place as last kept, whatever report it came from.
    pub fn last_kept_host(&self, host_id: i64) -> Option<&FleetHost> {
        self.hosts.get(&host_id).map(|(_, h, _)| h)
    }

    /// [`KeptUpdates::last_kept_host`] and the number of its (sources,
    /// arch): equal numbers, equal sources and arch.
    pub fn placement(&self, host_id: i64) -> Option<(usize, &FleetHost)> {
        self.hosts.get(&host_id).map(|(_, h, p)| (*p, h))
    }

    fn key(&self, sources: &HostSources, arch: &str) -> GroupKey {
        GroupKey {
            repositories: sources
                .repositories
                .iter()
                .map(|&i| self.catalogue.repositories()[i].id)
                .collect(),
            uses: sources.uses.clone(),
            module_streams: sources.module_streams.clone(),
            apk_pins: sources.apk_pins.clone(),
            apt_pins: sources.apt_pins.clone(),
            arch: arch.to_owned(),
        }
    }

    /// The sets among `hosts` whose packages are not kept yet.
    pub fn missing_sets<'h>(&self, hosts: impl IntoIterator<Item = &'h FleetHost>) -> Vec<i64> {
        let mut missing: Vec<i64> = hosts
            .into_iter()
            .filter(|h| !h.repositories.is_empty() && !self.members.contains_key(&h.set_id))
            .map(|h| h.set_id)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// Of these sets' package ids, those not kept yet.
    pub fn missing_packages(&self, sets: &[(i64, Vec<i64>)]) -> Vec<i64> {
        let mut ids: Vec<i64> = sets
            .iter()
            .flat_map(|(_, m)| m.iter().copied())
            .filter(|id| !self.known_packages.contains(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Keeps sets (as `Database::package_set_members` returns them) and
    /// the packages they name that are new (`Database::packages_by_id`).
    pub fn add_sets(&mut self, sets: Vec<(i64, Vec<i64>)>, packages: Vec<(i64, Package)>) {
        for (id, package) in packages {
            if self.known_packages.insert(id) {
                self.positions_by_name
                    .entry(package.name.clone())
                    .or_default()
                    .push(self.packages.len());
                self.packages.push((id, package));
            }
        }
        self.members.extend(sets);
    }

    /// For each of `set_ids` that is kept and holds a package named
    /// `name`: those packages, in package id order (as the set stores
    /// them). Sets are sorted id lists, so each costs a binary search per
    /// package of that name, not a scan.
    pub fn named_in_sets(
        &self,
        name: &str,
        set_ids: impl IntoIterator<Item = i64>,
    ) -> FxHashMap<i64, Vec<&Package>> {
        let mut named: Vec<(i64, &Package)> = self
            .positions_by_name
            .get(name)
            .map(|positions| {
                positions
                    .iter()
                    .map(|&i| (self.packages[i].0, &self.packages[i].1))
                    .collect()
            })
            .unwrap_or_default();
        named.sort_unstable_by_key(|(id, _)| *id);
        let mut out = FxHashMap::default();
        if named.is_empty() {
            return out;
        }
        for set_id in set_ids {
            if out.contains_key(&set_id) {
                continue;
            }
            let Some(members) = self.members.get(&set_id) else {
                continue;
            };
            let found: Vec<&Package> = named
                .iter()
                .filter(|(id, _)| members.binary_search(id).is_ok())
                .map(|(_, p)| *p)
                .collect();
            if !found.is_empty() {
                out.insert(set_id, found);
            }
        }
        out
    }

    /// The updates of each host, in order; results not kept yet are
    /// computed (every set must have been added: see
    /// [`KeptUpdates::missing_sets`]). Hosts without repositories get an
    /// empty list.
    pub fn resolve(&mut self, hosts: &[FleetHost]) -> Vec<Arc<Vec<HostUpdate>>> {
        let mut wanted: HashMap<(&HostSources, &str), Vec<i64>> = HashMap::new();
        for h in hosts.iter().filter(|h| !h.repositories.is_empty()) {
            let key = self.key(&h.sources, &h.arch);
            let kept = self
                .results
                .get(&key)
                .is_some_and(|r| r.contains_key(&h.set_id));
            if !kept && self.members.contains_key(&h.set_id) {
                wanted
                    .entry((&h.sources, h.arch.as_str()))
                    .or_default()
                    .push(h.set_id);
            }
        }
        for ((sources, arch), mut sets) in wanted {
            sets.sort_unstable();
            sets.dedup();
            let computed = self.compute(sources, arch, &sets);
            let key = self.key(sources, arch);
            self.results.entry(key).or_default().extend(computed);
        }
        let empty = Arc::new(Vec::new());
        hosts
            .iter()
            .map(|h| {
                if h.repositories.is_empty() {
                    return empty.clone();
                }
                self.results
                    .get(&self.key(&h.sources, &h.arch))
                    .and_then(|r| r.get(&h.set_id))
                    .cloned()
                    .unwrap_or_else(|| empty.clone())
            })
            .collect()
    }

    fn compute(
        &self,
        sources: &HostSources,
        arch: &str,
        set_ids: &[i64],
    ) -> Vec<(i64, Arc<Vec<HostUpdate>>)> {
        let sets: Vec<(i64, Vec<i64>)> = set_ids
            .iter()
            .filter_map(|id| self.members.get(id).map(|m| (*id, m.clone())))
            .collect();
        let computed = self
            .catalogue
            .compute_sets(sources, arch, &self.packages, &sets);
        sets.iter()
            .map(|(id, _)| *id)
            .zip(computed.into_iter().map(Arc::new))
            .collect()
    }

    /// Moves to a new catalogue (a repository imported, synced, added,
    /// enabled, disabled or removed): the groups whose repository set holds
    /// a changed repository are computed again, every other result is
    /// kept. Groups naming a repository the new catalogue lacks are
    /// dropped (their hosts now use another set, computed on request).
    pub fn switch(&mut self, catalogue: Arc<Catalogue>) -> SwitchStats {
        let start = Instant::now();
        let fingerprints = |c: &Catalogue| -> HashMap<i64, (i64, Option<i64>, i64, i64)> {
            (0..c.repositories().len())
                .map(|i| (c.repositories()[i].id, c.fingerprint(i)))
                .collect()
        };
        let old = fingerprints(&self.catalogue);
        let new = fingerprints(&catalogue);
        let changed: HashSet<i64> = old
            .keys()
            .chain(new.keys())
            .filter(|id| old.get(id) != new.get(id))
            .copied()
            .collect();
        self.catalogue = catalogue;
        // Places are catalogue positions: worked out again on request.
        self.hosts.clear();
        self.placements.clear();
        let mut stats = SwitchStats {
            changed_repositories: changed.len(),
            ..SwitchStats::default()
        };
        let position: HashMap<i64, usize> = self
            .catalogue
            .repositories()
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        let affected: Vec<GroupKey> = self
            .results
            .keys()
            .filter(|k| k.repositories.iter().any(|id| changed.contains(id)))
            .cloned()
            .collect();
        stats.groups_kept = self.results.len() - affected.len();
        for key in affected {
            let Some(kept) = self.results.remove(&key) else {
                continue;
            };
            let Some(indexes) = key
                .repositories
                .iter()
                .map(|id| position.get(id).copied())
                .collect::<Option<Vec<usize>>>()
            else {
                continue;
            };
            let sources = HostSources {
                repositories: indexes,
                uses: key.uses.clone(),
                module_streams: key.module_streams.clone(),
                apk_pins: key.apk_pins.clone(),
                apt_pins: key.apt_pins.clone(),
                ignored_preferences: Vec::new(),
            };
            let mut sets: Vec<i64> = kept.into_keys().collect();
            sets.sort_unstable();
            stats.groups_recomputed += 1;
            stats.sets_recomputed += sets.len();
            let computed = self.compute(&sources, &key.arch, &sets);
            self.results.insert(key, computed.into_iter().collect());
        }
        stats.elapsed = start.elapsed();
        stats
    }

    /// Forgets the sets no host in `in_use` has any more, with their
    /// results and the packages only they named.
    pub fn retain_sets(&mut self, in_use: &HashSet<i64>) {
        self.members.retain(|id, _| in_use.contains(id));
        self.hosts.retain(|_, (_, h, _)| in_use.contains(&h.set_id));
        for results in self.results.values_mut() {
            results.retain(|id, _| in_use.contains(id));
        }
        self.results.retain(|_, r| !r.is_empty());
        let named: HashSet<i64> = self.members.values().flatten().copied().collect();
        self.packages.retain(|(id, _)| named.contains(id));
        self.known_packages = named;
        self.positions_by_name.clear();
        for (i, (_, package)) in self.packages.iter().enumerate() {
            self.positions_by_name
                .entry(package.name.clone())
                .or_default()
                .push(i);
        }
    }

    /// Reads the sets of `hosts` not kept yet from the store, in bulk.
    pub async fn load_missing(
        &mut self,
        db: &dyn Database,
        hosts: &[FleetHost],
    ) -> Result<(), StoreError> {
        let missing = self.missing_sets(hosts);
        self.load_sets(db, &missing).await
    }

    /// Reads those of `set_ids` not kept yet from the store, in bulk
    /// (whether or not a host of the set has repositories).
    pub async fn load_sets(
        &mut self,
        db: &dyn Database,
        set_ids: &[i64],
    ) -> Result<(), StoreError> {
        let mut missing: Vec<i64> = set_ids
            .iter()
            .copied()
            .filter(|id| !self.members.contains_key(id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(SETS_PER_READ) {
            let sets = db.package_set_members(chunk).await?;
            let ids = self.missing_packages(&sets);
            let mut packages = Vec::with_capacity(ids.len());
            for ids in ids.chunks(PACKAGES_PER_READ) {
                packages.extend(db.packages_by_id(ids).await?);
            }
            self.add_sets(sets, packages);
        }
        Ok(())
    }

    /// One host's repositories (catalogue indexes) and updates.
    pub async fn host(
        &mut self,
        db: &dyn Database,
        host: &HostDetail,
        groups: &OsGroups,
    ) -> Result<(Vec<usize>, Arc<Vec<HostUpdate>>), StoreError> {
        let fleet_host = self.fleet_host(host, groups);
        let hosts = std::slice::from_ref(&fleet_host);
        self.load_missing(db, hosts).await?;
        let updates = self.resolve(hosts).pop().unwrap_or_default();
        Ok((fleet_host.repositories, updates))
    }
}
