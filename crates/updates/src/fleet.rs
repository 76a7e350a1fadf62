//! Updates for many hosts at once (`updates list`, `/api/v1/updates`):
//! hosts are grouped by (package set, repository set, architecture), each
//! distinct group is computed once and its result shared, as the
//! vulnerability assessment shares results between identical hosts.

use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostDetail, HostFilter, StoreError};
use serde::Serialize;

use crate::compute::HostUpdate;
use crate::kept::{FleetHost, KeptUpdates};

/// One host's updates; hosts with the same packages and repositories
/// share the `updates` list.
#[derive(Debug, Clone)]
pub struct HostUpdates {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
    pub package_set_id: i64,
    /// Names of the repositories used; empty when none applies.
    pub repositories: Vec<String>,
    pub updates: Arc<Vec<HostUpdate>>,
}

impl HostUpdates {
    pub fn security(&self) -> usize {
        self.updates.iter().filter(|u| u.security).count()
    }
}

/// What [`fleet_updates`] computed.
#[derive(Debug, Clone)]
pub struct FleetUpdates {
    pub hosts: Vec<HostUpdates>,
    /// Distinct (package set, repository set, architecture) results kept.
    pub distinct: usize,
}

/// Every host `filter` selects (the caller's scope included), with its
/// updates from `kept` (results it lacks are computed and kept). Three
/// kinds of bulk read: the hosts with their reported repositories, then
/// the package sets and packages not kept yet.
pub async fn fleet_updates(
    db: &dyn Database,
    filter: &HostFilter,
    kept: &mut KeptUpdates,
    groups: &OsGroups,
) -> Result<FleetUpdates, StoreError> {
    let hosts: Vec<HostDetail> = db.host_details(filter).await?;
    let fleet_hosts: Vec<FleetHost> = hosts.iter().map(|h| kept.fleet_host(h, groups)).collect();
    kept.load_missing(db, &fleet_hosts).await?;
    let updates = kept.resolve(&fleet_hosts);
    let catalogue = kept.catalogue();
    let out = hosts
        .into_iter()
        .zip(fleet_hosts)
        .zip(updates)
        .map(|((h, f), updates)| HostUpdates {
            host_id: h.summary.id,
            hostname: h.summary.hostname,
            site: h.summary.site,
            package_set_id: h.summary.package_set_id,
            repositories: f
                .repositories
                .iter()
                .map(|&i| catalogue.repositories()[i].name.clone())
                .collect(),
            updates,
        })
        .collect();
    Ok(FleetUpdates {
        hosts: out,
        distinct: kept.len(),
    })
}

/// Per package name: how many hosts have an update of it pending, and how
/// many of those are security updates; most hosts first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageCount {
    pub name: String,
    pub hosts: usize,
    pub security_hosts: usize,
}

pub fn package_counts(fleet: &FleetUpdates, security_only: bool) -> Vec<PackageCount> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for h in &fleet.hosts {
        let mut seen: Vec<(&str, bool)> = h
            .updates
            .iter()
            .filter(|u| !security_only || u.security)
            .map(|u| (u.name.as_str(), u.security))
            .collect();
        seen.sort_unstable();
        seen.dedup_by(|a, b| {
            a.0 == b.0 && {
                b.1 |= a.1;
                true
            }
        });
        for (name, security) in seen {
            let c = counts.entry(name).or_default();
            c.0 += 1;
            c.1 += usize::from(security);
        }
    }
    let mut out: Vec<PackageCount> = counts
        .into_iter()
        .map(|(name, (hosts, security_hosts))| PackageCount {
            name: name.to_owned(),
            hosts,
            security_hosts,
        })
        .collect();
    out.sort_by(|a, b| {
        (b.security_hosts, b.hosts, &a.name).cmp(&(a.security_hosts, a.hosts, &b.name))
    });
    out
}
