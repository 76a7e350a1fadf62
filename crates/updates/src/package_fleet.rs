//! One package across many hosts in two steps: where every host stands
//! ([`package_fleet`]: a few numbers per host, the updates looked up once
//! per distinct package set and repository use), then the full rows of
//! only the hosts shown ([`package_rows`]: their summaries and the
//! repositories offering their versions). The package page at 100,000
//! hosts (issue 11) counts and orders every host but writes out 100.

use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_reports::Package;
use patchwatch_store::{
    Database, HostFilter, HostRef, HostSort, HostSummary, LARGE_SELECTION, StoreError,
};

use crate::compute::Catalogue;
use crate::kept::{FleetHost, KeptUpdates};
use crate::package_view::{InstalledVersion, PackageHost, PackageState};

/// Host details read from the store per query.
const HOSTS_PER_READ: usize = 5_000;
/// Host summaries read per query: few enough ids to be bound into it
/// (past [`LARGE_SELECTION`] the store walks the whole list instead).
const ROWS_PER_READ: usize = LARGE_SELECTION;

/// One instance of the package in a package set, with its version as
/// shown (worked out once per set, not per host).
#[derive(Debug, Clone)]
struct Instance {
    package: Package,
    version: String,
}

/// Where the hosts sharing one (listed package set, placement) stand: the
/// same instances, the same repositories, the same update.
#[derive(Debug, Clone)]
struct Standing {
    /// The set the hosts were listed with: their instances.
    set_id: i64,
    /// Catalogue indexes of the hosts' repositories.
    repositories: Vec<usize>,
    state: PackageState,
    candidate: Option<String>,
    repository: Option<String>,
    security: bool,
}

/// Hosts per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub outdated: usize,
    pub current: usize,
    pub unknown: usize,
    pub missing: usize,
}

impl StateCounts {
    pub fn of(&self, state: PackageState) -> usize {
        match state {
            PackageState::Outdated => self.outdated,
            PackageState::Current => self.current,
            PackageState::Unknown => self.unknown,
            PackageState::Missing => self.missing,
        }
    }

    /// Hosts with the package.
    pub fn installed(&self) -> usize {
        self.outdated + self.current + self.unknown
    }
}

/// One installed version and how many instances of it the hosts have (a
/// host with it for two architectures counts twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCount {
    pub version: String,
    pub hosts: usize,
}

/// Where every host of a list stands with one package: what
/// [`package_rows`] turns into rows for the hosts asked for.
pub struct PackageFleet {
    name: String,
    /// The catalogue the updates were resolved with: the rows name its
    /// repositories.
    catalogue: Arc<Catalogue>,
    /// The package's instances in each listed set that has it.
    instances: FxHashMap<i64, Vec<Instance>>,
    standings: Vec<Standing>,
    /// Each host with the package: its index into `standings`.
    standing_of: FxHashMap<i64, u32>,
    listed: Vec<i64>,
    installed: Vec<i64>,
    missing: Vec<i64>,
    counts: StateCounts,
    versions: Vec<VersionCount>,
}

impl PackageFleet {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every host listed (with the package or not), in the list's order
    /// (site, hostname, id).
    pub fn listed(&self) -> &[i64] {
        &self.listed
    }

    /// The hosts with the package, in page order: outdated (those with a
    /// security update first), current, unknown; each in the list's
    /// order.
    pub fn installed(&self) -> &[i64] {
        &self.installed
    }

    /// The hosts without the package, in the list's order.
    pub fn missing(&self) -> &[i64] {
        &self.missing
    }

    pub fn counts(&self) -> StateCounts {
        self.counts
    }

    /// The installed versions, in byte order, with their instance counts.
    pub fn versions(&self) -> &[VersionCount] {
        &self.versions
    }

    /// A listed host's state (`Missing` for a host not listed).
    pub fn state(&self, host_id: i64) -> PackageState {
        self.standing(host_id)
            .map_or(PackageState::Missing, |s| s.state)
    }

    fn standing(&self, host_id: i64) -> Option<&Standing> {
        self.standing_of
            .get(&host_id)
            .map(|&at| &self.standings[at as usize])
    }
}

