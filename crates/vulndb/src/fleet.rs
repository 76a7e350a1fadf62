//! The fleet's assessment, kept between requests and brought up to date
//! incrementally.
//!
//! Results are kept per distinct (package set, OS, running kernel), never
//! per host: a thousand identical nodes share one. What is kept of each is
//! what fleet-wide views need (every exposed finding's CVE, package and
//! severity: 12 bytes a finding); a host's full findings with their
//! explanations are recomputed on request, which takes about 100 µs.
//!
//! The package sets are kept too, compactly: every distinct package once,
//! each set as a list of package numbers. So a feed update needs nothing
//! from the store: the changed advisories name packages
//! ([`patchwatch_assess::AdvisoryIndex::names_touched`]), and in each set only the packages of
//! those names are matched again ([`FleetAssessment::reassess_touched`]);
//! matching is per package, so the rest of its findings stay exact.
//! A new report is assessed on arrival: [`FleetAssessment::catch_up`]
//! reads the sets it has not seen and assesses every host whose key has no
//! result yet.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patchwatch_advisories::SeverityLevel;
use patchwatch_assess::{
    Finding, InstalledRef, OsGroups, PackageSet, TouchedNames, assess_refs_in_scopes, kernel,
    lookup_names,
};
use patchwatch_reports::{OsRelease, Package};
use patchwatch_store::{Database, StoreError};
use serde::Serialize;

use crate::feed::LoadedIndex;
use crate::fleet_hosts::FleetHosts;
use crate::oval_feeds::oval_set_findings;
use crate::triage::{HostScope, Triage};

/// Sets read from the store per query.
const SETS_PER_READ: usize = 1_000;
/// Packages read from the store per query.
const PACKAGES_PER_READ: usize = 10_000;

/// What one assessment is keyed by. The OS and kernel are kept whole (not
/// the index's data scopes) so keys stay valid when the index is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ResultKey {
    pub(crate) set_id: i64,
    pub(crate) os: OsRelease,
    pub(crate) kernel: String,
}

/// What a stored report is assessed by: its package set, normalised OS
/// and running kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub set_id: i64,
    pub os: OsRelease,
    pub kernel: String,
}

/// One exposed finding: interned CVE, package number, severity, and
/// whether the statement matched the package's source name (exceptions
/// may name either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Exposure {
    pub(crate) cve: u32,
    pub(crate) package: u32,
    pub(crate) severity: SeverityLevel,
    pub(crate) by_source: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Interner {
    names: Vec<Box<str>>,
    pub(crate) ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(Box::from(s));
        self.ids.insert(Box::from(s), id);
        id
    }

    pub(crate) fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// How many names are interned (numbers run from 0 to this).
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// One CVE a host is exposed to (not excepted), how severe, and whether
/// a tag names it; `cve` is a number into [`OpenCves::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenCve {
    pub cve: u32,
    /// The most severe of its findings on the host.
    pub severity: SeverityLevel,
    pub tagged: bool,
}

/// What [`FleetAssessment::open_cves`] found, a list per key asked.
#[derive(Debug, Clone, Default)]
pub struct OpenCves {
    pub names: Vec<String>,
    pub per_key: Vec<Vec<OpenCve>>,
}

impl OpenCves {
    pub fn name(&self, c: &OpenCve) -> &str {
        &self.names[c.cve as usize]
    }
}

/// What an update did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UpdateStats {
    /// Hosts looked at.
    pub hosts: usize,
    /// Distinct (set, OS, kernel) keys assessed, wholly or in part.
    pub assessed: usize,
    /// Packages matched against the index, over those keys.
    pub packages_matched: usize,
    /// Distinct sets read from the store for it.
    pub sets_loaded: usize,
    /// Exposed findings the assessed keys have now.
    pub findings: usize,
    #[serde(serialize_with = "seconds")]
    pub load: Duration,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// The kept assessment of the fleet, and the sets it was made of.
#[derive(Debug, Default)]
pub struct FleetAssessment {
    pub(crate) cves: Interner,
    /// Every distinct package of every set seen, once.
    pub(crate) packages: Vec<Package>,
    /// Store package id -> package number.
    numbers: HashMap<i64, u32>,
    /// Binary, source and kernel-alias names -> package numbers.
    by_name: HashMap<Box<str>, Vec<u32>>,
    sets: HashMap<i64, Arc<[u32]>>,
    pub(crate) results: HashMap<ResultKey, Vec<Exposure>>,
    /// Bumped whenever `results` change: what caches of views over the
    /// assessment are keyed by.
    changes: u64,
}

