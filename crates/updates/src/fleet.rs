//! Updates for many hosts at once (`updates list`, `/api/v1/updates`):
//! hosts are grouped by (package set, repository set, architecture), each
//! distinct group is computed once and its result shared, as the
//! vulnerability assessment shares results between identical hosts.

use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostFilter, HostSummary, StoreError};
use serde::Serialize;

use crate::compute::{Catalogue, HostUpdate};

/// (package set id, repository set, architecture): what a result is
/// shared by.
type ResultKey<'a> = (i64, &'a [usize], &'a str);

/// One host's updates; hosts with the same packages and repositories
/// share the `updates` list.
#[derive(Debug, Clone)]
pub struct HostUpdates {
    pub host_id: i64,
    pub hostname: String,
    pub site: String,
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
    /// Distinct (package set, repository set, architecture) computed.
    pub distinct: usize,
}

/// Every host `filter` selects (the caller's scope included), with its
/// updates.
pub async fn fleet_updates(
    db: &dyn Database,
    filter: &HostFilter,
    catalogue: &Catalogue,
    groups: &OsGroups,
) -> Result<FleetUpdates, StoreError> {
    let hosts: Vec<HostSummary> = db.hosts(filter).await?.items;
    let mut keyed = Vec::with_capacity(hosts.len());
    for h in &hosts {
        // The repositories a host reports are in its details only.
        let reported = match db.host(h.id).await? {
            Some(detail) => detail.repositories,
            None => continue,
        };
        let repos = catalogue.for_host(&reported, &h.os, groups);
        keyed.push((h, repos));
    }
    // Distinct package sets per (repository set, arch).
    let mut groups: HashMap<(&[usize], &str), Vec<i64>> = HashMap::new();
    for (h, repos) in &keyed {
        if !repos.is_empty() {
            groups
                .entry((repos.as_slice(), h.arch.as_str()))
                .or_default()
                .push(h.package_set_id);
        }
    }
    let mut set_ids: Vec<i64> = Vec::new();
    for sets in groups.values_mut() {
        sets.sort_unstable();
        sets.dedup();
        set_ids.extend(sets.iter().copied());
    }
    set_ids.sort_unstable();
    set_ids.dedup();
    // Two queries for the whole fleet: the sets as package ids, and each
    // distinct package once.
    let members: HashMap<i64, Vec<i64>> = db
        .package_set_members(&set_ids)
        .await?
        .into_iter()
        .collect();
    let mut package_ids: Vec<i64> = members.values().flatten().copied().collect();
    package_ids.sort_unstable();
    package_ids.dedup();
    let packages = db.packages_by_id(&package_ids).await?;
    let mut results: HashMap<ResultKey<'_>, Arc<Vec<HostUpdate>>> = HashMap::new();
    for (&(repos, arch), sets) in &groups {
        let sets: Vec<(i64, Vec<i64>)> = sets
            .iter()
            .map(|id| (*id, members.get(id).cloned().unwrap_or_default()))
            .collect();
        let computed = catalogue.compute_sets(repos, arch, &packages, &sets);
        for ((set_id, _), updates) in sets.iter().zip(computed) {
            results.insert((*set_id, repos, arch), Arc::new(updates));
        }
    }
    let empty = Arc::new(Vec::new());
    let names = |repos: &[usize]| {
        repos
            .iter()
            .map(|&i| catalogue.repositories()[i].name.clone())
            .collect()
    };
    let out = keyed
        .iter()
        .map(|(h, repos)| {
            let updates = if repos.is_empty() {
                empty.clone()
            } else {
                let key = (h.package_set_id, repos.as_slice(), h.arch.as_str());
                results.get(&key).cloned().unwrap_or_else(|| empty.clone())
            };
            HostUpdates {
                host_id: h.id,
                hostname: h.hostname.clone(),
                site: h.site.clone(),
                repositories: names(repos),
                updates,
            }
        })
        .collect();
    Ok(FleetUpdates {
        hosts: out,
        distinct: results.len(),
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