/// Where each host `filter` selects (the caller's scope included) stands
/// with package `name`. The hosts are listed as [`HostRef`]s (no names);
/// their sets come from `kept` (only sets it lacks are read), and only
/// hosts with the package are placed, their details read only when not
/// kept since their latest report. Updates are resolved once per
/// distinct (set, placement), not per host.
pub async fn package_fleet(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    name: &str,
) -> Result<PackageFleet, StoreError> {
    let listed_filter = HostFilter {
        sort: HostSort::default(),
        ..filter.clone()
    };
    let refs: Vec<HostRef> = db.host_refs(&listed_filter).await?;
    let mut set_ids: Vec<i64> = refs.iter().map(|r| r.package_set_id).collect();
    set_ids.sort_unstable();
    set_ids.dedup();
    kept.load_sets(db, &set_ids).await?;
    let instances: FxHashMap<i64, Vec<Instance>> = kept
        .named_in_sets(name, set_ids.iter().copied())
        .into_iter()
        .map(|(set, packages)| {
            let instances = packages
                .into_iter()
                .map(|p| Instance {
                    version: p.evr(),
                    package: p.clone(),
                })
                .collect();
            (set, instances)
        })
        .collect();
    let with_package: Vec<&HostRef> = refs
        .iter()
        .filter(|r| instances.contains_key(&r.package_set_id))
        .collect();
    place_hosts(db, filter, kept, groups, &with_package).await?;

    // Hosts sharing a set and a placement share everything shown but
    // their names.
    let mut distinct: Vec<(i64, FleetHost)> = Vec::new();
    let mut placed: Vec<(i64, u32)> = Vec::with_capacity(with_package.len());
    {
        let mut index: FxHashMap<(i64, i64, usize), u32> = FxHashMap::default();
        for r in &with_package {
            // A host deleted since it was listed is counted as missing.
            let Some((placement, place)) = kept.placement(r.id) else {
                continue;
            };
            let key = (r.package_set_id, place.set_id, placement);
            let next = index.len() as u32;
            let at = *index.entry(key).or_insert_with(|| {
                distinct.push((r.package_set_id, place.clone()));
                next
            });
            placed.push((r.id, at));
        }
    }
    let places: Vec<FleetHost> = distinct.iter().map(|(_, place)| place.clone()).collect();
    kept.load_missing(db, &places).await?;
    let standings: Vec<Standing> = distinct
        .into_iter()
        .zip(kept.resolve(&places))
        .map(|((set_id, place), updates)| {
            let update = updates.iter().find(|u| u.name == name);
            let state = match update {
                Some(_) => PackageState::Outdated,
                None if !place.repositories.is_empty() => PackageState::Current,
                None => PackageState::Unknown,
            };
            Standing {
                set_id,
                repositories: place.repositories,
                state,
                candidate: update.map(|u| u.candidate.clone()),
                repository: update.map(|u| u.repository.clone()),
                security: update.is_some_and(|u| u.security),
            }
        })
        .collect();

    // Page order without sorting: one bucket per (state, security), each
    // filled in the list's order.
    let mut buckets: [Vec<i64>; 4] = Default::default();
    let mut hosts_per_standing = vec![0usize; standings.len()];
    let mut standing_of = FxHashMap::with_capacity_and_hasher(placed.len(), Default::default());
    for &(id, at) in &placed {
        let standing = &standings[at as usize];
        let bucket = match (standing.state, standing.security) {
            (PackageState::Outdated, true) => 0,
            (PackageState::Outdated, false) => 1,
            (PackageState::Current, _) => 2,
            (PackageState::Unknown | PackageState::Missing, _) => 3,
        };
        buckets[bucket].push(id);
        hosts_per_standing[at as usize] += 1;
        standing_of.insert(id, at);
    }
    let [security, outdated, current, unknown] = buckets;
    let counts = StateCounts {
        outdated: security.len() + outdated.len(),
        current: current.len(),
        unknown: unknown.len(),
        missing: refs.len() - placed.len(),
    };
    let installed = [security, outdated, current, unknown].concat();

    // `placed` is `refs` less the missing, in the same order.
    let mut placed_ids = placed.iter().map(|(id, _)| *id).peekable();
    let mut missing = Vec::with_capacity(counts.missing);
    for r in &refs {
        if placed_ids.peek() == Some(&r.id) {
            placed_ids.next();
        } else {
            missing.push(r.id);
        }
    }

    let mut versions: BTreeMap<&str, usize> = BTreeMap::new();
    for (standing, hosts) in standings.iter().zip(&hosts_per_standing) {
        for instance in instances.get(&standing.set_id).into_iter().flatten() {
            *versions.entry(&instance.version).or_default() += hosts;
        }
    }
    let versions = versions
        .into_iter()
        .map(|(version, hosts)| VersionCount {
            version: version.to_owned(),
            hosts,
        })
        .collect();

    Ok(PackageFleet {
        name: name.to_owned(),
        catalogue: kept.catalogue().clone(),
        instances,
        standings,
        standing_of,
        listed: refs.iter().map(|r| r.id).collect(),
        installed,
        missing,
        counts,
        versions,
    })
}