/// One unit of matching work: a key, and the packages of it to match.
struct Job<'a> {
    key: &'a ResultKey,
    packages: Vec<&'a Package>,
    /// The whole set, for OVAL feeds: their definitions are evaluated
    /// against a whole host, not package by package.
    members: &'a [u32],
}

impl FleetAssessment {
    pub fn new() -> FleetAssessment {
        FleetAssessment::default()
    }

    /// Distinct keys with a result.
    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn is_empty(&self) -> bool {
        self.results.is_empty()
    }

    /// A number that grows whenever the kept results change (a key
    /// assessed, findings re-matched, everything forgotten), and only
    /// then: a view computed from them stays exact while it is unchanged.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Distinct sets and packages kept.
    pub fn kept(&self) -> (usize, usize) {
        (self.sets.len(), self.packages.len())
    }

    /// Forgets every result (the index changed in a way names cannot
    /// describe, such as OS groups).
    pub fn invalidate_all(&mut self) {
        self.results.clear();
        self.changes += 1;
    }

    /// After a feed update: in every kept result, matches again only the
    /// packages of the names the changed advisories give (now or before),
    /// against the new index. CPU work on memory alone; run it off the
    /// async threads.
    pub fn reassess_touched(
        &mut self,
        loaded: &LoadedIndex,
        touched: &TouchedNames,
    ) -> UpdateStats {
        let start = Instant::now();
        let mut hit: HashSet<u32> = HashSet::new();
        for name in touched.source.iter().chain(touched.binary.iter()) {
            if let Some(numbers) = self.by_name.get(name.as_str()) {
                hit.extend(numbers.iter().copied());
            }
        }
        let mut stats = UpdateStats::default();
        if hit.is_empty() {
            stats.elapsed = start.elapsed();
            return stats;
        }
        let keys: Vec<ResultKey> = self.results.keys().cloned().collect();
        let jobs: Vec<Job<'_>> = keys
            .iter()
            .filter_map(|key| {
                let members = self.sets.get(&key.set_id)?;
                let packages: Vec<&Package> = members
                    .iter()
                    .filter(|n| hit.contains(n))
                    .map(|&n| &self.packages[n as usize])
                    .collect();
                (!packages.is_empty()).then_some(Job {
                    key,
                    packages,
                    members,
                })
            })
            .collect();
        let results = run_jobs(loaded, &self.packages, &jobs, true);
        stats.packages_matched = jobs.iter().map(|j| j.packages.len()).sum();
        let done: Vec<(ResultKey, Vec<Finding>)> =
            jobs.iter().map(|j| j.key.clone()).zip(results).collect();
        drop(jobs);
        if !done.is_empty() {
            self.changes += 1;
        }
        for (key, findings) in done {
            let fresh = self.exposures(&findings);
            if let Some(kept) = self.results.get_mut(&key) {
                kept.retain(|e| !hit.contains(&e.package));
                kept.extend(fresh);
                kept.sort_unstable();
                kept.dedup();
                stats.findings += kept.len();
            }
            stats.assessed += 1;
        }
        stats.elapsed = start.elapsed();
        log_stats(&stats, "feed changes re-assessed in the kept sets");
        stats
    }

    /// Reads the sets not kept yet and assesses every host whose (set,
    /// OS, kernel) has no result.
    pub async fn catch_up(
        &mut self,
        db: &dyn Database,
        loaded: &Arc<LoadedIndex>,
        hosts: &FleetHosts,
    ) -> Result<UpdateStats, StoreError> {
        let mut stats = self.assess_arrivals(db, loaded, hosts.arrivals()).await?;
        stats.hosts = hosts.len();
        Ok(stats)
    }

