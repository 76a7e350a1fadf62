//! The fleet's hosts as the kept assessment reads them, and the views
//! over the fleet that CVE pages and filters ask for.
//!
//! Every CVE view needs, per host, only its (package set, OS, kernel) key
//! and its site. [`FleetHosts`] reads exactly that
//! ([`patchwatch_store::Database::host_keys`]: no joins, no JSON, the OS
//! as an id) and numbers each distinct key once, so the views below group
//! hosts by (key number, site id) and look each group's result up once,
//! with no string cloned per host. The store's host keys version says
//! when a kept [`FleetHosts`] is no longer current (the server keeps one
//! until then: `server/src/vulns.rs`).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{OsGroups, kernel};
use patchwatch_reports::OsRelease;
use patchwatch_store::{Database, HostKeys, StoreError};

use crate::fleet::{Arrival, Exposure, FleetAssessment, ResultKey};
use crate::triage::{CveSummary, HostScope, Triage};

/// One host: its id, its site and the number of its key.
#[derive(Debug, Clone, Copy)]
struct FleetHost {
    id: i64,
    site_id: i64,
    key: u32,
}

/// Every host of the fleet, by id, keyed by small numbers (see the module
/// comment), as of one host keys version of the store: a view is current
/// when it was built from the hosts of the version the store has now.
#[derive(Debug, Clone, Default)]
pub struct FleetHosts {
    /// [`patchwatch_store::HostKeys::version`] of the rows read.
    version: i64,
    /// Each distinct (set, OS, kernel), once; a host's `key` indexes it.
    keys: Vec<ResultKey>,
    hosts: Vec<FleetHost>,
    /// Site names by id: exceptions name sites.
    sites: HashMap<i64, String>,
}

impl FleetHosts {
    /// Every host as the store has it now.
    pub async fn read(db: &dyn Database) -> Result<FleetHosts, StoreError> {
        FleetHosts::new(db.host_keys().await?)
    }

    /// Numbers the distinct keys of `rows`. A host naming an OS release
    /// or a site the rows do not hold is a corrupt store.
    pub fn new(rows: HostKeys) -> Result<FleetHosts, StoreError> {
        let os: HashMap<i64, OsRelease> = rows.os_releases.into_iter().collect();
        let sites: HashMap<i64, String> = rows.sites.into_iter().collect();
        let mut numbers: HashMap<(i64, i64, &str), u32> = HashMap::new();
        let mut keys: Vec<ResultKey> = Vec::new();
        let mut hosts = Vec::with_capacity(rows.hosts.len());
        for h in &rows.hosts {
            if !sites.contains_key(&h.site_id) {
                return Err(StoreError::Corrupt(format!(
                    "host {} names site {}, which does not exist",
                    h.id, h.site_id
                )));
            }
            let wanted = (h.package_set_id, h.os_release_id, h.kernel.as_str());
            let key = match numbers.get(&wanted) {
                Some(&n) => n,
                None => {
                    let release = os.get(&h.os_release_id).ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "host {} names OS release {}, which does not exist",
                            h.id, h.os_release_id
                        ))
                    })?;
                    let n = u32::try_from(keys.len()).map_err(|_| {
                        StoreError::Corrupt("more distinct host keys than 2^32".into())
                    })?;
                    keys.push(ResultKey {
                        set_id: h.package_set_id,
                        os: release.clone(),
                        kernel: h.kernel.clone(),
                    });
                    numbers.insert(wanted, n);
                    n
                }
            };
            hosts.push(FleetHost {
                id: h.id,
                site_id: h.site_id,
                key,
            });
        }
        Ok(FleetHosts {
            version: rows.version,
            keys,
            hosts,
            sites,
        })
    }

    /// Keeps only the hosts of the sites `keep` accepts, and their keys:
    /// a one-off view of a few sites (the CLI) then assesses only those.
    pub fn retain_sites(&mut self, keep: impl Fn(i64) -> bool) {
        self.hosts.retain(|h| keep(h.site_id));
        let mut renumbered: Vec<Option<u32>> = vec![None; self.keys.len()];
        let mut keys = Vec::new();
        for h in &mut self.hosts {
            let old = h.key as usize;
            h.key = *renumbered[old].get_or_insert_with(|| {
                keys.push(self.keys[old].clone());
                (keys.len() - 1) as u32
            });
        }
        self.keys = keys;
    }

    /// The store's host keys version these hosts were read at
    /// ([`patchwatch_store::Database::host_keys_version`]): while the store
    /// still answers it, these are every host's current keys.
    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// Distinct (set, OS, kernel) keys.
    pub fn distinct_keys(&self) -> usize {
        self.keys.len()
    }

    /// Every site id the store has (with hosts or not), ascending.
    pub fn site_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.sites.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Each distinct key once, as what a report is assessed by.
    pub(crate) fn arrivals(&self) -> impl Iterator<Item = Arrival> + '_ {
        self.keys.iter().map(|k| Arrival {
            set_id: k.set_id,
            os: k.os.clone(),
            kernel: k.kernel.clone(),
        })
    }

    fn site_name(&self, site_id: i64) -> &str {
        self.sites.get(&site_id).map_or("", String::as_str)
    }

    /// The hosts of the sites `keep` accepts (asked once a site), by id.
    fn kept<'a>(&'a self, keep: &impl Fn(i64) -> bool) -> impl Iterator<Item = &'a FleetHost> {
        let sites: HashMap<i64, bool> = self.sites.keys().map(|&id| (id, keep(id))).collect();
        self.hosts
            .iter()
            .filter(move |h| sites.get(&h.site_id).copied().unwrap_or(false))
    }

    /// The hosts of the sites `keep` accepts, grouped by (key number, site
    /// id): hosts of one group have the same findings and exceptions.
    fn groups(&self, keep: &impl Fn(i64) -> bool) -> HashMap<(u32, i64), Vec<i64>> {
        let mut groups: HashMap<(u32, i64), Vec<i64>> = HashMap::new();
        for h in self.kept(keep) {
            groups.entry((h.key, h.site_id)).or_default().push(h.id);
        }
        groups
    }
}