/// Places the hosts not placed since their latest report: their details
/// read in bulk, within the caller's scope.
async fn place_hosts(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    hosts: &[&HostRef],
) -> Result<(), StoreError> {
    let unplaced: Vec<i64> = hosts
        .iter()
        .filter(|r| kept.kept_host(r.id, r.last_report_id).is_none())
        .map(|r| r.id)
        .collect();
    for chunk in unplaced.chunks(HOSTS_PER_READ) {
        let details = db
            .host_details(&HostFilter {
                site_ids: filter.site_ids.clone(),
                host_ids: Some(chunk.to_vec()),
                ..HostFilter::default()
            })
            .await?;
        for host in &details {
            kept.remember_host(host, groups);
        }
    }
    Ok(())
}

/// The rows of `host_ids` (hosts of `fleet`'s list), in that order:
/// names from their summaries, read within `filter`'s scope (its
/// `site_ids`), everything else from `fleet`. A host deleted since the
/// fleet was read is left out.
pub async fn package_rows(
    db: &dyn Database,
    filter: &HostFilter,
    fleet: &PackageFleet,
    host_ids: &[i64],
) -> Result<Vec<PackageHost>, StoreError> {
    let mut summaries: HashMap<i64, HostSummary> = HashMap::with_capacity(host_ids.len());
    for chunk in host_ids.chunks(ROWS_PER_READ) {
        let page = db
            .hosts(&HostFilter {
                site_ids: filter.site_ids.clone(),
                host_ids: Some(chunk.to_vec()),
                ..HostFilter::default()
            })
            .await?;
        summaries.extend(page.items.into_iter().map(|h| (h.id, h)));
    }
    let mut origins: HashMap<(&[usize], &str, &str), Vec<String>> = HashMap::new();
    let mut rows = Vec::with_capacity(host_ids.len());
    for id in host_ids {
        let Some(summary) = summaries.get(id) else {
            continue;
        };
        let Some(standing) = fleet.standing(*id) else {
            rows.push(PackageHost {
                host_id: summary.id,
                hostname: summary.hostname.clone(),
                site: summary.site.clone(),
                installed: Vec::new(),
                state: PackageState::Missing,
                candidate: None,
                repository: None,
                security: false,
            });
            continue;
        };
        let installed = fleet
            .instances
            .get(&standing.set_id)
            .into_iter()
            .flatten()
            .map(|instance| {
                let key = (
                    standing.repositories.as_slice(),
                    instance.version.as_str(),
                    instance.package.arch.as_str(),
                );
                let from = origins
                    .entry(key)
                    .or_insert_with(|| {
                        fleet
                            .catalogue
                            .offering(&standing.repositories, &instance.package)
                    })
                    .clone();
                InstalledVersion {
                    version: instance.version.clone(),
                    arch: instance.package.arch.clone(),
                    from,
                }
            })
            .collect();
        rows.push(PackageHost {
            host_id: summary.id,
            hostname: summary.hostname.clone(),
            site: summary.site.clone(),
            installed,
            state: standing.state,
            candidate: standing.candidate.clone(),
            repository: standing.repository.clone(),
            security: standing.security,
        });
    }
    Ok(rows)
}
