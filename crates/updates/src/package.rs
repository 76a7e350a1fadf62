//! One package across the fleet (`patchwatch packages show`, the web UI's
//! package page): which version each host runs, and whether its
//! repositories offer a newer one.

use std::collections::HashMap;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostFilter, StoreError};
use serde::Serialize;

use crate::compute::Catalogue;
use crate::fleet::{HostUpdates, fleet_updates};

/// Where one host stands with one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageState {
    /// A repository of the host offers a newer version.
    Outdated,
    Current,
    /// The host does not have the package.
    Missing,
    /// No repository applies to the host: nobody knows.
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

/// One host's view of the package.
#[derive(Debug, Clone, Serialize)]
pub struct PackageHost {
    #[serde(skip)]
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    /// Installed `version arch` entries (several for multi-arch or
    /// installonly packages); empty when the host lacks the package.
    pub installed: Vec<String>,
    pub state: PackageState,
    pub candidate: Option<String>,
    pub repository: Option<String>,
    pub security: bool,
}

/// Every host `filter` selects (the caller's scope goes in it) with the
/// package called `name`: two bulk reads for the sets, and the fleet's
/// updates computed once per distinct (set, repositories, arch).
/// `installed_only` leaves out the hosts that lack it.
pub async fn package_hosts(
    db: &dyn Database,
    filter: &HostFilter,
    catalogue: &Catalogue,
    groups: &OsGroups,
    name: &str,
    installed_only: bool,
) -> Result<Vec<PackageHost>, StoreError> {
    let hosts = db.hosts(filter).await?.items;
    let fleet = fleet_updates(db, filter, catalogue, groups).await?;
    let mut set_ids: Vec<i64> = hosts.iter().map(|h| h.package_set_id).collect();
    set_ids.sort_unstable();
    set_ids.dedup();
    let members = db.package_set_members(&set_ids).await?;
    let mut ids: Vec<i64> = members
        .iter()
        .flat_map(|(_, m)| m.iter().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let named: HashMap<i64, String> = db
        .packages_by_id(&ids)
        .await?
        .into_iter()
        .filter(|(_, p)| p.name == name)
        .map(|(id, p)| (id, format!("{} {}", p.evr(), p.arch)))
        .collect();
    let by_set: HashMap<i64, Vec<String>> = members
        .iter()
        .map(|(set, m)| {
            (
                *set,
                m.iter().filter_map(|id| named.get(id).cloned()).collect(),
            )
        })
        .collect();
    let updates: HashMap<i64, &HostUpdates> = fleet.hosts.iter().map(|h| (h.host_id, h)).collect();
    let mut rows = Vec::new();
    for h in &hosts {
        let versions = by_set.get(&h.package_set_id).cloned().unwrap_or_default();
        if installed_only && versions.is_empty() {
            continue;
        }
        let host_updates = updates.get(&h.id);
        let update = host_updates.and_then(|u| u.updates.iter().find(|u| u.name == name));
        let state = match (versions.is_empty(), update, host_updates) {
            (true, _, _) => PackageState::Missing,
            (false, Some(_), _) => PackageState::Outdated,
            (false, None, Some(u)) if !u.repositories.is_empty() => PackageState::Current,
            _ => PackageState::Unknown,
        };
        rows.push(PackageHost {
            host_id: h.id,
            hostname: h.hostname.clone(),
            site: h.site.clone(),
            installed: versions,
            state,
            candidate: update.map(|u| u.candidate.clone()),
            repository: update.map(|u| u.repository.clone()),
            security: update.is_some_and(|u| u.security),
        });
    }
    Ok(rows)
}