/// What one call asks of the triage for every exposure, worked out once
/// per CVE number (a fleet has millions of exposures, a few thousand CVEs).
struct TriageMemo<'t> {
    triage: &'t Triage,
    /// Whether any active exception names the CVE.
    has_exceptions: Vec<bool>,
}

impl<'t> TriageMemo<'t> {
    fn new(fleet: &FleetAssessment, triage: &'t Triage) -> TriageMemo<'t> {
        TriageMemo {
            triage,
            has_exceptions: (0..fleet.cves.len() as u32)
                .map(|n| triage.has_exceptions(fleet.cves.name(n)))
                .collect(),
        }
    }
}

/// The severities of a CVE's open findings, one bit each: its tags are
/// those of each severity seen.
fn severity_bit(s: SeverityLevel) -> u8 {
    1 << (s as u8)
}

const SEVERITIES: [SeverityLevel; 6] = [
    SeverityLevel::Unknown,
    SeverityLevel::Negligible,
    SeverityLevel::Low,
    SeverityLevel::Medium,
    SeverityLevel::High,
    SeverityLevel::Critical,
];

impl FleetAssessment {
    /// Every CVE some host of a site `keep` accepts is exposed to (hosts
    /// without a result are left out: catch up first), with tags, and the
    /// findings an exception covers left out of the counts, most severe
    /// and widespread first. Gives what [`crate::summarise`] gives from a
    /// full assessment.
    pub fn summaries(
        &self,
        hosts: &FleetHosts,
        keep: impl Fn(i64) -> bool,
        triage: &Triage,
        groups: &OsGroups,
    ) -> Vec<CveSummary> {
        #[derive(Default)]
        struct Acc {
            severity: SeverityLevel,
            hosts: usize,
            excepted: usize,
            /// Package numbers, sorted, each once.
            packages: Vec<u32>,
            /// [`severity_bit`]s of the open findings.
            severities: u8,
        }
        let memo = TriageMemo::new(self, triage);
        let mut by_cve: Vec<Acc> = Vec::new();
        by_cve.resize_with(self.cves.len(), Acc::default);
        for ((number, site_id), members) in hosts.groups(&keep) {
            let key = &hosts.keys[number as usize];
            let Some(exposures) = self.results.get(key) else {
                continue;
            };
            let count = members.len();
            let site = hosts.site_name(site_id);
            let mut scope: Option<HostScope> = None;
            // Sorted by CVE: each CVE's exposures are consecutive.
            for same_cve in exposures.chunk_by(|a, b| a.cve == b.cve) {
                let cve = same_cve[0].cve;
                let acc = &mut by_cve[cve as usize];
                let mut open = false;
                let mut excepted = false;
                for e in same_cve {
                    if self.is_excepted(e, &memo, &mut scope, (site, groups, &key.os)) {
                        excepted = true;
                        continue;
                    }
                    open = true;
                    acc.severity = acc.severity.max(e.severity);
                    if let Err(at) = acc.packages.binary_search(&e.package) {
                        acc.packages.insert(at, e.package);
                    }
                    acc.severities |= severity_bit(e.severity);
                }
                if open {
                    acc.hosts += count;
                } else if excepted {
                    acc.excepted += count;
                }
            }
        }
        let mut out: Vec<CveSummary> = by_cve
            .into_iter()
            .enumerate()
            .filter(|(_, acc)| acc.hosts > 0 || acc.excepted > 0)
            .map(|(cve, acc)| {
                let name = self.cves.name(cve as u32);
                let packages: BTreeSet<&str> = acc
                    .packages
                    .iter()
                    .map(|&n| self.packages[n as usize].name.as_str())
                    .collect();
                let tags: BTreeSet<String> = SEVERITIES
                    .into_iter()
                    .filter(|&s| acc.severities & severity_bit(s) != 0)
                    .flat_map(|s| triage.tags_for(name, s))
                    .collect();
                CveSummary {
                    cve: name.to_owned(),
                    severity: acc.severity,
                    hosts: acc.hosts,
                    packages: packages.into_iter().map(str::to_owned).collect(),
                    tags: tags.into_iter().collect(),
                    excepted_hosts: acc.excepted,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (b.severity, b.hosts)
                .cmp(&(a.severity, a.hosts))
                .then_with(|| a.cve.cmp(&b.cve))
        });
        out
    }

    /// Whether an exception covers exposure `e` on a host of this site and
    /// OS; the host's scope is built on first need.
    fn is_excepted(
        &self,
        e: &Exposure,
        memo: &TriageMemo<'_>,
        scope: &mut Option<HostScope>,
        (site, groups, os): (&str, &OsGroups, &OsRelease),
    ) -> bool {
        if !memo.has_exceptions[e.cve as usize] {
            return false;
        }
        let name = self.cves.name(e.cve);
        let p = &self.packages[e.package as usize];
        let scope = scope.get_or_insert_with(|| HostScope::new(site, groups, os));
        let matched = if e.by_source {
            kernel::source_alias(&p.source_name)
        } else {
            Cow::Borrowed(p.name.as_str())
        };
        memo.triage
            .exception_matching(scope, name, &p.name, &matched, &p.evr())
            .is_some()
    }

    /// The ids (ascending) of the hosts of the sites `keep` accepts with
    /// any kept finding of CVE `cve`, open or covered by an exception: the
    /// hosts a CVE page lists (and pages) before assessing only the shown
    /// ones in full. Hosts without a result are left out, as in
    /// [`FleetAssessment::summaries`].
    pub fn hosts_with_cve(
        &self,
        hosts: &FleetHosts,
        keep: impl Fn(i64) -> bool,
        cve: &str,
    ) -> Vec<i64> {
        let Some(&wanted) = self.cves.ids.get(cve) else {
            return Vec::new();
        };
        // Hosts sharing a key share the answer: each key is looked up once.
        let has: Vec<bool> = hosts
            .keys
            .iter()
            .map(|key| {
                self.results.get(key).is_some_and(|exposures| {
                    exposures.binary_search_by(|e| e.cve.cmp(&wanted)).is_ok()
                })
            })
            .collect();
        hosts
            .kept(&keep)
            .filter(|h| has[h.key as usize])
            .map(|h| h.id)
            .collect()
    }

    /// The ids (ascending) of the hosts of the sites `keep` accepts with an
    /// open finding, one no exception covers, of CVE `cve` and/or carrying
    /// a CVE tag (`tag`): the hosts list's CVE filters, from the kept
    /// results (catch up first) instead of assessing the hosts again.
    /// Hosts without a result are left out, as in
    /// [`FleetAssessment::summaries`].
    pub fn hosts_exposed(
        &self,
        hosts: &FleetHosts,
        keep: impl Fn(i64) -> bool,
        cve: Option<&str>,
        tag: Option<TagWanted<'_>>,
        triage: &Triage,
        groups: &OsGroups,
    ) -> Vec<i64> {
        let wanted_cve = match cve {
            Some(c) => match self.cves.ids.get(c) {
                Some(&id) => Some(id),
                // No kept finding names it: no host is exposed.
                None => return Vec::new(),
            },
            None => None,
        };
        let memo = TriageMemo::new(self, triage);
        // Whether (CVE, severity) carries the tag, worked out once each:
        // by CVE number and severity, no hashing per exposure.
        let mut tagged: Vec<Option<bool>> = vec![None; self.cves.len() * SEVERITIES.len()];
        let mut out = Vec::new();
        for ((number, site_id), members) in hosts.groups(&keep) {
            let key = &hosts.keys[number as usize];
            let Some(exposures) = self.results.get(key) else {
                continue;
            };
            // Sorted by CVE: one CVE's exposures are a range.
            let exposures = match wanted_cve {
                Some(c) => {
                    let from = exposures.partition_point(|e| e.cve < c);
                    let to = exposures.partition_point(|e| e.cve <= c);
                    &exposures[from..to]
                }
                None => &exposures[..],
            };
            let site = hosts.site_name(site_id);
            let mut scope: Option<HostScope> = None;
            let mut exposed = false;
            for e in exposures {
                if let Some(t) = tag {
                    let slot = &mut tagged[e.cve as usize * SEVERITIES.len() + e.severity as usize];
                    let has = *slot.get_or_insert_with(|| {
                        let tags = triage.tags_for(self.cves.name(e.cve), e.severity);
                        match t {
                            TagWanted::Any => !tags.is_empty(),
                            TagWanted::Named(t) => tags.iter().any(|x| x == t),
                        }
                    });
                    if !has {
                        continue;
                    }
                }
                if !self.is_excepted(e, &memo, &mut scope, (site, groups, &key.os)) {
                    exposed = true;
                    break;
                }
            }
            if exposed {
                out.extend(members);
            }
        }
        out.sort_unstable();
        out
    }
}

/// The CVE tag a hosts filter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagWanted<'a> {
    /// Any enabled tag (the dashboard's "vulnerable to a tagged CVE").
    Any,
    Named(&'a str),
}

#[cfg(test)]
mod tests {
    use patchwatch_store::HostKey;

