//! Updates for many hosts at once (`updates list`, `/api/v1/updates`):
//! hosts are grouped by (package set, repository set, architecture), each
//! distinct group is computed once and its result shared, as the
//! vulnerability assessment shares results between identical hosts.

use std::collections::HashMap;
use std::sync::Arc;

use patchwatch_assess::OsGroups;
use patchwatch_store::{Database, HostFilter, HostSummary, StoreError};
use serde::Serialize;

use crate::compute::{Catalogue, HostUpdate, Job};

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
    let mut distinct: HashMap<(i64, &[usize], &str), usize> = HashMap::new();
    let mut order: Vec<(i64, &[usize], &str)> = Vec::new();
    for (h, repos) in &keyed {
        if repos.is_empty() {
            continue;
        }
        let key = (h.package_set_id, repos.as_slice(), h.arch.as_str());
        distinct.entry(key).or_insert_with(|| {
            order.push(key);
            order.len() - 1
        });
    }
    let mut sets: HashMap<i64, Vec<patchwatch_reports::Package>> = HashMap::new();
    for &(set_id, _, _) in &order {
        if let std::collections::hash_map::Entry::Vacant(e) = sets.entry(set_id) {
            e.insert(db.package_set(set_id).await?);
        }
    }
    let jobs: Vec<Job<'_>> = order
        .iter()
        .map(|&(set_id, repos, arch)| Job {
            repositories: repos.to_vec(),
            installed: &sets[&set_id],
            arch: arch.to_owned(),
        })
        .collect();
    let results: Vec<Arc<Vec<HostUpdate>>> =
        catalogue.compute(&jobs).into_iter().map(Arc::new).collect();
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
                results[distinct[&key]].clone()
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
        distinct: order.len(),
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
