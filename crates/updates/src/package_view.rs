//! The fleet view of one package (Pakiti v2's Outdated/Missing page;
//! `packages show`, `GET /api/v1/packages/{name}`): which hosts run which
//! version from which repository, who is outdated, who lacks it.

use std::collections::HashMap;

use patchwatch_assess::OsGroups;
use patchwatch_reports::Package;
use patchwatch_store::{Database, HostFilter, StoreError};
use serde::Serialize;

use crate::fleet::fleet_updates;
use crate::kept::KeptUpdates;

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

/// The view of package `name` over every host `filter` selects (the
/// caller's scope included); `installed_only` leaves out the hosts that
/// lack it. Bulk reads only: the hosts, their sets and the packages.
pub async fn package_view(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
    name: &str,
    installed_only: bool,
) -> Result<Vec<PackageHost>, StoreError> {
    let fleet = fleet_updates(db, filter, kept, groups).await?;
    // fleet_updates keeps the sets of hosts with repositories; the others
    // are shown too (as unknown), so theirs are read once and kept.
    let set_ids: Vec<i64> = fleet.hosts.iter().map(|h| h.package_set_id).collect();
    kept.load_sets(db, &set_ids).await?;
    let by_set: HashMap<i64, Vec<Package>> = kept
        .named_in_sets(name, set_ids.iter().copied())
        .into_iter()
        .map(|(set, packages)| (set, packages.into_iter().cloned().collect()))
        .collect();
    let catalogue = kept.catalogue().clone();
    let position: HashMap<&str, usize> = catalogue
        .repositories()
        .iter()
        .enumerate()
        .map(|(i, r)| (r.name.as_str(), i))
        .collect();
    let mut origins: HashMap<(Vec<usize>, String, String), Vec<String>> = HashMap::new();
    let mut rows = Vec::new();
    for h in &fleet.hosts {
        let versions: &[Package] = by_set.get(&h.package_set_id).map_or(&[], Vec::as_slice);
        if installed_only && versions.is_empty() {
            continue;
        }
        let repos: Vec<usize> = h
            .repositories
            .iter()
            .filter_map(|n| position.get(n.as_str()).copied())
            .collect();
        let installed = versions
            .iter()
            .map(|p| {
                let from = origins
                    .entry((repos.clone(), p.evr(), p.arch.clone()))
                    .or_insert_with(|| catalogue.offering(&repos, p))
                    .clone();
                InstalledVersion {
                    version: p.evr(),
                    arch: p.arch.clone(),
                    from,
                }
            })
            .collect::<Vec<_>>();
        let update = h.updates.iter().find(|u| u.name == name);
        let state = match (installed.is_empty(), update) {
            (true, _) => PackageState::Missing,
            (false, Some(_)) => PackageState::Outdated,
            (false, None) if !h.repositories.is_empty() => PackageState::Current,
            _ => PackageState::Unknown,
        };
        rows.push(PackageHost {
            host_id: h.host_id,
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
