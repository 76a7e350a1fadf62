//! The fleet view of one package (Pakiti v2's Outdated/Missing page;
//! `packages show`, `GET /api/v1/packages/{name}`): which hosts run which
//! version from which repository, who is outdated, who lacks it.

use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_reports::Package;
use patchwatch_store::{Database, HostFilter, HostSort, HostSummary, StoreError};
use serde::Serialize;

use crate::compute::HostUpdate;
use crate::kept::{FleetHost, KeptUpdates};

/// Where a host stands with the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageState {
    /// Installed, and its repositories offer a newer version.
    Outdated,
    /// Installed, and no repository of the host offers a newer version.
    Current,
    /// Not installed.
    Missing,
    /// Installed, but no repository applies to the host.
    Unknown,
}

impl PackageState {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Outdated => "outdated",
            PackageState::Current => "current",
            PackageState::Missing => "missing",
            PackageState::Unknown => "unknown",
        }
    }
}

/// One installed instance (several for multi-arch or installonly
/// packages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledVersion {
    pub version: String,
    pub arch: String,
    /// The host's repositories offering exactly this version; empty when
    /// none does (a local build, or a version no longer published).
    pub from: Vec<String>,
}

/// One host's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageHost {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub installed: Vec<InstalledVersion>,
    pub state: PackageState,
    pub candidate: Option<String>,
    pub repository: Option<String>,
    pub security: bool,
}

/// Host details read from the store per query.
const HOSTS_PER_READ: usize = 5_000;

/// The view of package `name` over every host `filter` selects (the
/// caller's scope included); `installed_only` leaves out the hosts that
/// lack it. The hosts' summaries are one query; the sets come from `kept`
/// (only sets it lacks are read), and only the hosts with the package are
/// placed and resolved, their details read only when not kept since
/// their latest report.
pub async fn package_view(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    name: &str,
    installed_only: bool,
) -> Result<Vec<PackageHost>, StoreError> {
    // Site, then hostname: the order `Database::host_details` lists in.
    let listed = HostFilter {
        sort: HostSort::default(),
        ..filter.clone()
    };
    let summaries: Vec<HostSummary> = db.hosts(&listed).await?.items;
    let set_ids: Vec<i64> = summaries.iter().map(|h| h.package_set_id).collect();
    kept.load_sets(db, &set_ids).await?;
    let by_set: HashMap<i64, Vec<Package>> = kept
        .named_in_sets(name, set_ids.iter().copied())
        .into_iter()
        .map(|(set, packages)| (set, packages.into_iter().cloned().collect()))
        .collect();
    let with_package: Vec<&HostSummary> = summaries
        .iter()
        .filter(|h| by_set.contains_key(&h.package_set_id))
        .collect();
    let unplaced: Vec<i64> = with_package
        .iter()
        .filter(|h| kept.kept_host(h.id, h.last_report_id).is_none())
        .map(|h| h.id)
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
    // A host deleted since it was listed is left out.
    let placed: Vec<(&HostSummary, FleetHost)> = with_package
        .iter()
        .filter_map(|h| kept.last_kept_host(h.id).map(|f| (*h, f.clone())))
        .collect();
    let fleet_hosts: Vec<FleetHost> = placed.iter().map(|(_, f)| f.clone()).collect();
    kept.load_missing(db, &fleet_hosts).await?;
    let updates: HashMap<i64, (Vec<usize>, Arc<Vec<HostUpdate>>)> = placed
        .iter()
        .zip(kept.resolve(&fleet_hosts))
        .map(|((h, f), u)| (h.id, (f.repositories.clone(), u)))
        .collect();
    let catalogue = kept.catalogue().clone();
    let mut origins: HashMap<(Vec<usize>, String, String), Vec<String>> = HashMap::new();
    let mut rows = Vec::new();
    for h in &summaries {
        let versions: &[Package] = by_set.get(&h.package_set_id).map_or(&[], Vec::as_slice);
        let Some((repos, host_updates)) = updates.get(&h.id).filter(|_| !versions.is_empty())
        else {
            // Updates are of installed packages: a host without it has
            // none of it.
            if !installed_only {
                rows.push(PackageHost {
                    host_id: h.id,
                    hostname: h.hostname.clone(),
                    site: h.site.clone(),
                    installed: Vec::new(),
                    state: PackageState::Missing,
                    candidate: None,
                    repository: None,
                    security: false,
                });
            }
            continue;
        };
        let installed = versions
            .iter()
            .map(|p| {
                let from = origins
                    .entry((repos.clone(), p.evr(), p.arch.clone()))
                    .or_insert_with(|| catalogue.offering(repos, p))
                    .clone();
                InstalledVersion {
                    version: p.evr(),
                    arch: p.arch.clone(),
                    from,
                }
            })
            .collect::<Vec<_>>();
        let update = host_updates.iter().find(|u| u.name == name);
        let state = match update {
            Some(_) => PackageState::Outdated,
            None if !repos.is_empty() => PackageState::Current,
            None => PackageState::Unknown,
        };
        rows.push(PackageHost {
            host_id: h.id,
            hostname: h.hostname.clone(),
            site: h.site.clone(),
            installed,
            state,
            candidate: update.map(|u| u.candidate.clone()),
            repository: update.map(|u| u.repository.clone()),
            security: update.is_some_and(|u| u.security),
        });
    }
    Ok(rows)
}