    /// [`FleetAssessment::catch_up`] for reports just stored, without
    /// listing every host: assesses each (set, OS, kernel) with no result.
    pub async fn assess_arrivals(
        &mut self,
        db: &dyn Database,
        loaded: &Arc<LoadedIndex>,
        arrivals: impl IntoIterator<Item = Arrival>,
    ) -> Result<UpdateStats, StoreError> {
        let start = Instant::now();
        let mut missing: Vec<ResultKey> = Vec::new();
        let mut seen: HashSet<ResultKey> = HashSet::new();
        let mut hosts = 0;
        for a in arrivals {
            hosts += 1;
            let key = ResultKey {
                set_id: a.set_id,
                os: a.os,
                kernel: a.kernel,
            };
            if !self.results.contains_key(&key) && seen.insert(key.clone()) {
                missing.push(key);
            }
        }
        let mut unread: Vec<i64> = missing
            .iter()
            .map(|k| k.set_id)
            .filter(|id| !self.sets.contains_key(id))
            .collect();
        unread.sort_unstable();
        unread.dedup();
        let sets_loaded = unread.len();
        for chunk in unread.chunks(SETS_PER_READ) {
            self.read_sets(db, chunk).await?;
        }
        // A set deleted since the host list was read (a pruned host) has
        // nothing to assess.
        missing.retain(|k| self.sets.contains_key(&k.set_id));
        let load = start.elapsed();
        // The matching is CPU work: off the async threads, taking the
        // state along and bringing it back.
        let mut me = std::mem::take(self);
        let loaded = loaded.clone();
        let (me, mut stats) = tokio::task::spawn_blocking(move || {
            let stats = me.assess_keys(&loaded, missing);
            (me, stats)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("assessment task failed: {e}")))?;
        *self = me;
        stats.hosts = hosts;
        stats.sets_loaded = sets_loaded;
        stats.load = load;
        stats.elapsed = start.elapsed();
        if stats.assessed > 0 {
            log_stats(&stats, "new package sets assessed");
        }
        Ok(stats)
    }

    /// Reads sets as package ids, and the packages not kept yet: two
    /// queries for many sets, not one a set.
    async fn read_sets(&mut self, db: &dyn Database, set_ids: &[i64]) -> Result<(), StoreError> {
        let members = db.package_set_members(set_ids).await?;
        let mut unknown: Vec<i64> = members
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .filter(|id| !self.numbers.contains_key(id))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        for chunk in unknown.chunks(PACKAGES_PER_READ) {
            let found = db.packages_by_id(chunk).await?;
            if found.len() != chunk.len() {
                return Err(StoreError::Corrupt(format!(
                    "{} of {} packages named by package sets are missing",
                    chunk.len() - found.len(),
                    chunk.len()
                )));
            }
            for (id, p) in found {
                let n = self.packages.len() as u32;
                let mut names = lookup_names(&p);
                names.sort_unstable();
                names.dedup();
                for name in names {
                    self.by_name.entry(name.into()).or_default().push(n);
                }
                self.packages.push(p);
                self.numbers.insert(id, n);
            }
        }
        for (set_id, ids) in members {
            let mut numbers: Vec<u32> = ids.iter().map(|id| self.numbers[id]).collect();
            numbers.sort_unstable();
            self.sets.insert(set_id, numbers.into());
        }
        Ok(())
    }

    /// Assesses the keys in full (their sets are kept).
    fn assess_keys(&mut self, loaded: &LoadedIndex, keys: Vec<ResultKey>) -> UpdateStats {
        let mut stats = UpdateStats::default();
        let jobs: Vec<Job<'_>> = keys
            .iter()
            .map(|key| {
                let members: &[u32] = self.sets.get(&key.set_id).map_or(&[], |m| &m[..]);
                Job {
                    key,
                    packages: members
                        .iter()
                        .map(|&n| &self.packages[n as usize])
                        .collect(),
                    members,
                }
            })
            .collect();
        stats.packages_matched = jobs.iter().map(|j| j.packages.len()).sum();
        let results = run_jobs(loaded, &self.packages, &jobs, false);
        drop(jobs);
        if !keys.is_empty() {
            self.changes += 1;
        }
        for (key, findings) in keys.into_iter().zip(results) {
            let mut exposures = self.exposures(&findings);
            exposures.sort_unstable();
            exposures.dedup();
            stats.findings += exposures.len();
            stats.assessed += 1;
            self.results.insert(key, exposures);
        }
        stats
    }

    /// The exposed findings, interned. Findings name their package by
    /// name, arch and version; the number is looked up through the key.
    fn exposures(&mut self, findings: &[Finding]) -> Vec<Exposure> {
        let mut out = Vec::with_capacity(findings.len());
        // A package's findings share one InstalledRef: look it up once.
        let mut last: Option<(*const InstalledRef, Option<u32>)> = None;
        for f in findings.iter().filter(|f| f.is_exposed()) {
            let ptr = Arc::as_ptr(f.installed_ref());
            let number = match last {
                Some((p, n)) if p == ptr => n,
                _ => {
                    let n = self.number_of(f);
                    last = Some((ptr, n));
                    n
                }
            };
            let Some(package) = number else {
                continue;
            };
            out.push(Exposure {
                cve: self.cves.id(f.cve()),
                package,
                severity: f.severity(),
                by_source: f.matched_name() != f.package(),
            });
        }
        out
    }