    use super::*;

    fn host(id: i64, site_id: i64, set: i64, os: i64, kernel: &str) -> HostKey {
        HostKey {
            id,
            site_id,
            package_set_id: set,
            os_release_id: os,
            kernel: kernel.into(),
        }
    }

    fn os(distro: &str, release: &str) -> OsRelease {
        OsRelease {
            distro: distro.into(),
            release: release.into(),
        }
    }

    fn rows(hosts: Vec<HostKey>) -> HostKeys {
        HostKeys {
            version: 7,
            hosts,
            os_releases: vec![(1, os("debian", "12")), (2, os("almalinux", "9.5"))],
            sites: vec![(10, "A".into()), (20, "B".into())],
        }
    }

    #[test]
    fn each_distinct_key_is_numbered_once() {
        let fleet = FleetHosts::new(rows(vec![
            host(1, 10, 5, 1, "6.1"),
            host(2, 20, 5, 1, "6.1"),
            host(3, 10, 5, 2, "6.1"),
            host(4, 10, 5, 1, "6.2"),
            host(5, 20, 6, 1, "6.1"),
            host(6, 20, 5, 1, "6.1"),
        ]))
        .unwrap();
        assert_eq!((fleet.len(), fleet.distinct_keys()), (6, 4));
        assert_eq!(fleet.hosts[5].key, fleet.hosts[0].key);
        assert_eq!(fleet.keys[1].os, os("almalinux", "9.5"));
        assert_eq!(fleet.site_ids(), [10, 20]);
        assert_eq!(fleet.version(), 7);
        let groups = fleet.groups(&|_| true);
        assert_eq!(groups[&(0, 20)], [2, 6]);
        assert_eq!(fleet.groups(&|site| site == 10).len(), 3);

        let mut site_b = fleet.clone();
        site_b.retain_sites(|site| site == 20);
        assert_eq!((site_b.len(), site_b.distinct_keys()), (3, 2));
        assert_eq!(
            site_b.arrivals().map(|a| a.set_id).collect::<Vec<_>>(),
            [5, 6]
        );
    }

    #[test]
    fn unknown_os_or_site_is_a_corrupt_store() {
        for bad in [host(1, 10, 5, 3, "6.1"), host(1, 30, 5, 1, "6.1")] {
            assert!(matches!(
                FleetHosts::new(rows(vec![bad])),
                Err(StoreError::Corrupt(_))
            ));
        }
    }
}