    fn number_of(&self, f: &Finding) -> Option<u32> {
        let candidates = self.by_name.get(f.package())?;
        candidates.iter().copied().find(|&n| {
            let p = &self.packages[n as usize];
            p.name == f.package() && p.arch == f.arch() && p.evr() == f.installed()
        })
    }

    /// For each (package set, OS, kernel) and site: the CVEs a host of
    /// that site running it is exposed to, exceptions applied, each with
    /// its severity and whether a tag names it (the web UI's dashboard and
    /// trends). CVEs are numbers into `names`, so that thousands of keys
    /// cost no string each. A key without a result (assess it first, e.g.
    /// with [`FleetAssessment::assess_arrivals`]) has an empty list.
    pub fn open_cves(
        &self,
        keys: &[(Arrival, String)],
        triage: &Triage,
        groups: &OsGroups,
    ) -> OpenCves {
        // Whether a tag names (CVE, severity), asked once a pair.
        let mut tagged_memo: HashMap<(u32, SeverityLevel), bool> = HashMap::new();
        let per_key = keys
            .iter()
            .map(|(a, site)| {
                let key = ResultKey {
                    set_id: a.set_id,
                    os: a.os.clone(),
                    kernel: a.kernel.clone(),
                };
                let Some(exposures) = self.results.get(&key) else {
                    return Vec::new();
                };
                let mut scope: Option<HostScope> = None;
                let mut out: Vec<OpenCve> = Vec::new();
                for e in exposures {
                    let name = self.cves.name(e.cve);
                    if triage.has_exceptions(name) {
                        let p = &self.packages[e.package as usize];
                        let scope =
                            scope.get_or_insert_with(|| HostScope::new(site, groups, &key.os));
                        let matched = if e.by_source {
                            kernel::source_alias(&p.source_name)
                        } else {
                            Cow::Borrowed(p.name.as_str())
                        };
                        if triage
                            .exception_matching(scope, name, &p.name, &matched, &p.evr())
                            .is_some()
                        {
                            continue;
                        }
                    }
                    let tagged = *tagged_memo
                        .entry((e.cve, e.severity))
                        .or_insert_with(|| !triage.tags_for(name, e.severity).is_empty());
                    // Sorted by CVE: a CVE's exposures are consecutive.
                    match out.last_mut() {
                        Some(last) if last.cve == e.cve => {
                            last.tagged |= tagged;
                            last.severity = last.severity.max(e.severity);
                        }
                        _ => out.push(OpenCve {
                            cve: e.cve,
                            severity: e.severity,
                            tagged,
                        }),
                    }
                }
                out
            })
            .collect();
        OpenCves {
            names: self.cves.names.iter().map(|n| n.to_string()).collect(),
            per_key,
        }
    }
}

fn log_stats(stats: &UpdateStats, message: &'static str) {
    tracing::info!(
        hosts = stats.hosts,
        assessed = stats.assessed,
        packages_matched = stats.packages_matched,
        sets_loaded = stats.sets_loaded,
        findings = stats.findings,
        load_ms = stats.load.as_millis() as u64,
        ms = stats.elapsed.as_millis() as u64,
        "{message}"
    );
}

/// Matches every job on all cores; results in job order. OVAL feeds are
/// evaluated on the whole set; for a `partial` job only their findings on
/// the job's packages are kept.
fn run_jobs(
    loaded: &LoadedIndex,
    all: &[Package],
    jobs: &[Job<'_>],
    partial: bool,
) -> Vec<Vec<Finding>> {
    let index = &loaded.index;
    let mut scopes: HashMap<&OsRelease, Vec<patchwatch_assess::ScopeId>> = HashMap::new();
    for j in jobs {
        scopes
            .entry(&j.key.os)
            .or_insert_with(|| index.scopes_for(&j.key.os));
    }
    let slots: Vec<Mutex<Vec<Finding>>> = jobs.iter().map(|_| Mutex::new(Vec::new())).collect();
    let next = AtomicUsize::new(0);
    let worker =
        || {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let mut findings = assess_refs_in_scopes(
                    index,
                    &scopes[&job.key.os],
                    &job.key.kernel,
                    job.packages.clone(),
                );
                if !loaded.oval.is_empty() {
                    let whole: Vec<Package> = job
                        .members
                        .iter()
                        .map(|&n| all[n as usize].clone())
                        .collect();
                    let set = PackageSet {
                        os: &job.key.os,
                        kernel: &job.key.kernel,
                        packages: &whole,
                    };
                    findings.extend(oval_set_findings(loaded, &set).into_iter().filter(|f| {
                        !partial || job.packages.iter().any(|p| p.name == f.package())
                    }));
                }
                *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = findings;
            }
        };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect()
}
